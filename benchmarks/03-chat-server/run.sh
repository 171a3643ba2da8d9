#!/usr/bin/env bash
# Lesson 03's end-to-end scenarios: a fresh release chat_server per scenario, chat_load against
# it, one JSON line each (plus the server's peak memory, VmHWM, in KiB).
#
#   cmake --preset release && cmake --build --preset release -j2
#   benchmarks/03-chat-server/run.sh            # BUILD=build-other to use another build dir
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
SERVER="$BUILD/solutions/03-chat-server/chat_server"
LOAD="$BUILD/benchmarks/03-chat-server/chat_load"
# processes.sh: TMP, start NAME COMMAND..., stop PID, free_port; what is left is stopped at exit
source "$ROOT/benchmarks/processes.sh"
need_built "solutions_03_chat_server bench_03_chat_load" "$SERVER" "$LOAD"

# scenario SENDERS RECEIVERS LINES BYTES [extra chat_load flags]
scenario() {
  local senders=$1 receivers=$2 lines=$3 bytes=$4
  shift 4
  start chat_server "$SERVER" --port 0
  local result hwm
  result=$("$LOAD" --server "127.0.0.1:$PORT" --senders "$senders" --receivers "$receivers" \
    --lines "$lines" --bytes "$bytes" "$@")
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")
  stop "$PID"
  echo "${result%\}},\"server_vmhwm_kib\":$hwm}"
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
scenario 1 100 2000 64
scenario 1 1000 200 64
scenario 10 200 100 64
scenario 1 100 2000 64 --rate 1000  # paced: latency without a self-made queue
