#!/bin/sh
# The worker image's entrypoint: sizes V8's old space from the container's
# memory budget (MEMORY_LIMIT_MIB, else the cgroup limit; the same rule the
# worker sizes its queues and dedupe window by), then runs the command
# (CMD: node dist/server.js) in the shell's place: node becomes the
# container's main process and gets Cloud Run's SIGTERM itself.
set -eu
cd "$(dirname "$0")/.."
flag="$(node dist/memory/heap-flag.js)"
if [ -n "$flag" ]; then
  NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }$flag"
  export NODE_OPTIONS
fi
exec "$@"
