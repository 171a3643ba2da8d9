#!/usr/bin/env bash
# Makes event-loop-trace.svg: the event loop of a real run of lesson 01's hello_http.
# Builds hello_http with Asio's handler tracking (-DASIO_ENABLE_HANDLER_TRACKING: every async
# operation and every handler run is logged on stderr) in its own build folder, starts it,
# sends it four curl clients a little apart (the last asks twice on one kept-alive connection),
# stops it, keeps the log (event-loop-trace.log) and draws it (draw_handlers.py).
#   slides/diagrams/trace-event-loop.sh [BUILD_DIR]      default: build-trace/ at the repo root
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${1:-$ROOT/build-trace}"

cmake --preset default -S "$ROOT" -B "$BUILD" -DWORKSHOP_TESTS=OFF \
      -DCMAKE_CXX_FLAGS=-DASIO_ENABLE_HANDLER_TRACKING >/dev/null
cmake --build "$BUILD" -j2 --target solutions_01_hello_http >/dev/null

log="$HERE/event-loop-trace.log"
ready=$(mktemp)
"$BUILD/solutions/01-hello-http/hello_http" --port 0 --delay-ms 1000 >"$ready" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$ready"' EXIT
port=$(python3 "$ROOT/tools/wslib.py" wait-ready "$ready" "$server" 5) ||
  { echo "trace-event-loop.sh: hello_http did not start" >&2; exit 1; }
url="http://127.0.0.1:$port/"

clients=()
for i in 1 2 3; do
  curl -s -N "$url" >/dev/null & clients+=($!)
  sleep 0.25
done
curl -s -N "$url" "$url" >/dev/null & clients+=($!)  # two requests, one connection (keep-alive)
wait "${clients[@]}"
sleep 0.2
kill -INT $server
wait $server || true

python3 "$HERE/draw_handlers.py" "$log" \
  "hello_http and four curl clients: bars are what each waits for, ticks the thread at work" \
  >"$HERE/event-loop-trace.svg"
echo "wrote $HERE/event-loop-trace.svg from $(grep -c '^@asio' "$log") handler-tracking lines" >&2
