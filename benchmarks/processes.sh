# Sourced by the benchmarks' shell scripts (after they set ROOT): a temporary folder, the
# processes they start in the background, and stopping them all, by pid, when the script ends.
#   source "$ROOT/benchmarks/processes.sh"
#   need_built "bench_05_proxy solutions_05_reverse_proxy" "$BENCH" "$PROXY"   # or exit 2
#   start echo taskset -c 1 "$BENCH" echo --port 0   # sets PORT (from its ready line) and PID
#   start_haproxy "$echo_port" taskset -c 0          # the same, for HAProxy in front of a backend
#   stop "$PID"
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# start NAME COMMAND...: runs it in the background, waits for its ready line, sets PORT and PID.
# (Not called in $(...): a subshell would keep the pid to itself.)
start() {
  local name="$1"; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PID=$!
  PIDS+=("$PID")
  PORT=$(python3 "$ROOT/tools/wslib.py" wait-ready "$TMP/$name.out" "$PID" 5) && return 0
  echo "$name did not start: $(cat "$TMP/$name.err")" >&2
  exit 1
}

# stop PID: stops one of them now (and forgets it, so the cleanup never signals a reused pid).
stop() {
  local pid="$1" kept=() other
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for other in "${PIDS[@]}"; do [ "$other" = "$pid" ] || kept+=("$other"); done
  PIDS=("${kept[@]}")
}

# start_haproxy BACKEND_PORT [taskset -c N]: HAProxy in TCP mode in front of 127.0.0.1:BACKEND_PORT,
# configured as compare.py runs it (benchmarks/haproxy.cfg); sets PORT and PID once it accepts.
start_haproxy() {
  local backend="$1"; shift
  PORT=$(free_port)
  HAPROXY_PORT=$PORT HAPROXY_BACKEND=$backend "$@" haproxy -db -f "$ROOT/benchmarks/haproxy.cfg" \
    >"$TMP/haproxy.out" 2>"$TMP/haproxy.err" &
  PID=$!
  PIDS+=("$PID")
  local _
  for _ in $(seq 100); do  # ready once it accepts
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "haproxy did not start: $(cat "$TMP/haproxy.err")" >&2
  exit 1
}

# need_built TARGETS PROGRAM...: unless every PROGRAM is built, says how to build TARGETS and
# exits 2.
need_built() {
  local targets="$1" program; shift
  for program in "$@"; do
    [ -x "$program" ] && continue
    echo "no $program: build first: cmake --preset release &&" \
      "cmake --build --preset release --target $targets" >&2
    exit 2
  done
}

free_port() {
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import wslib; print(wslib.free_port())' \
    "$ROOT/tools"
}
