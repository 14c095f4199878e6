# shellcheck shell=sh
# RunMat installer telemetry, for POSIX sh installers (dash, bash, zsh, ash).
#
# Usage, from an installer script:
#   . ./runmat-telemetry.sh
#   runmat_telemetry_send install_start
#   ... install ...
#   runmat_telemetry_send install_complete     # or install_failed
#
# What it does: sends one small JSON event (event_label, os, arch, platform,
# release, method, cid, session_id, run_kind=install, uuid) to the RunMat
# collector with a 3-second limit, using curl or wget if either exists. It
# never fails the install: every path returns 0 and nothing is printed.
#
# Opt-outs (nothing is sent and no id file is created):
#   RUNMAT_NO_TELEMETRY=1, RUNMAT_TELEMETRY=0, DO_NOT_TRACK=1
# Settings:
#   RUNMAT_TELEMETRY_ENDPOINT  collector URL (default https://api.runmat.com/v1/t)
#   RUNMAT_TELEMETRY_KEY       ingestion key, sent as x-telemetry-key
#   RUNMAT_RELEASE             version being installed (e.g. 0.4.9)
#   RUNMAT_INSTALL_METHOD      shell (default) or powershell
#   RUNMAT_INSTALL_PLATFORM    overrides the <os>-<arch> platform tag
# The anonymous id is shared with RunMat itself: ~/.runmat/telemetry_id.
# Each event is sent at most once per shell that sourced this file.

_runmat_tl_is_true() {
  case "${1:-}" in 1 | true | TRUE | True | yes | YES | on | ON) return 0 ;; esac
  return 1
}

_runmat_tl_is_false() {
  case "${1:-}" in 0 | false | FALSE | False | no | NO | off | OFF) return 0 ;; esac
  return 1
}

_runmat_tl_opted_out() {
  _runmat_tl_is_true "${RUNMAT_NO_TELEMETRY:-}" && return 0
  _runmat_tl_is_false "${RUNMAT_TELEMETRY:-}" && return 0
  _runmat_tl_is_true "${DO_NOT_TRACK:-}" && return 0
  return 1
}

# Succeeds when $1 is a short token of the contract's safe alphabet; only such
# values are put into the JSON, so it needs no escaping and carries no paths.
_runmat_tl_safe() {
  case "${1:-}" in '' | *[!A-Za-z0-9._+:-]* | [!A-Za-z0-9]*) return 1 ;; esac
  [ "${#1}" -le 64 ]
}

_runmat_tl_uuid() {
  _u=''
  if [ -r /proc/sys/kernel/random/uuid ]; then
    _u=$(cat /proc/sys/kernel/random/uuid 2>/dev/null)
  fi
  if [ -z "$_u" ] && command -v uuidgen >/dev/null 2>&1; then
    _u=$(uuidgen 2>/dev/null | tr 'ABCDEF' 'abcdef')
  fi
  if [ -z "$_u" ]; then
    # Version-4 layout from 16 random bytes.
    _u=$(od -An -N16 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n' |
      sed 's/^\(.\{8\}\)\(.\{4\}\).\(.\{3\}\).\(.\{3\}\)\(.\{12\}\)$/\1-\2-4\3-a\4-\5/')
  fi
  printf '%s' "$_u"
}

# The id in ~/.runmat/telemetry_id, created (user-only, via temp file + link so
# no reader sees half an id) when missing; a per-shell id if home is unusable.
_runmat_tl_cid() {
  _home=${HOME:-}
  [ -n "${USERPROFILE:-}" ] && [ -z "$_home" ] && _home=$USERPROFILE
  _file="$_home/.runmat/telemetry_id"
  _id=''
  if [ -n "$_home" ] && [ -r "$_file" ]; then
    _id=$(head -n 1 "$_file" 2>/dev/null | tr -d '\r')
  fi
  if ! _runmat_tl_safe "$_id"; then
    _id=$(_runmat_tl_uuid)
    if [ -n "$_home" ]; then
      (
        umask 077
        mkdir -p "$_home/.runmat" 2>/dev/null || exit 0
        _tmp="$_file.$$.tmp"
        printf '%s\n' "$_id" >"$_tmp" 2>/dev/null || exit 0
        ln "$_tmp" "$_file" 2>/dev/null || mv -f "$_tmp" "$_file" 2>/dev/null
        rm -f "$_tmp" 2>/dev/null
      ) || true
      _stored=$(head -n 1 "$_file" 2>/dev/null | tr -d '\r')
      # Another process may have won the race: adopt its id.
      _runmat_tl_safe "$_stored" && _id=$_stored
    fi
  fi
  printf '%s' "$_id"
}

