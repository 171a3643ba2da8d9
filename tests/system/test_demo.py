#!/usr/bin/env python3
"""System tests of the whole demo (demo/demo.py): Redis, three chat servers, the reverse proxy,
each drill run against it, the live view, and the mixed room with the talk's Node.js server.

Each case starts its own demo (proxy on a port the OS picks, its own state file), checks with
its own clients what the drill tells the audience, then stops the demo with SIGINT (Ctrl-C) and
checks that every process the demo ever started is gone.

  python3 tests/system/test_demo.py CASE    (CASE: redis, server, slow_client, flood, ctrl_c,
                                             mixed_room); WORKSHOP_BUILD: the build folder
Exit 77 (CTest: skipped) when the mixed room lacks node or reference/node/node_modules.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "demo"))
from demo_lib import ChatClient, pid_alive  # noqa: E402

# The demo runs under the Python ./workshop picks: Debian's, which has python3-redis.
PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
DEMO = [PYTHON, os.path.join(ROOT, "demo", "demo.py")]


class Demo:
    """A running demo of the test's own: its state, its pids (every one ever seen)."""

    def __init__(self, *flags):
        self.folder = tempfile.mkdtemp(prefix="workshop-system.")
        self.env = dict(os.environ, WORKSHOP_DEMO_STATE=os.path.join(self.folder, "demo.json"),
                        TMPDIR=self.folder, PYTHONUNBUFFERED="1")
        self.stderr = open(os.path.join(self.folder, "demo.stderr"), "w+")
        self.process = subprocess.Popen(DEMO + ["demo", "--no-build", "--port", "0", *flags],
                                        stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                        env=self.env)
        ready = self.process.stdout.readline()
        if not ready.startswith("listening on "):
            self.process.wait(10)
            self.stderr.seek(0)
            raise RuntimeError(f"the demo did not start: {ready!r} {self.stderr.read()[-2000:]}")
        self.proxy_port = int(ready.rsplit(":", 1)[1])
        self.pids = set()
        self.state()

    def state(self):
        with open(self.env["WORKSHOP_DEMO_STATE"]) as file:
            state = json.load(file)
        self.pids |= {p["pid"] for p in state["processes"]}
        return state

    def port(self, name):
        return next(p["port"] for p in self.state()["processes"] if p["name"] == name)

    def drill(self, *arguments, wait=True):
        command = DEMO + ["drill", *arguments]
        if not wait:
            return subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=self.env)
        return subprocess.run(command, stderr=subprocess.PIPE, text=True, env=self.env, timeout=60)

    def top_once(self):
        return subprocess.run(DEMO + ["top", "--once"], capture_output=True, text=True,
                              env=self.env, timeout=20)

    def stop(self):
        """Ctrl-C, as the instructor does; returns the demo's exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(20)
        self.stderr.close()
        return code

    def cleanup(self):
        """After a failed case too: Ctrl-C, so that the demo stops what it started; SIGKILL
        only if it does not end (its children would then be left: the case fails anyway)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self.stderr.closed:
            self.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class DemoCase(unittest.TestCase):
    flags = ()

    def setUp(self):
        self.demo = Demo(*self.flags)
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.close()
        self.demo.cleanup()

    def client(self, port):
        client = ChatClient(port)
        self.clients.append(client)
        return client

    def stop_and_check_nothing_is_left(self):
        self.demo.state()
        state_file = self.demo.env["WORKSHOP_DEMO_STATE"]
        self.assertEqual(self.demo.stop(), 0)
        left = [pid for pid in self.demo.pids if pid_alive(pid)]
        self.assertEqual(left, [], "processes the demo started are still running after Ctrl-C")
        self.assertFalse(os.path.exists(state_file), "the state file outlived the demo")


