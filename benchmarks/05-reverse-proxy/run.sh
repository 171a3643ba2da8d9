#!/usr/bin/env bash
# Lesson 05's benchmark: bulk throughput (1 and 8 connections) and short connections per second,
# through reverse_proxy, through HAProxy (when installed), and straight to the echo backend
# (the ceiling). Prints a markdown table for benchmarks/README.md.
#
#   benchmarks/05-reverse-proxy/run.sh            # uses build-release/ (cmake --preset release)
#   BUILD=/path/to/build SECONDS_EACH=5 benchmarks/05-reverse-proxy/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
SECONDS_EACH="${SECONDS_EACH:-3}"
BENCH="$BUILD/benchmarks/05-reverse-proxy/proxy_bench"
PROXY="$BUILD/solutions/05-reverse-proxy/reverse_proxy"
[ -x "$BENCH" ] && [ -x "$PROXY" ] || {
  echo "build first: cmake --preset release && cmake --build --preset release --target bench_05_proxy solutions_05_reverse_proxy" >&2
  exit 2
}

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# start NAME COMMAND...: runs it in the background, waits for its ready line, sets PORT.
# (Not called in $(...): a subshell would keep the pid to itself.)
start() {
  local name="$1"; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  local i
  for i in $(seq 100); do
    if grep -q '^listening on ' "$TMP/$name.out"; then
      PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$TMP/$name.out" | head -n1)
      return 0
    fi
    sleep 0.05
  done
  echo "$name did not start: $(cat "$TMP/$name.err")" >&2
  exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start echo "$BENCH" echo --port 0
echo_port=$PORT
start proxy "$PROXY" --port 0 --backend "127.0.0.1:$echo_port"
proxy_port=$PORT
targets=("direct (the ceiling):$echo_port" "reverse_proxy:$proxy_port")

if command -v haproxy >/dev/null; then
  haproxy_port=$(free_port)
  cat >"$TMP/haproxy.cfg" <<CFG
global
  nbthread 1
  maxconn 8000
defaults
  mode tcp
  timeout connect 1s
  timeout client 60s
  timeout server 60s
listen proxy
  bind 127.0.0.1:$haproxy_port
  balance roundrobin
  server echo 127.0.0.1:$echo_port
CFG
  haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.err" 2>&1 &
  PIDS+=($!)
  for i in $(seq 100); do  # ready once it accepts
    (exec 3<>"/dev/tcp/127.0.0.1/$haproxy_port") 2>/dev/null && break
    sleep 0.05
  done
  targets+=("HAProxy $(haproxy -v | sed -n '1s/HAProxy version \([0-9.]*\).*/\1/p'), 1 thread:$haproxy_port")
fi

field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

echo "| through | 1 connection, MiB/s | 8 connections, MiB/s | short connections/s (4 threads) |"
echo "|---|---:|---:|---:|"
for target in "${targets[@]}"; do
  name="${target%:*}"; port="${target##*:}"
  one=$("$BENCH" throughput --port "$port" --connections 1 --seconds "$SECONDS_EACH" | field 'MiB\/s')
  eight=$("$BENCH" throughput --port "$port" --connections 8 --seconds "$SECONDS_EACH" | field 'MiB\/s')
  rate=$("$BENCH" connections --port "$port" --threads 4 --seconds "$SECONDS_EACH" | field per_second)
  echo "| $name | $one | $eight | $rate |"
done