_runmat_tl_os() {
  case "$(uname -s 2>/dev/null)" in
    Linux*) printf linux ;;
    Darwin*) printf macos ;;
    MINGW* | MSYS* | CYGWIN* | Windows*) printf windows ;;
    FreeBSD*) printf freebsd ;;
    *) printf unknown ;;
  esac
}

_runmat_tl_arch() {
  case "$(uname -m 2>/dev/null)" in
    x86_64 | amd64) printf x86_64 ;;
    arm64 | aarch64) printf aarch64 ;;
    *) printf unknown ;;
  esac
}

_runmat_tl_post() {
  _url=$1
  _body=$2
  # Header values must not contain line breaks.
  _key=$(printf '%s' "${RUNMAT_TELEMETRY_KEY:-}" | tr -d '\r\n')
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$_key" ]; then
      curl -sS -o /dev/null -m 3 --connect-timeout 2 -X POST \
        -H 'content-type: application/json' -H "x-telemetry-key: $_key" \
        --data "$_body" "$_url" >/dev/null 2>&1 || true
    else
      curl -sS -o /dev/null -m 3 --connect-timeout 2 -X POST \
        -H 'content-type: application/json' \
        --data "$_body" "$_url" >/dev/null 2>&1 || true
    fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -n "$_key" ]; then
      wget -q -O /dev/null -T 3 --tries=1 --header='content-type: application/json' \
        --header="x-telemetry-key: $_key" --post-data="$_body" "$_url" >/dev/null 2>&1 || true
    else
      wget -q -O /dev/null -T 3 --tries=1 --header='content-type: application/json' \
        --post-data="$_body" "$_url" >/dev/null 2>&1 || true
    fi
  fi
  return 0
}

# runmat_telemetry_send <install_start|install_complete|install_failed>
runmat_telemetry_send() {
  case "${1:-}" in install_start | install_complete | install_failed) ;; *) return 0 ;; esac
  _runmat_tl_opted_out && return 0
  case " ${_RUNMAT_TL_SENT:-} " in *" $1 "*) return 0 ;; esac
  _RUNMAT_TL_SENT="${_RUNMAT_TL_SENT:-} $1"
  if ! _runmat_tl_safe "${_RUNMAT_TL_SESSION:-}"; then
    _RUNMAT_TL_SESSION=$(_runmat_tl_uuid)
  fi
  _cid=$(_runmat_tl_cid)
  _os=$(_runmat_tl_os)
  _arch=$(_runmat_tl_arch)
  _platform=${RUNMAT_INSTALL_PLATFORM:-$_os-$_arch}
  _runmat_tl_safe "$_platform" || _platform="$_os-$_arch"
  _method=${RUNMAT_INSTALL_METHOD:-shell}
  case "$_method" in shell | powershell) ;; *) _method=shell ;; esac
  _uuid=$(_runmat_tl_uuid)
  _uuidf=''
  case "$_uuid" in
    [0-9a-f]*-*-*-*-*) [ "${#_uuid}" -eq 36 ] && _uuidf=$(printf ',"uuid":"%s"' "$_uuid") ;;
  esac
  _release=''
  _runmat_tl_safe "${RUNMAT_RELEASE:-}" && _release=$(printf ',"release":"%s"' "$RUNMAT_RELEASE")
  _cidf=''
  _runmat_tl_safe "$_cid" && _cidf=$(printf ',"cid":"%s"' "$_cid")
  _runmat_tl_safe "$_RUNMAT_TL_SESSION" || return 0
  _json=$(printf '{"event_label":"%s","session_id":"%s","os":"%s","arch":"%s","platform":"%s","method":"%s","run_kind":"install"%s%s%s}' \
    "$1" "$_RUNMAT_TL_SESSION" "$_os" "$_arch" "$_platform" "$_method" "$_uuidf" "$_release" "$_cidf")
  _runmat_tl_post "${RUNMAT_TELEMETRY_ENDPOINT:-https://api.runmat.com/v1/t}" "$_json"
  return 0
}
