#!/usr/bin/env python3
"""The whole system in one command, a live view of it, and drills that break it on stage.

  python3 tools/demo.py demo [--bots N] [--port P] [--no-build] [--with-node]
      Redis, three chat servers (lesson 04's distributed_chat), the reverse proxy (lesson 05) on
      :8000 in front of them, optional chat bots; with --with-node also the talk's Node.js
      reference/node/distributed_chat.js as a fourth server on the same channel. Prints the
      ready line `listening on 127.0.0.1:PORT` (the proxy) on stdout; Ctrl-C stops everything.
  python3 tools/demo.py top [--once]
      One row per process the demo started, about once a second (tools/demo_top.py).
  python3 tools/demo.py drill redis|server|slow-client|flood|partition|latency ...
      Breaks something on the running demo and narrates what happens (tools/demo_drill.py).

The demo writes what it started (role, pid, port, logs) to .workshop/demo.json
($WORKSHOP_DEMO_STATE: another file) and listens on a control socket beside it (demo.sock):
a drill asks the demo to stop or start one of its processes, so the demo stays the parent of
every process it lists, and Ctrl-C on it stops them all (and the drills still running).
Standard library only.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wslib import ROOT, Program, Redis, die, install_packages, say  # noqa: E402
import demo_lib  # noqa: E402

BUILD = os.environ.get("WORKSHOP_BUILD") or os.path.join(ROOT, "build")
TARGETS = ["solutions_04_distributed_chat", "solutions_05_reverse_proxy", "chat_bot"]
CHANNEL = "chat channel"  # distributed_chat's and distributed_chat.js's default
PROXY_REST_MS = 1000  # a dead backend is rested 1 s (default 5 s): a drill sees it come back soon
PROXY_CONNECT_TIMEOUT_MS = 500


def program_path(lesson, name):
    """A solution's program, or (lesson None) the demo's chat_bot (tools/chat_bot/)."""
    if lesson is None:
        return os.path.join(BUILD, "tools", "chat_bot", name)
    return os.path.join(BUILD, "solutions", lesson, name)


def build_solutions():
    if not os.path.exists(os.path.join(BUILD, "Makefile")):
        say(f"configuring (cmake --preset default -B {BUILD})")
        subprocess.run(["cmake", "--preset", "default", "-B", BUILD], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    say("building what the demo runs (lessons 04 and 05's solutions)")
    subprocess.run(["cmake", "--build", BUILD, "-j", str(os.cpu_count() or 2), "--target"] + TARGETS,
                   cwd=ROOT, check=True, stdout=sys.stderr)


def ensure_node_originals():
    """node, and reference/node/node_modules (npm ci) for the talk's distributed_chat.js."""
    missing = [package for command, package in (("node", "nodejs"), ("npm", "npm"))
               if not shutil.which(command)]  # node may come from elsewhere than Debian
    if missing:
        install_packages(missing, "the talk's Node.js server for --with-node")
    node_dir = os.path.join(ROOT, "reference", "node")
    modules = os.path.join(node_dir, "node_modules", ".package-lock.json")
    if not os.path.exists(modules) or (os.path.getmtime(os.path.join(node_dir, "package-lock.json"))
                                       > os.path.getmtime(modules)):
        say("installing the Node.js originals' packages into reference/node/node_modules (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node_dir,
                       check=True)


