"""`./workshop top [--once]`: a live view of the running demo, one row per process it started,
refreshed about once a second; --once samples one second and prints one frame.

Everything comes from what the programs already expose, nothing is added to them:
  ss -tinp           each connection's port, owner, bytes unsent, received and sent (tcp_info)
  /proc/PID/stat     CPU time and resident memory
  Redis              PUBSUB NUMSUB (who listens), and the channel itself: top subscribes to it
                     and credits each line to the server whose client said it (its userId)
  stderr logs        each chat server's Redis link ("redis: connected", "lost", "Redis is away:
                     queueing lines"), dropped clients, and the proxy's failed backends
"""
import argparse
import json
import os
import re
import sys
import time
from collections import Counter

from demo_lib import connections, cpu_and_memory, load_state, new_lines, processes
from wslib import die, install_packages

try:
    import redis
except ImportError:  # python3-redis (tools/requirements.txt); a --no-build demo did not install it
    install_packages(["python3-redis"], "top reads the chat's Redis channel")
    import redis

NOTABLE = re.compile(r"redis: (lost|cannot connect|connected|no answer|AUTH)|queueing|queue full|"
                     r"dropping client|failed|no backend|not delivered")
COLUMNS = ("ROLE", "PID", "PORT", "CLIENTS", "SENDQ", "LINES/S", "IN/S", "OUT/S", "RSS", "CPU%",
           "REDIS LINK")
WIDTHS = (-15, 7, 6, 8, 8, 8, 9, 9, 8, 6, 0)  # negative: left-aligned; 0: as it comes
LEGEND = """\
CLIENTS  established TCP connections on its port (ss); Redis's: the servers' (top's left out)
SENDQ    most bytes the kernel holds unsent to one of them (the server's own queue is not seen)
LINES/S  lines its clients published on the channel (top listens to the channel too)
IN/S OUT/S  bytes from and to the connections on its port (kernel tcp_info, via ss -ti)
REDIS LINK  from its log; Node.js logs nothing: its connections to Redis, counted"""


def size(n):
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1000.0


class LogWatch:
    """Follows a chat server's or the proxy's log: the server's link to Redis, and notable lines."""

    def __init__(self, path):
        self.path, self.position = path, 0
        self.up = {"publisher": None, "subscriber": None}
        self.queueing = False

    def read_new(self):
        lines, self.position = new_lines(self.path, self.position)
        for line in lines:
            role = "subscriber" if "subscriber" in line else "publisher"
            if "redis: connected" in line or "redis: subscribed" in line:
                self.up[role] = True
                if role == "publisher":
                    self.queueing = False  # it published what it queued
            elif "redis: lost" in line or "redis: cannot connect" in line:
                self.up[role] = False
            self.queueing = self.queueing or "queueing lines" in line
        return [line for line in lines if NOTABLE.search(line)]

    def link(self):
        if all(self.up.values()):
            return "connected"
        if all(up is None for up in self.up.values()):
            return "connecting"
        return "DOWN, retrying" + (", queueing lines" if self.queueing else "")


