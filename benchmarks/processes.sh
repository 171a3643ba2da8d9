# Sourced by the benchmarks' shell scripts (after they set ROOT): a temporary folder, the
# processes they start in the background, and stopping them all, by pid, when the script ends.
#   source "$ROOT/benchmarks/processes.sh"
#   need_built "bench_05_proxy solutions_05_reverse_proxy" "$BENCH" "$PROXY"   # or exit 2
#   start echo taskset -c 1 "$BENCH" echo --port 0   # sets PORT (from its ready line) and PID
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

# need_built TARGETS PROGRAM...: exits 2, saying how to build TARGETS, unless every PROGRAM is built.
need_built() {
  local targets="$1" program; shift
  for program in "$@"; do
    [ -x "$program" ] && continue
    echo "no $program: build first: cmake --preset release && cmake --build --preset release --target $targets" >&2
    exit 2
  done
}

free_port() { python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import wslib; print(wslib.free_port())' "$ROOT/tools"; }