class Demo:
    """Starts the system, keeps the state file true, serves the control socket, stops it all."""

    def __init__(self, log_dir, with_node):
        self.log_dir = log_dir
        self.with_node = with_node
        self.lock = threading.RLock()
        self.children = {}   # name -> Program (or Redis) currently or last started
        self.entries = []    # the state file's process entries, in start order
        self.drills = set()  # pids of drills that said they run (stopped with the demo)
        self.redis_port = None
        self.proxy_port = None
        self.stopping = False

    # ---- the state file ----
    def save(self):
        with self.lock:
            demo_lib.write_state({
                "pid": os.getpid(), "root": ROOT, "log_dir": self.log_dir, "channel": CHANNEL,
                "redis_port": self.redis_port, "proxy_port": self.proxy_port,
                "control": demo_lib.control_path(), "drills": sorted(self.drills),
                "processes": self.entries})

    def entry(self, name):
        for entry in self.entries:
            if entry["name"] == name:
                return entry
        return None

    def record(self, name, kind, role, program, argv):
        entry = self.entry(name)
        if entry is None:
            entry = {"name": name, "kind": kind, "role": role}
            self.entries.append(entry)
        entry.update({"pid": program.pid, "port": program.port, "argv": argv, "running": True,
                      "log": program.log_path, "out": program.out_path, "started": time.time()})
        self.children[name] = program

    # ---- starting ----
    def start_redis(self, port=None):
        redis = Redis(self.log_dir, port=port).started()
        self.redis_port = redis.port
        self.record("redis", "redis", "Redis", redis, redis.argv)

    def start_server(self, name, kind, role, argv):
        program = Program(argv, name, self.log_dir).started()
        self.record(name, kind, role, program, argv)
        return program

    def start_all(self, bots, port):
        self.start_redis()
        redis = f"127.0.0.1:{self.redis_port}"
        chat = program_path("04-distributed-chat", "distributed_chat")
        backends = []
        for i in (1, 2, 3):
            server = self.start_server(f"chat{i}", "chat", f"chat server {i}",
                                       [chat, "--port", "0", "--redis", redis])
            backends += ["--backend", f"127.0.0.1:{server.port}"]
        if self.with_node:
            script = os.path.join(ROOT, "reference", "node", "distributed_chat.js")
            server = self.start_server("node", "node", "Node.js server",
                                       ["node", script, "--port", "0", "--redis", redis])
            backends += ["--backend", f"127.0.0.1:{server.port}"]
        proxy = self.start_server("proxy", "proxy", "reverse proxy",
                                  [program_path("05-reverse-proxy", "reverse_proxy"), "--port",
                                   str(port), "--rest-ms", str(PROXY_REST_MS),
                                   "--connect-timeout-ms", str(PROXY_CONNECT_TIMEOUT_MS)]
                                  + backends)
        self.proxy_port = proxy.port
        bot = program_path(None, "chat_bot")
        for i in range(1, bots + 1):
            argv = [bot, "--connect", f"127.0.0.1:{proxy.port}", "--name", f"bot{i}"]
            program = Program(argv, f"bot{i}", self.log_dir)
            self.record(f"bot{i}", "bot", f"chat bot {i}", program, argv)
        self.save()

    def restart(self, name):
        """Starts a stopped process again as before, on the same port (the proxy's backend list
        is fixed, and the servers know Redis by its port)."""
        with self.lock:
            entry = self.entry(name)
            if entry is None:
                raise ValueError(f"no process named {name}")
            if self.children[name].alive():
                raise ValueError(f"{name} runs already (pid {entry['pid']})")
            if entry["kind"] == "redis":
                self.start_redis(port=entry["port"])
            else:
                argv = list(entry["argv"])
                if "--port" in argv:
                    argv[argv.index("--port") + 1] = str(entry["port"])
                program = Program(argv, name, self.log_dir).started()
                self.record(name, entry["kind"], entry["role"], program, argv)
            self.save()
            return self.entry(name)

    def stop_one(self, name, how="term"):
        with self.lock:
            entry = self.entry(name)
            if entry is None:
                raise ValueError(f"no process named {name}")
            program = self.children[name]
            if not program.alive():
                raise ValueError(f"{name} is not running")
            if how == "kill":
                program.process.kill()
                code = program.process.wait()
            else:
                code = program.stop()
            entry.update({"running": False, "exit": code, "stopped": time.time()})
            self.save()
            return entry

    def notice_exits(self):
        """Marks in the state file the processes that ended on their own (a crash)."""
        with self.lock:
            changed = False
            for entry in self.entries:
                program = self.children[entry["name"]]
                if entry["running"] and not program.alive():
                    entry.update({"running": False, "exit": program.process.returncode,
                                  "stopped": time.time()})
                    say(f"{entry['role']} (pid {entry['pid']}) exited with {program.process.returncode}"
                        f" (its log: {entry['log']})")
                    changed = True
            if changed:
                self.save()

    # ---- the control socket: what drills ask ----
    def serve_control(self, listener):
        while not self.stopping:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection):
        with connection:
            try:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                request = json.loads(data)
                op = request.get("op")
                if self.stopping:
                    raise ValueError("the demo is stopping")
                if op == "stop":
                    reply = {"process": self.stop_one(request["name"], request.get("how", "term"))}
                elif op == "start":
                    reply = {"process": self.restart(request["name"])}
                elif op == "drill-begins":
                    with self.lock:
                        self.drills.add(int(request["pid"]))
                        self.save()
                    reply = {}
                elif op == "drill-ends":
                    with self.lock:
                        self.drills.discard(int(request["pid"]))
                        self.save()
                    reply = {}
                else:
                    raise ValueError(f"unknown request {op!r}")
                reply["ok"] = True
            except Exception as error:  # the drill hears why; the demo goes on
                reply = {"ok": False, "error": str(error)}
            try:
                connection.sendall((json.dumps(reply) + "\n").encode())
            except OSError:
                pass

    # ---- stopping ----
    def stop_all(self):
        """Stops the drills still running, then every process, newest first, and waits for each."""
        self.stopping = True
        with self.lock:
            for pid in sorted(self.drills):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while any(demo_lib.pid_alive(pid) for pid in self.drills) and time.monotonic() < deadline:
                time.sleep(0.05)
            running = [self.children[e["name"]] for e in reversed(self.entries)
                       if self.children[e["name"]].alive()]
            for program in running:  # all at once: each takes up to a second (Redis away)
                program.process.send_signal(signal.SIGTERM)
            for program in running:
                program.stop()  # waits; SIGKILL after 5 s
            count = len(running)
            for name in ("state", "control"):
                path = demo_lib.state_path() if name == "state" else demo_lib.control_path()
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        say(f"demo stopped: all {count} processes it still ran are gone (logs: {self.log_dir})")


