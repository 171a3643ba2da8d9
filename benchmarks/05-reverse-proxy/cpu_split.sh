#!/usr/bin/env bash
# Where a proxy's figure is bounded, on a two-core machine: the proxy pinned to core 0, the echo
# backend and the load on core 1, as `./workshop compare` lays them out. Prints, for the load
# straight to the backend and then for each proxy in turn, the figure and the share of a core
# each process used over the load (from /proc/PID/stat): the core that is full is the bound.
#
#   benchmarks/05-reverse-proxy/cpu_split.sh              # proxy_bench throughput --connections 8
#   LOAD=short benchmarks/05-reverse-proxy/cpu_split.sh   # proxy_bench connections --threads 4
#   BUILD=... SECONDS_EACH=5 ROUNDS=2 PROXY=path/to/another/reverse_proxy
#   ECHO_CORE=0                                           # the backend beside the proxy instead
# Proxies: reverse_proxy (the lesson's read + write), proxy_bench splice-proxy (the splice(2)
# experiment, bulk only) and HAProxy with one thread and a log line per connection (as
# compare.py runs it), when installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-$ROOT/build-release}"
SECONDS_EACH="${SECONDS_EACH:-5}"
ROUNDS="${ROUNDS:-2}"
BENCH="$BUILD/benchmarks/05-reverse-proxy/proxy_bench"
PROXY="${PROXY:-$BUILD/solutions/05-reverse-proxy/reverse_proxy}"
LOAD="${LOAD:-bulk}"
ECHO_CORE="${ECHO_CORE:-1}"
# processes.sh: TMP, start NAME COMMAND..., stop PID, free_port; what is left is stopped at exit
source "$ROOT/benchmarks/processes.sh"
need_built "bench_05_proxy solutions_05_reverse_proxy" "$BENCH" "$PROXY"
[ "$(nproc)" -ge 2 ] || { echo "needs two cores" >&2; exit 2; }

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# share TICKS0 TICKS1 SECONDS: the % of a core used between the two readings of ticks
share() { echo $(( ($2 - $1) * 100 / ($(getconf CLK_TCK) * $3) )); }

start echo taskset -c "$ECHO_CORE" "$BENCH" echo --port 0
echo_pid=$PID echo_port=$PORT

# measure NAME PROXY_PID PORT: one load run through PORT, with every process's share of a core
# (PROXY_PID - for none: the load straight to the backend)
measure() {
  local name="$1" proxy_pid="$2" port="$3" load_pid p0=0 e0 l0 window
  if [ "$LOAD" = short ]; then
    taskset -c 1 "$BENCH" connections --port "$port" --threads 4 --seconds "$SECONDS_EACH" \
      >"$TMP/load.out" &
  else
    taskset -c 1 "$BENCH" throughput --port "$port" --connections 8 --seconds "$SECONDS_EACH" \
      >"$TMP/load.out" &
  fi
  load_pid=$!
  sleep 1  # past proxy_bench's warm-up
  window=$((SECONDS_EACH - 1))
  [ "$proxy_pid" = - ] || p0=$(ticks "$proxy_pid")
  e0=$(ticks "$echo_pid") l0=$(ticks "$load_pid")
  sleep "$window"
  local p1=0 e1 l1 proxy_share=-
  [ "$proxy_pid" = - ] || p1=$(ticks "$proxy_pid")
  e1=$(ticks "$echo_pid") l1=$(ticks "$load_pid")
  wait "$load_pid"
  local echo_share load_share
  echo_share=$(share "$e0" "$e1" "$window") load_share=$(share "$l0" "$l1" "$window")
  [ "$proxy_pid" = - ] || proxy_share="$(share "$p0" "$p1" "$window")%"
  printf '| %s | %s | %s | %s%% | %s%% | %s%% |\n' "$name" \
    "$(sed -n 's/.*\(MiB\/s\|per_second\)=\([0-9]*\).*/\2/p' "$TMP/load.out")" "$proxy_share" \
    "$echo_share" "$load_share" "$((echo_share + load_share))"
}

figure="MiB/s, 8 connections"
[ "$LOAD" = short ] && figure="short connections/s"
echo "| proxy on core 0 | $figure | proxy (core 0) | echo backend (core $ECHO_CORE)" \
  "| load tool (core 1) | backend + load |"
echo "|---|---:|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  measure "none: the load straight to the backend" - "$echo_port"
  start proxy taskset -c 0 "$PROXY" --port 0 --backend "127.0.0.1:$echo_port"
  measure "reverse_proxy (read + write)" "$PID" "$PORT"; stop "$PID"
  if [ "$LOAD" != short ]; then
    start splice taskset -c 0 "$BENCH" splice-proxy --port 0 --backend-port "$echo_port"
    measure "splice(2) (proxy_bench splice-proxy)" "$PID" "$PORT"; stop "$PID"
  fi
  if command -v haproxy >/dev/null; then
    start_haproxy "$echo_port" taskset -c 0
    measure "HAProxy, 1 thread, a log line per connection" "$PID" "$PORT"; stop "$PID"
  fi
done
