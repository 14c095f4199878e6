#!/usr/bin/env bash
# Produce one app's self-contained runtime bundle: its built dist/, its
# package.json and production dependencies only (workspace packages copied in,
# not linked). The app Dockerfiles run this same script, so what the infra tests
# start from a temp directory is what the container runs.
#
#   infra/scripts/prune-app.sh <worker|udp-forwarder> <outdir>
#
# Env: PRUNE_SKIP_BUILD=1 skips the turbo build (the caller already built).
set -euo pipefail

usage() {
  echo "usage: $0 <worker|udp-forwarder> <outdir>" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
app="$1"
outdir="$2"
case "$app" in
  worker | udp-forwarder) ;;
  *)
    echo "prune-app: unknown app \"$app\" (expected worker or udp-forwarder)" >&2
    exit 2
    ;;
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pkg="@runmat-telemetry/$app"

# pnpm deploy refuses a non-empty target; a stale bundle would also hide
# missing files, so always start from nothing.
mkdir -p "$(dirname "$outdir")"
outdir="$(cd "$(dirname "$outdir")" && pwd)/$(basename "$outdir")"
rm -rf "$outdir"

# pnpm may only be reachable through the pnpm that launched us (npx pnpm ...).
if command -v pnpm >/dev/null 2>&1; then
  PNPM=(pnpm)
elif [[ "${npm_execpath:-}" == *pnpm* ]]; then
  PNPM=(node "$npm_execpath")
else
  # The version the repository pins (packageManager), without corepack's hash.
  pm="$(node -p "require('$repo_root/package.json').packageManager")"
  PNPM=(npx --yes "${pm%%+*}")
fi

cd "$repo_root"
if [[ "${PRUNE_SKIP_BUILD:-0}" != "1" ]]; then
  # turbo builds the app and its workspace dependencies (^build) and reuses
  # its cache, so re-running this script is cheap.
  "${PNPM[@]}" exec turbo run build --filter="$pkg" --output-logs=errors-only
fi

# --legacy: pnpm 10 only deploys non-injected workspaces through the legacy
# path. --prefer-offline: the store already holds every package after install;
# this keeps the script working on machines and builders without a registry.
# The target is a path relative to the workspace root: given an absolute path
# outside it, legacy deploy links node_modules/.bin under
# <workspace>/<that path> instead of inside the bundle. The staging dir is
# git- and docker-ignored and moved into place afterwards (the bundle's
# symlinks are relative, so the move keeps them valid).
staging=".pruned/$app.$$"
trap 'rm -rf "$repo_root/$staging"; rmdir "$repo_root/.pruned" 2>/dev/null || true' EXIT
"${PNPM[@]}" --filter "$pkg" deploy --prod --legacy --prefer-offline "$staging" >/dev/null
mv "$staging" "$outdir"

if [[ ! -f "$outdir/dist/server.js" ]]; then
  echo "prune-app: $outdir/dist/server.js missing; did the build run?" >&2
  exit 1
fi
echo "$outdir"