def print_banner(demo, bots):
    state = {e["name"]: e for e in demo.entries}
    lines = [f"    redis-server              127.0.0.1:{demo.redis_port}"]
    for i in (1, 2, 3):
        lines.append(f"    chat server {i}             127.0.0.1:{state[f'chat{i}']['port']}   "
                     f"(distributed_chat --redis 127.0.0.1:{demo.redis_port})")
    servers = "three"
    if demo.with_node:
        lines.append(f"    Node.js server            127.0.0.1:{state['node']['port']}   "
                     f"(reference/node/distributed_chat.js, the same channel)")
        servers = "four"
    lines.append(f"    reverse proxy             127.0.0.1:{demo.proxy_port}   "
                 f"(reverse_proxy, round robin over the {servers})")
    if bots:
        lines.append(f"    {bots} chat bot(s)            chatting through the proxy (chat_bot)")
    lines += ["",
              f"    join the chat:            nc 127.0.0.1 {demo.proxy_port}      "
              "(in two terminals: each lands on the next server)",
              f"    or a server directly:     nc 127.0.0.1 {state['chat1']['port']}",
              "    watch it live:            ./workshop top      (in another terminal)",
              "    break it:                 ./workshop drill redis|server|slow-client|flood|partition|latency",
              "",
              "    the proxy's log follows: one line per connection, naming the server it chose"]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


def cmd_demo(argv):
    parser = argparse.ArgumentParser(prog="./workshop demo")
    parser.add_argument("--bots", type=int, default=0, help="chat bots talking through the proxy")
    parser.add_argument("--port", type=int, default=8000, help="the proxy's port (0: any free one)")
    parser.add_argument("--no-build", action="store_true", help="run what is built, build nothing")
    parser.add_argument("--with-node", action="store_true",
                        help="add the talk's Node.js distributed_chat.js as a fourth server")
    options = parser.parse_args(argv)
    if options.bots < 0 or not 0 <= options.port <= 65535:
        die("--bots and --port take numbers")

    if not options.no_build:
        install_packages(["redis-server", "netcat-openbsd"], "the demo runs Redis; join it with nc")
        build_solutions()
    if options.with_node:
        ensure_node_originals()
    for lesson, name in (("04-distributed-chat", "distributed_chat"),
                         ("05-reverse-proxy", "reverse_proxy"), (None, "chat_bot")):
        if not os.access(program_path(lesson, name), os.X_OK):
            die(f"{program_path(lesson, name)} is missing: run ./workshop demo (it builds)")
    if not shutil.which("redis-server"):
        die("redis-server is missing: ./workshop doctor says how to install it")
    other = demo_lib.load_state(required=False)
    if other is not None:
        die(f"a demo runs already (pid {other['pid']}, state in {demo_lib.state_path()}): "
            "stop it first (Ctrl-C in its terminal)")

    log_dir = tempfile.mkdtemp(prefix="workshop-demo.", dir=os.environ.get("TMPDIR", "/tmp"))
    demo = Demo(log_dir, options.with_node)
    stop_now = threading.Event()

    def on_signal(number, frame):
        stop_now.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    listener = None
    try:
        os.makedirs(os.path.dirname(demo_lib.state_path()), exist_ok=True)
        try:
            os.unlink(demo_lib.control_path())
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(demo_lib.control_path())
        listener.listen(8)
        try:
            demo.start_all(options.bots, options.port)
        except RuntimeError as error:
            die(str(error))
        threading.Thread(target=demo.serve_control, args=(listener,), daemon=True).start()
        say(f"the demo runs (Ctrl-C stops all of it; logs in {log_dir}):")
        print_banner(demo, options.bots)
        print(f"listening on 127.0.0.1:{demo.proxy_port}", flush=True)  # the ready line
        follow_proxy_log(demo, stop_now)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if listener is not None:
            listener.close()
        demo.stop_all()


def follow_proxy_log(demo, stop_now):
    """Copies the proxy's log to stderr as it grows, until the proxy ends or a signal comes;
    notices meanwhile the processes that end on their own."""
    proxy = demo.children["proxy"]
    position = 0
    while not stop_now.is_set():
        with open(proxy.log_path, "rb") as log:
            log.seek(position)
            data = log.read()
        if data:
            end = data.rfind(b"\n") + 1  # whole lines only
            sys.stderr.buffer.write(data[:end])
            sys.stderr.flush()
            position += end
        demo.notice_exits()
        if not demo.entry("proxy")["running"]:
            break
        time.sleep(0.2)


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help", "help"):
        sys.stdout.write(__doc__)
        return
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "demo":
        cmd_demo(rest)
    elif command == "top":
        import demo_top
        demo_top.main(rest)
    elif command == "drill":
        import demo_drill
        demo_drill.main(rest)
    else:
        die(f"unknown command {command} (usage: tools/demo.py demo|top|drill ...)")


if __name__ == "__main__":
    main()
