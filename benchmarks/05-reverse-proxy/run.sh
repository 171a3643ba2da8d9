#!/usr/bin/env bash
# Lesson 05's benchmark: bulk throughput (1 and 8 connections) and short connections per second,
# through reverse_proxy, through HAProxy (when installed), and straight to the echo backend
# (the ceiling); and an experiment, the proxy's pipe() with Linux splice(2) (proxy_bench
# splice-proxy). Prints a markdown table for benchmarks/README.md.
#
#   benchmarks/05-reverse-proxy/run.sh            # uses build-release/ (cmake --preset release)
#   BUILD=/path/to/build SECONDS_EACH=5 ROUNDS=5 benchmarks/05-reverse-proxy/run.sh
# Each figure is the best of ROUNDS runs: on a shared machine the best run is the one the
# neighbours disturbed least.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
SECONDS_EACH="${SECONDS_EACH:-3}"
ROUNDS="${ROUNDS:-3}"
BENCH="$BUILD/benchmarks/05-reverse-proxy/proxy_bench"
PROXY="$BUILD/solutions/05-reverse-proxy/reverse_proxy"
# processes.sh: TMP, start NAME COMMAND..., stop PID, free_port; what is left is stopped at exit
source "$ROOT/benchmarks/processes.sh"
need_built "bench_05_proxy solutions_05_reverse_proxy" "$BENCH" "$PROXY"

start echo "$BENCH" echo --port 0
echo_port=$PORT
start proxy "$PROXY" --port 0 --backend "127.0.0.1:$echo_port"
proxy_port=$PORT
start splice "$BENCH" splice-proxy --port 0 --backend-port "$echo_port"
splice_port=$PORT
targets=("direct (the ceiling):$echo_port" "reverse_proxy:$proxy_port"
         "pipe() with splice(2) (experiment):$splice_port")

if command -v haproxy >/dev/null; then
  start_haproxy "$echo_port"
  version=$(haproxy -v | sed -n '1s/HAProxy version \([0-9.]*\).*/\1/p')
  targets+=("HAProxy $version, 1 thread, a log line per connection:$PORT")
fi

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

# best FIELD COMMAND...: the highest FIELD over ROUNDS runs of COMMAND
best() {
  local name="$1" top=0 value i; shift
  for i in $(seq "$ROUNDS"); do
    value=$("$@" | field "$name")
    [ "${value:-0}" -gt "$top" ] && top=$value
  done
  echo "$top"
}

echo "| through | 1 connection, MiB/s | 8 connections, MiB/s | short connections/s (4 threads) |"
echo "|---|---:|---:|---:|"
for target in "${targets[@]}"; do
  name="${target%:*}"; port="${target##*:}"
  one=$(best 'MiB\/s' "$BENCH" throughput --port "$port" --connections 1 --seconds "$SECONDS_EACH")
  eight=$(best 'MiB\/s' "$BENCH" throughput --port "$port" --connections 8 \
    --seconds "$SECONDS_EACH")
  rate=$(best per_second "$BENCH" connections --port "$port" --threads 4 --seconds "$SECONDS_EACH")
  echo "| $name | $one | $eight | $rate |"
done
