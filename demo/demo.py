#!/usr/bin/env python3
"""The whole system in one command (demo), a live view of it (top, demo/demo_top.py), and drills
that break it on stage (drill, demo/demo_drill.py):
  python3 demo/demo.py demo|top|drill --help

The demo (./workshop demo builds what it runs first) writes what it started (role, pid, port,
logs) to .workshop/demo.json ($WORKSHOP_DEMO_STATE: another file) and listens on a control socket
beside it (demo.sock): a drill asks the demo to stop or start one of its processes, so the demo
stays the parent of every process it lists, and Ctrl-C on it stops them all (and the drills).
"""
import argparse
import json
import os
import signal
import socketserver
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in demo/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from demo_lib import CONTROL, STATE, load_state, new_lines  # noqa: E402  (puts tools/ on the path)
from wslib import ROOT, Program, Redis, die, ensure_node, pid_alive, say  # noqa: E402

BUILD = os.environ.get("WORKSHOP_BUILD") or os.path.join(ROOT, "build")
PROGRAMS = {"chat": "solutions/04-distributed-chat/distributed_chat",
            "proxy": "solutions/05-reverse-proxy/reverse_proxy", "bot": "demo/chat_bot/chat_bot"}
CHANNEL = "chat channel"  # distributed_chat's and distributed_chat.js's default
PROXY_FLAGS = ["--rest-ms", "1000",  # a dead backend is rested 1 s, not 5: a drill sees it return
               "--connect-timeout-ms", "500"]
SAYS = {"redis": "", "chat": "(distributed_chat --redis 127.0.0.1:{redis_port})",
        "node": "(reference/node/distributed_chat.js, the same channel)",
        "proxy": "(reverse_proxy, round robin over the {servers})"}
HOW_TO = """
    join the chat:            nc 127.0.0.1 {proxy_port}      (in two terminals: each lands on \
the next server)
    or a server directly:     nc 127.0.0.1 {first_port}
    watch it live:            ./workshop top      (in another terminal)
    break it:                 ./workshop drill redis|server|slow-client|flood|partition|latency

    the proxy's log follows: one line per connection, naming the server it chose
"""


class Demo:
    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.lock = threading.RLock()
        self.children = {}   # name -> the Program (or Redis) started last under that name
        self.entries = {}    # name -> what the state file says of it, in start order
        self.drills = set()  # pids of the drills running (stopped with the demo)
        self.redis_port = self.proxy_port = None
        self.stopping = False

    def save(self):
        """Replaces the state file at once (write, then rename): a reader never sees half of it."""
        state = {"pid": os.getpid(), "log_dir": self.log_dir, "channel": CHANNEL,
                 "redis_port": self.redis_port, "proxy_port": self.proxy_port,
                 "processes": list(self.entries.values())}
        with open(f"{STATE}.tmp", "w") as file:
            json.dump(state, file, indent=2)
        os.replace(f"{STATE}.tmp", STATE)

    def start(self, name, kind, role, argv=(), port=None, ready=True):
        """Starts a process (again on `port`, when it ran before) and records it."""
        if kind == "redis":
            program = Redis(self.log_dir, port=port).started()
            self.redis_port, argv = program.port, program.argv
        else:
            argv = list(argv)
            if port:  # the proxy's backend list is fixed, and the servers know Redis by its port
                argv[argv.index("--port") + 1] = str(port)
            program = Program(argv, name, self.log_dir)
            if ready:
                program.started()
        self.entries.setdefault(name, {"name": name, "kind": kind, "role": role}).update(
            pid=program.pid, port=program.port, argv=argv, running=True, log=program.log_path,
            out=program.out_path, started=time.time())
        self.children[name] = program
        return program

    def start_all(self, bots, port, with_node):
        self.start("redis", "redis", "Redis")
        chat = [os.path.join(BUILD, PROGRAMS["chat"]), "--port", "0",
                "--redis", f"127.0.0.1:{self.redis_port}"]
        servers = [self.start(f"chat{i}", "chat", f"chat server {i}", chat) for i in (1, 2, 3)]
        if with_node:
            node = ["node", os.path.join(ROOT, "reference", "node", "distributed_chat.js")]
            servers.append(self.start("node", "node", "Node.js server", node + chat[1:]))
        backends = [arg for server in servers for arg in ("--backend", f"127.0.0.1:{server.port}")]
        proxy = [os.path.join(BUILD, PROGRAMS["proxy"]), "--port", str(port), *PROXY_FLAGS]
        self.proxy_port = self.start("proxy", "proxy", "reverse proxy", proxy + backends).port
        for i in range(1, bots + 1):
            self.start(f"bot{i}", "bot", f"chat bot {i}", ready=False,
                       argv=[os.path.join(BUILD, PROGRAMS["bot"]), "--name", f"bot{i}",
                             "--connect", f"127.0.0.1:{self.proxy_port}"])
        self.save()

    def answer(self, op, name=None, how="term", pid=None, ends=False):
        """Does what a drill asks through the control socket: stop or start a process, or note
        that a drill begins or ends."""
        with self.lock:
            if self.stopping:
                raise ValueError("the demo is stopping")
            if op == "drill":
                (self.drills.discard if ends else self.drills.add)(int(pid))
            elif op not in ("stop", "start") or name not in self.entries:
                raise ValueError(f"unknown request {op!r} {name or ''}")
            elif op == "start":
                entry = self.entries[name]
                if self.children[name].alive():
                    raise ValueError(f"{name} runs already (pid {entry['pid']})")
                self.start(name, entry["kind"], entry["role"], entry["argv"], entry["port"])
            else:
                program = self.children[name]
                if not program.alive():
                    raise ValueError(f"{name} is not running")
                if how == "kill":
                    program.process.kill()
                self.entries[name].update(running=False, exit=program.stop(), stopped=time.time())
            self.save()
            return {"process": self.entries[name]} if name else {}

    def notice_exits(self):
        with self.lock:
            for name, entry in self.entries.items():
                code = self.children[name].process.poll()
                if entry["running"] and code is not None:
                    entry.update(running=False, exit=code, stopped=time.time())
                    say(f"{entry['role']} (pid {entry['pid']}) exited with {code} "
                        f"(its log: {entry['log']})")
                    self.save()

    def stop_all(self):
        with self.lock:
            self.stopping = True
            for pid in filter(pid_alive, self.drills):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while any(map(pid_alive, self.drills)) and time.monotonic() < deadline:
                time.sleep(0.05)
            running = [program for program in self.children.values() if program.alive()]
            for program in running:  # all at once: each takes up to a second (Redis away)
                program.process.send_signal(signal.SIGTERM)
            for program in running:
                program.stop()  # waits; SIGKILL after 5 s
            for path in (STATE, CONTROL):
                if os.path.exists(path):
                    os.unlink(path)
        say(f"demo stopped: all {len(running)} processes it still ran are gone "
            f"(logs: {self.log_dir})")

    def banner(self, bots):
        servers = [e for e in self.entries.values() if e["kind"] in ("chat", "node")]
        lines = [f"    {e['role']:<26}127.0.0.1:{e['port']:<6}  " + SAYS[e["kind"]].format(
                     redis_port=self.redis_port, servers=len(servers))
                 for e in self.entries.values() if e["kind"] != "bot"]
        if bots:
            lines.append(f"    {bots} chat bot(s)            chatting through the proxy (chat_bot)")
        sys.stderr.write("\n".join(line.rstrip() for line in lines) + "\n" + HOW_TO.format(
            proxy_port=self.proxy_port, first_port=servers[0]["port"]))

    def follow_proxy_log(self):
        """Copies the proxy's log to stderr as it grows, until the proxy ends; notices meanwhile
        the processes that end on their own."""
        position = 0
        while self.entries["proxy"]["running"]:
            lines, position = new_lines(self.children["proxy"].log_path, position)
            sys.stderr.write("".join(line + "\n" for line in lines))
            sys.stderr.flush()
            self.notice_exits()
            time.sleep(0.2)


