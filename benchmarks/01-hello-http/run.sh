#!/usr/bin/env bash
# Lesson 01's load run: 10,000 clients at once against hello_http (release build). Each should
# get its whole answer about one delay after asking. Prints hello_load's JSON line.
#
#   benchmarks/01-hello-http/run.sh [CLIENTS]   (default 10000; DELAY_MS=1000, BUILD=build-release)
#
# Every client is two descriptors on this machine (its own and the server's), one in each
# process: the server and hello_load each need CLIENTS of them, so raise the soft limit first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
CLIENTS="${1:-10000}"
DELAY_MS="${DELAY_MS:-1000}"

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CLIENTS + 100)) ]; then
  echo "run.sh: the open-file limit is $(ulimit -n); $CLIENTS clients need more (ulimit -Hn)" >&2
  exit 2
fi

[ -f "$BUILD/CMakeCache.txt" ] || cmake --preset release -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j2 --target solutions_01_hello_http bench_01_hello_load >/dev/null

ready="$(mktemp)"
log="$(mktemp)"
"$BUILD/solutions/01-hello-http/hello_http" --port 0 --delay-ms "$DELAY_MS" >"$ready" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$ready" "$log"' EXIT

port=$(python3 "$ROOT/tools/wslib.py" wait-ready "$ready" "$server" 5) ||
  { echo "run.sh: hello_http did not start: $(cat "$log")" >&2; exit 1; }

echo "hello_http (pid $server) on port $port, --delay-ms $DELAY_MS; $CLIENTS clients at once:" >&2
status=0
"$BUILD/benchmarks/01-hello-http/hello_load" --port "$port" --clients "$CLIENTS" || status=$?

kill -TERM "$server"
wait "$server" || true
if [ -s "$log" ]; then
  echo "hello_http's log: $(wc -l <"$log") lines, e.g. $(head -n1 "$log")" >&2
fi
exit "$status"