class Drills(DemoCase):
    def test_redis(self):
        """A line said on server 1 while Redis is away reaches server 2 once it is back (or its
        sender is told); nothing else is lost; Redis runs again on the same port."""
        a = self.client(self.demo.port("chat1"))
        b = self.client(self.demo.port("chat2"))
        redis_port, redis_pid = self.demo.port("redis"), self.demo.state()["processes"][0]["pid"]
        drill = self.demo.drill("redis", "--seconds", "2", wait=False)
        narration = []
        for line in drill.stderr:
            narration.append(line)
            if "Redis stopped" in line:
                break
        a.send("test: said during the outage")
        narration += drill.stderr.readlines()
        self.assertEqual(drill.wait(30), 0, "".join(narration))
        text = "".join(narration)
        self.assertIn("B got all 3 of A's lines, in order", text)

        heard = b.read_all(1.0)
        told = a.read_all(0.3)
        drill_lines = ["A: before the outage"] + [f"A: said while Redis is away #{i}"
                                                   for i in (1, 2, 3)] + ["B: after the outage"]
        if "test: said during the outage" not in heard:
            self.assertTrue(any("not delivered" in line for line in told),
                            f"the line said during the outage is lost: b heard {heard}, a {told}")
        self.assertEqual([line for line in heard if line != "test: said during the outage"],
                         drill_lines, "b, on server 2, must hear every line of the drill once")
        self.assertNotIn("test: said during the outage", told, "a heard its own line back")
        redis = self.demo.state()["processes"][0]
        self.assertTrue(redis["running"])
        self.assertEqual(redis["port"], redis_port)
        self.assertNotEqual(redis["pid"], redis_pid)
        self.stop_and_check_nothing_is_left()

    def test_server(self):
        """Chat server 2 is killed: the others go on, the proxy skips it, and once it is back
        (same port, new pid) the proxy sends clients to it again."""
        old = {p["name"]: p for p in self.demo.state()["processes"]}
        one = self.client(self.demo.port("chat1"))
        three = self.client(self.demo.port("chat3"))
        result = self.demo.drill("server", "2")
        self.assertEqual(result.returncode, 0, result.stderr)
        for told in ("ok: V sees its connection close", "go on chatting", "skips the dead backend",
                     "back in rotation", "in the room again"):
            self.assertIn(told, result.stderr)
        new = {p["name"]: p for p in self.demo.state()["processes"]}
        self.assertTrue(new["chat2"]["running"])
        self.assertEqual(new["chat2"]["port"], old["chat2"]["port"])
        self.assertNotEqual(new["chat2"]["pid"], old["chat2"]["pid"])
        self.assertEqual(new["chat1"]["pid"], old["chat1"]["pid"])

        one.read_all(0.5)  # what the drill's clients said
        three.read_all(0.1)
        one.send("one: still here")
        self.assertEqual(three.read_line(), "one: still here")
        # round robin over the three again: the restarted server gets its share
        nodes = {str(p["pid"]): p["name"] for p in new.values() if p["kind"] == "chat"}
        landed = {nodes.get(self.client(self.demo.proxy_port).node) for i in range(3)}
        self.assertEqual(landed, {"chat1", "chat2", "chat3"})
        self.stop_and_check_nothing_is_left()

    def test_slow_client(self):
        """A client that stops reading is dropped by its server; everyone else hears every line."""
        other = self.client(self.demo.port("chat3"))
        result = self.demo.drill("slow-client", "--rate", "3000", "--seconds", "20")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("chat server 1 dropped S", result.stderr)
        self.assertIn("S's connection is gone", result.stderr)
        self.assertIn("nobody else slowed down", result.stderr)
        numbers = [int(line.split()[1]) for line in other.read_all(1.0) if line.startswith("T: ")]
        self.assertGreater(len(numbers), 0)
        self.assertEqual(numbers, list(range(1, len(numbers) + 1)),
                         "a client of another server missed lines of the talker")
        self.stop_and_check_nothing_is_left()

    def test_flood(self):
        """Fifty clients join through the proxy and talk: top shows them and their lines, and
        every line reaches the 49 others."""
        drill = self.demo.drill("flood", "--clients", "50", "--seconds", "5", "--rate", "2",
                                wait=False)
        time.sleep(2.0)
        frame = self.demo.top_once()
        narration = drill.communicate(timeout=60)[1]
        self.assertEqual(drill.returncode, 0, narration)
        self.assertIn("50 clients joined through the proxy", narration)
        self.assertIn("each reached the 49 others", narration)
        self.assertEqual(frame.returncode, 0, frame.stderr)
        rows = {}
        for line in frame.stdout.splitlines():
            for role in ("reverse proxy", "chat server 1", "chat server 2", "chat server 3",
                         "Redis"):
                if line.startswith(role):
                    rows[role] = line[len(role):].split()
        self.assertEqual(len(rows), 5, frame.stdout)
        self.assertGreaterEqual(int(rows["reverse proxy"][2]), 50, frame.stdout)  # CLIENTS
        lines_per_second = sum(int(rows[f"chat server {i}"][4]) for i in (1, 2, 3))
        self.assertGreater(lines_per_second, 40, frame.stdout)  # 50 clients x 2 lines/s
        for i in (1, 2, 3):
            self.assertIn("connected", rows[f"chat server {i}"][-1], frame.stdout)
        self.stop_and_check_nothing_is_left()

    def test_ctrl_c(self):
        """Ctrl-C on the demo in the middle of a drill (Redis down) stops the drill and all."""
        drill = self.demo.drill("redis", "--seconds", "30", wait=False)
        for line in drill.stderr:
            if "Redis stopped" in line:
                break
        self.demo.pids.add(drill.pid)
        self.assertEqual(self.demo.stop(), 0)
        drill.wait(10)
        left = [pid for pid in self.demo.pids if pid_alive(pid)]
        self.assertEqual(left, [], "processes are still running after Ctrl-C")