class Control(socketserver.StreamRequestHandler):
    """One drill's request on the control socket: a JSON line in, a JSON line out."""

    def handle(self):
        try:
            reply = self.server.demo.answer(**json.loads(self.rfile.readline()))
        except Exception as error:  # the drill hears why; the demo goes on
            reply = {"error": str(error)}
        self.wfile.write((json.dumps(reply) + "\n").encode())


def cmd_demo(argv):
    parser = argparse.ArgumentParser(prog="./workshop demo")
    parser.add_argument("--bots", type=int, default=0, help="chat bots talking through the proxy")
    parser.add_argument("--port", type=int, default=8000, help="the proxy's port (0: any free one)")
    parser.add_argument("--no-build", action="store_true", help="(./workshop's: build nothing)")
    parser.add_argument("--with-node", action="store_true",
                        help="add the talk's Node.js distributed_chat.js as a fourth server")
    options = parser.parse_args(argv)
    if options.bots < 0 or not 0 <= options.port <= 65535:
        die("--bots and --port take numbers")
    if options.with_node:
        ensure_node("reference/node", "the talk's Node.js server for --with-node")
    for program in PROGRAMS.values():
        if not os.access(os.path.join(BUILD, program), os.X_OK):
            die(f"{os.path.join(BUILD, program)} is missing: run ./workshop demo (it builds)")
    other = load_state(required=False)
    if other is not None:
        die(f"a demo runs already (pid {other['pid']}, state in {STATE}): "
            "stop it first (Ctrl-C in its terminal)")

    demo = Demo(tempfile.mkdtemp(prefix="workshop-demo.", dir=os.environ.get("TMPDIR", "/tmp")))
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    if os.path.exists(CONTROL):
        os.unlink(CONTROL)  # left by a demo that was killed outright
    control = socketserver.ThreadingUnixStreamServer(CONTROL, Control)
    control.daemon_threads, control.demo = True, demo
    for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, even where a shell ignored it
        signal.signal(number, signal.default_int_handler)
    try:
        try:
            demo.start_all(options.bots, options.port, options.with_node)
        except RuntimeError as error:
            die(str(error))
        threading.Thread(target=control.serve_forever, daemon=True).start()
        say(f"the demo runs (Ctrl-C stops all of it; logs in {demo.log_dir}):")
        demo.banner(options.bots)
        print(f"listening on 127.0.0.1:{demo.proxy_port}", flush=True)  # the ready line
        demo.follow_proxy_log()
    except KeyboardInterrupt:
        pass
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the cleanup
            signal.signal(number, signal.SIG_IGN)
        control.server_close()
        demo.stop_all()


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command == "demo":
        cmd_demo(sys.argv[2:])
    elif command in ("top", "drill"):
        __import__(f"demo_{command}").main(sys.argv[2:])
    elif command in ("-h", "--help", "help"):
        sys.stdout.write(__doc__)
    else:
        die(f"unknown command {command} (usage: demo/demo.py demo|top|drill ...)")


if __name__ == "__main__":
    main()
