#!/usr/bin/env bash
# What a chat server pays per delivered line, and where: system calls per delivered line and
# server CPU per delivered line (perf stat over the load phase alone), for our chat_server and
# the talk's Node.js one, in turn, SENDERS (1) x R receivers, each sender writing --per-write
# lines a write (1: as a chat client does), or RATE lines/s each when RATE is set. With
# PROFILE=1 it also records our server's profile (perf record -g) and prints its top entries.
#
#   cmake --preset release &&
#     cmake --build --preset release --target solutions_03_chat_server bench_03_chat_load
#   (cd reference/node && npm ci)
#   benchmarks/03-chat-server/syscalls.sh [PER_WRITE [LINES [RECEIVERS [ROUNDS]]]]   # 1 10000 100 3
#
# Server on core 0, load on core 1 (SERVER_CORE, LOAD_CORE). perf must be allowed to watch the
# server (root, or kernel.perf_event_paranoid <= 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
SERVER="${SERVER:-$BUILD/solutions/03-chat-server/chat_server}"  # or another build of it
LOAD="$BUILD/benchmarks/03-chat-server/chat_load"
PER_WRITE="${1:-1}" LINES="${2:-10000}" RECEIVERS="${3:-100}" ROUNDS="${4:-3}"
SERVER_CORE="${SERVER_CORE:-0}" LOAD_CORE="${LOAD_CORE:-1}"
# processes.sh: TMP, start NAME COMMAND..., stop PID, free_port; what is left is stopped at exit
source "$ROOT/benchmarks/processes.sh"
need_built "solutions_03_chat_server bench_03_chat_load" "$SERVER" "$LOAD"
command -v perf >/dev/null || { echo "perf is not installed (Debian: linux-perf)" >&2; exit 2; }

# measure KIND COMMAND...: one run; prints KIND, the load's JSON figures and perf's counts.
measure() {
  local kind="$1"; shift
  start "$kind" taskset -c "$SERVER_CORE" "$@" --host 127.0.0.1 --port 0
  local server=$PID
  coproc LOADER { taskset -c "$LOAD_CORE" "$LOAD" --server "127.0.0.1:$PORT" \
    --senders "${SENDERS:-1}" --receivers "$RECEIVERS" --lines "$LINES" --bytes 64 \
    --per-write "$PER_WRITE" ${RATE:+--rate "$RATE"} --phases; }
  local line perf_pid record_pid=""
  read -r line <&"${LOADER[0]}"  # {"phase":"connected"}
  perf stat -e raw_syscalls:sys_enter,task-clock -x, -o "$TMP/$kind.stat" -p "$server" &
  perf_pid=$!
  if [ "${PROFILE:-0}" = 1 ] && [ "$kind" = cpp ]; then
    perf record -e cpu-clock -g -o "$TMP/cpp.data" -p "$server" 2>/dev/null &
    record_pid=$!
  fi
  sleep 0.2  # perf attached
  echo go >&"${LOADER[1]}"
  read -r line <&"${LOADER[0]}"  # the result
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  [ -n "$record_pid" ] && { kill -INT "$record_pid"; wait "$record_pid" || true; }
  exec {LOADER[1]}>&-
  wait "$LOADER_PID" || true
  stop "$server"
  python3 - "$kind" "$line" "$TMP/$kind.stat" <<'EOF'
import json, sys
kind, result, stat = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
counts = {}
for row in open(stat):
    parts = row.strip().split(",")
    if len(parts) > 2 and parts[0].replace(".", "").isdigit():
        counts[parts[2]] = float(parts[0])
delivered = result["delivered"]
print(f"{kind:5} lines/s {result['lines_per_s']:>11,.0f}  p50 {result['p50_us'] / 1000:6.2f} ms  "
      f"p99 {result['p99_us'] / 1000:6.2f} ms  syscalls/line "
      f"{counts.get('raw_syscalls:sys_enter', 0) / delivered:.4f}  CPU/line "
      f"{counts.get('task-clock', 0) * 1000 / delivered:.3f} us (includes perf's 0.2 s wait)")
EOF
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "${SENDERS:-1} sender(s) x $RECEIVERS receivers, $LINES lines of 64 bytes each," \
  "${RATE:+$RATE lines/s, }$PER_WRITE a write (0: all in one); server on core $SERVER_CORE," \
  "load on core $LOAD_CORE"
for round in $(seq "$ROUNDS"); do
  measure cpp "$SERVER"
  measure node node "$ROOT/reference/node/chat_server.js"
done
if [ "${PROFILE:-0}" = 1 ]; then
  perf report -i "$TMP/cpp.data" --no-children --sort symbol --percent-limit 2 --stdio \
    -g none 2>/dev/null | grep -v "^#" | grep -v "^$" | head -40
fi