class MixedRoom(DemoCase):
    flags = ("--with-node",)

    def test_mixed_room(self):
        """The talk's Node.js distributed_chat.js and our C++ servers in one room, through one
        Redis channel: lines cross both ways, none comes back to its sender."""
        state = self.demo.state()
        self.assertEqual([p["kind"] for p in state["processes"]][:5],
                         ["redis", "chat", "chat", "chat", "node"])
        node = self.client(self.demo.port("node"))
        cpp = self.client(self.demo.port("chat1"))
        self.assertIn("welcome to node's tcp chat server", node.welcome)
        self.assertIn("welcome to the C++ distributed chat", cpp.welcome)
        time.sleep(0.3)  # the Node.js server subscribes once its Redis connection is up
        cpp.send("from C++ to Node.js")
        self.assertEqual(node.read_line(), "from C++ to Node.js")
        node.send("from Node.js to C++")
        self.assertEqual(cpp.read_line(), "from Node.js to C++")
        self.assertEqual(cpp.read_all(0.5), [], "the C++ client heard its own line back")
        self.assertEqual(node.read_all(0.1), [], "the Node.js client heard its own line back")
        # through the proxy, the fourth backend gets its share of new clients
        landed = {self.client(self.demo.proxy_port).welcome.split(" : ")[1]
                  for i in range(4)}
        self.assertIn("welcome to node's tcp chat server", landed)
        self.stop_and_check_nothing_is_left()


CASES = {"redis": "Drills.test_redis", "server": "Drills.test_server",
         "slow_client": "Drills.test_slow_client", "flood": "Drills.test_flood",
         "ctrl_c": "Drills.test_ctrl_c", "mixed_room": "MixedRoom.test_mixed_room"}

if __name__ == "__main__":
    names = [CASES.get(name, name) for name in sys.argv[1:]] or list(CASES.values())
    if any(name.startswith("MixedRoom") for name in names) and (
            not shutil.which("node")
            or not os.path.isdir(os.path.join(ROOT, "reference", "node", "node_modules"))):
        print("skipped: the mixed room needs node and reference/node/node_modules "
              "(cd reference/node && npm ci)")
        sys.exit(77)
    program = unittest.main(argv=[sys.argv[0], "-v"] + names, exit=False)
    sys.exit(0 if program.result.wasSuccessful() else 1)