class Top:
    def __init__(self):
        self.state = load_state()
        self.logs = {}     # name -> LogWatch
        self.events = []   # (when, role, line): the latest notable log lines
        self.subscription = None
        self.first = True

    def follow_logs(self):
        when = "earlier" if self.first else time.strftime("%H:%M:%S")
        for process in processes(self.state, "chat", "proxy", "node"):
            watch = self.logs.setdefault(process["name"], LogWatch(process["log"]))
            found = watch.read_new()[-2 if self.first else 0:]  # before top started: the latest
            self.events += [(when, process["role"], line) for line in found]
        self.events, self.first = self.events[-6:], False

    def channel_lines(self):
        """The lines the channel carried since the last call, credited to the server whose
        client said each (its userId starts with the server's pid): name -> count; "redis": all."""
        counts = Counter()
        servers = {(f"{p['pid']}-" if p["kind"] == "chat" else str(p["pid"])): p["name"]
                   for p in processes(self.state, "chat", "node")}  # C++: "PID-...", Node: PID...
        try:
            if self.subscription is None:
                self.subscription = self.redis_client(client_name="workshop-top").pubsub()
                self.subscription.subscribe(self.state["channel"])
            while (message := self.subscription.get_message()) is not None:
                if message["type"] == "message":
                    counts["redis"] += 1
                    try:
                        user = str(json.loads(message["data"]).get("userId", ""))
                    except ValueError:
                        continue
                    counts[next((name for prefix, name in servers.items()
                                 if user.startswith(prefix)), "elsewhere")] += 1
        except redis.RedisError:
            self.subscription = None  # Redis is away: subscribe again when it is back
        return counts

    def redis_client(self, **options):
        # 127.0.0.1, not "localhost": a bare root may have no /etc/hosts to name it.
        return redis.Redis(host="127.0.0.1", port=self.state["redis_port"], socket_timeout=1,
                           **options)

    def listeners(self):
        try:
            count = self.redis_client().pubsub_numsub(self.state["channel"])[0][1]
            return f"{count - (self.subscription is not None)} servers subscribed"  # not top
        except redis.RedisError:
            return "Redis away"

    def sample(self):
        return {"time": time.monotonic(), "connections": connections(),
                "processes": {p["name"]: cpu_and_memory(p["pid"])
                              for p in self.state["processes"] if p["running"]}}

    def step(self, interval):
        """Samples, waits `interval` s, samples again; the frame of that interval (None: the
        demo stopped)."""
        self.follow_logs()
        self.channel_lines()  # what came before the interval does not count
        before = self.sample()
        time.sleep(interval)
        self.state = load_state(required=False)
        if self.state is None:
            return None
        lines, after = self.channel_lines(), self.sample()
        self.follow_logs()
        return self.frame(before, after, lines)

    def frame(self, before, after, lines):
        elapsed = after["time"] - before["time"]
        ours = {c["local"] for c in after["connections"] if c["pid"] == os.getpid()}
        earlier = {(c["local"], c["peer"]): c for c in before["connections"]}
        new = {"received": 0, "sent": 0}  # a new connection: all of it is new

        def usage(name):  # (CPU %, resident bytes); restarted: a new pid
            first, last = before["processes"].get(name), after["processes"].get(name)
            if first is None or last is None:
                return 0.0, 0
            return max(0.0, last[0] - first[0]) / elapsed * 100, last[1]

        def rate(mine, key):
            moved = sum(c[key] - earlier.get((c["local"], c["peer"]), new)[key] for c in mine)
            return size(moved / elapsed)

        rows = []
        for process in processes(self.state, "redis", "chat", "node", "proxy"):
            if not process["running"]:
                ago = time.time() - process.get("stopped", time.time())
                rows.append((process["role"], "-", process["port"], *[""] * 7,
                             f"DOWN for {ago:.0f} s (exit {process.get('exit')})"))
                continue
            mine = [c for c in after["connections"]
                    if c["local"] == process["port"] and c["peer"] not in ours]
            cpu, rss = usage(process["name"])
            rows.append((process["role"], process["pid"], process["port"], len(mine),
                         size(max((c["sendq"] for c in mine), default=0)),
                         f"{lines.get(process['name'], 0) / elapsed:.0f}"
                         if process["kind"] != "proxy" else "-",
                         rate(mine, "received"), rate(mine, "sent"), size(rss), f"{cpu:.1f}",
                         self.link(process, after["connections"])))
        bots = [usage(p["name"]) for p in processes(self.state, "bot") if p["running"]]
        if bots:
            rows.append((f"chat bots x{len(bots)}", "-", "-", *[""] * 5,
                         size(sum(bot[1] for bot in bots)), f"{sum(bot[0] for bot in bots):.1f}",
                         ""))
        out = [f"workshop demo  {time.strftime('%H:%M:%S')}   proxy 127.0.0.1:"
               f"{self.state['proxy_port']}   channel \"{self.state['channel']}\": "
               f"{self.listeners()}", ""]
        for row in [COLUMNS] + rows:
            out.append(" ".join(str(cell).ljust(-width) if width < 0 else str(cell).rjust(width)
                                for cell, width in zip(row, WIDTHS)).rstrip())
        out.append("")
        if self.events:
            out += ["recent log lines:"] + [f"  {when:>8}  {role}: {line[:90]}"
                                            for when, role, line in self.events] + [""]
        return "\n".join(out + [LEGEND])

    def link(self, process, now):
        if process["kind"] == "chat":
            return self.logs[process["name"]].link() if process["name"] in self.logs else "?"
        if process["kind"] == "node":
            count = sum(1 for c in now if c["pid"] == process["pid"]
                        and c["peer"] == self.state["redis_port"])
            return f"{count} connections" if count else "no connection"
        return "-"


def main(argv):
    parser = argparse.ArgumentParser(prog="./workshop top")
    parser.add_argument("--once", action="store_true", help="sample one second, print one frame")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    options = parser.parse_args(argv)
    top = Top()
    clear = "\033[H\033[2J" if sys.stdout.isatty() and not options.once else "\n"
    try:
        while (frame := top.step(options.interval)) is not None:
            sys.stdout.write((clear if not options.once else "") + frame + "\n")
            sys.stdout.flush()
            if options.once:
                return
    except KeyboardInterrupt:
        return
    if options.once:
        die("the demo stopped")
    print("\nthe demo stopped")
