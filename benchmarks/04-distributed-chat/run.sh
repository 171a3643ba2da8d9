#!/usr/bin/env bash
# Lesson 04's benchmark: one room spread over two distributed_chat servers and one Redis,
# loaded with lesson 03's chat_load (receivers and senders spread over both servers), beside
# one server alone on the same Redis, and redis-benchmark's PUBLISH rate as the ceiling.
# Prints one JSON line per scenario, then redis-benchmark's summary.
#
#   benchmarks/04-distributed-chat/run.sh         # uses build-release/ (cmake --preset release)
#   BUILD=/path/to/build benchmarks/04-distributed-chat/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
LOAD="$BUILD/benchmarks/03-chat-server/chat_load"
CHAT="$BUILD/solutions/04-distributed-chat/distributed_chat"
# processes.sh: TMP, start NAME COMMAND..., stop PID, free_port; what is left is stopped at exit
source "$ROOT/benchmarks/processes.sh"
need_built "bench_03_chat_load solutions_04_distributed_chat" "$LOAD" "$CHAT"
command -v redis-server >/dev/null || { echo "needs redis-server (./workshop doctor)" >&2; exit 2; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
for i in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

start one "$CHAT" --port 0 --redis "127.0.0.1:$redis_port" --channel bench
one=$PORT
start two "$CHAT" --port 0 --redis "127.0.0.1:$redis_port" --channel bench
two=$PORT
sleep 0.5  # both subscribed

scenario() {  # scenario LABEL chat_load-flags...
  printf '%s: ' "$1"; shift
  "$LOAD" "$@" --timeout 60
}
# Throughput: senders as fast as they can (latency then is mostly queueing); latency: a light
# steady load (50 lines/s in all, 50,000 deliveries/s).
both="127.0.0.1:$one,127.0.0.1:$two"
scenario "1 server, 1 sender, 100 receivers" --server "127.0.0.1:$one" -s 1 -r 100 -n 5000 -b 64
scenario "2 servers, 1 sender, 100 receivers" --server "$both" -s 1 -r 100 -n 5000 -b 64
scenario "2 servers, 10 senders, 100 receivers" --server "$both" -s 10 -r 100 -n 1000 -b 64
scenario "2 servers, 10 senders at 5 lines/s each, 1000 receivers" --server "$both" \
  -s 10 -r 1000 -n 100 -b 64 --rate 5

payload=payload-of-64-bytes-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
echo "redis-benchmark PUBLISH (the ceiling: the same Redis, 50 connections," \
  "a channel nobody listens to):"
redis-benchmark -p "$redis_port" -q -n 200000 publish ceiling "$payload" | tr '\r' '\n' | tail -n 1
echo "redis-benchmark PUBLISH, pipelined 16 deep:"
redis-benchmark -p "$redis_port" -q -n 500000 -P 16 publish ceiling "$payload" |
  tr '\r' '\n' | tail -n 1
