#!/usr/bin/env bash
# Today's ./workshop demo, kept here only until tools/demo.py replaces it (./workshop runs that
# one when it exists; then this file goes). ./workshop has built what it runs.
#   bash tools/legacy-demo.sh demo [--bots N] [--port P]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${WORKSHOP_BUILD:-$ROOT/build}"
cd "$ROOT"
say() { if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi; }
die() { printf 'workshop: %s\n' "$*" >&2; exit 2; }
[ "${1:-}" = demo ] || die "${1:-}: comes with tools/demo.py"
shift
[ "${1:-}" != --no-build ] || shift  # ./workshop has built what it runs

DEMO_PIDS=()  # everything the demo started, stopped by pid (and only that) when it ends
DEMO_DIR=""
DEMO_PORT=""

# Stops what the demo started, newest first, and waits for each; runs on Ctrl-C, kill and exit.
demo_stop() {
  trap - INT TERM EXIT
  local i
  for ((i = ${#DEMO_PIDS[@]} - 1; i >= 0; i--)); do kill "${DEMO_PIDS[i]}" 2>/dev/null || true; done
  for i in "${DEMO_PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
  [ ${#DEMO_PIDS[@]} -eq 0 ] || say "demo stopped: all ${#DEMO_PIDS[@]} processes it started are gone (logs: $DEMO_DIR)"
}

# demo_start NAME PROGRAM ARGS...: starts a workshop server in the background (stdout in
# $DEMO_DIR/NAME.out, its log in NAME.log), waits for its ready line, sets DEMO_PORT.
demo_start() {
  local name="$1" i pid; shift
  : >"$DEMO_DIR/$name.out"  # exists before we read it: the child opens it only once forked
  "$@" >"$DEMO_DIR/$name.out" 2>"$DEMO_DIR/$name.log" &
  pid=$!
  DEMO_PIDS+=("$pid")
  DEMO_PORT=$(python3 tools/wslib.py wait-ready "$DEMO_DIR/$name.out" "$pid" 10) ||
    die "$name did not start: $(tail -n 5 "$DEMO_DIR/$name.log")"
}

# A redis-server of the demo's own on a free port, nothing saved to disk; sets DEMO_PORT.
demo_start_redis() {
  local port pid i
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$DEMO_DIR/redis.log" 2>&1 &
    pid=$!
    DEMO_PIDS+=("$pid")
    for i in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then DEMO_PORT=$port; return 0; fi
      sleep 0.05
    done
  done
  die "could not start redis-server: $(tail -n 3 "$DEMO_DIR/redis.log")"
}

cmd_demo() {
  local bots=0 port=8000 i
  while [ $# -gt 0 ]; do
    case "$1" in
      --bots) bots="${2:?--bots needs a number}"; shift 2 ;;
      --port) port="${2:?--port needs a number}"; shift 2 ;;
      *) die "unknown option for demo: $1 (usage: ./workshop demo [--bots N] [--port P] [--no-build])" ;;
    esac
  done
  [[ "$bots" =~ ^[0-9]+$ && "$port" =~ ^[0-9]+$ ]] || die "--bots and --port take numbers"
  local chat="$BUILD/solutions/04-distributed-chat/distributed_chat"
  local proxy="$BUILD/solutions/05-reverse-proxy/reverse_proxy"
  local bot="$BUILD/solutions/05-reverse-proxy/chat_bot"
  for i in "$chat" "$proxy" "$bot"; do [ -x "$i" ] || die "$i is missing: run ./workshop demo (it builds)"; done
  command -v redis-server >/dev/null || die "redis-server is missing: ./workshop doctor says how to install it"

  DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/workshop-demo.XXXXXX")
  trap demo_stop EXIT
  trap 'exit 0' INT TERM  # Ctrl-C or kill: exit, and the EXIT trap stops everything
  demo_start_redis
  local redis_port=$DEMO_PORT chat_ports=() backends=()
  for i in 1 2 3; do
    demo_start "chat$i" "$chat" --port 0 --redis "127.0.0.1:$redis_port"
    chat_ports+=("$DEMO_PORT")
    backends+=(--backend "127.0.0.1:$DEMO_PORT")
  done
  demo_start proxy "$proxy" --port "$port" "${backends[@]}"
  local proxy_pid=${DEMO_PIDS[-1]} proxy_port=$DEMO_PORT
  for ((i = 1; i <= bots; i++)); do
    "$bot" --connect "127.0.0.1:$proxy_port" --name "bot$i" >/dev/null 2>>"$DEMO_DIR/bots.log" &
    DEMO_PIDS+=("$!")
  done

  say "the demo runs (Ctrl-C stops all of it; logs in $DEMO_DIR):"
  {
    echo "    redis-server              127.0.0.1:$redis_port"
    for i in 1 2 3; do echo "    chat server $i             127.0.0.1:${chat_ports[i-1]}   (distributed_chat --redis 127.0.0.1:$redis_port)"; done
    echo "    reverse proxy             127.0.0.1:$proxy_port   (reverse_proxy, round robin over the three)"
    [ "$bots" -eq 0 ] || echo "    $bots chat bot(s)            chatting through the proxy (chat_bot)"
    echo
    echo "    join the chat:            nc 127.0.0.1 $proxy_port      (in two terminals: each lands on the next server)"
    echo "    or a server directly:     nc 127.0.0.1 ${chat_ports[0]}"
    echo
    echo "    the proxy's log follows: one line per connection, naming the server it chose"
  } >&2
  echo "listening on 127.0.0.1:$proxy_port"  # the ready line, as every workshop program prints
  tail -n +1 -F "$DEMO_DIR/proxy.log" >&2 2>/dev/null &
  DEMO_PIDS+=("$!")
  wait "$proxy_pid" || true  # until Ctrl-C (or the proxy ends)
}

cmd_demo "$@"
