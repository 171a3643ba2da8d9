"""`./workshop top [--once]`: a live view of the running demo, one row per process it started,
refreshed about once a second; --once samples one second and prints one frame.

Everything comes from what the programs already expose, nothing is added to them:
  /proc/net/tcp(6)   established connections on each port, and the bytes the kernel holds unsent
  ss -ti             bytes received from and sent to each client connection (the kernel's tcp_info)
  /proc/PID/stat     CPU time; /proc/PID/status: resident memory
  Redis              CLIENT LIST (who is connected), PUBSUB NUMSUB (who listens), and the channel
                     itself: top subscribes to it and counts each server's lines by their userId
  stderr logs        each chat server's Redis link transitions ("redis: connected", "lost",
                     "Redis is away: queueing lines"), drops, and the proxy's failed backends
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import demo_lib

TICKS = os.sysconf("SC_CLK_TCK")
NOTABLE = re.compile(r"redis: (lost|cannot connect|connected|subscribed|no answer|AUTH)|queueing|"
                     r"queue full|"
                     r"dropping client|failed|no backend|not delivered")
LEGEND = """\
CLIENTS  established TCP connections on its port (/proc/net/tcp); Redis: CLIENT LIST
SENDQ    most bytes the kernel holds unsent to one of them (tx_queue; the server's own queue is not seen)
LINES/S  lines its clients published on the channel (top listens to the channel too)
IN/S OUT/S  bytes from and to the connections on its port (kernel tcp_info, via ss -ti)
REDIS LINK  from its log; Node.js logs nothing: its connections to Redis, counted"""


def read(path):
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return ""


def tcp_table():
    """Every TCP socket of the host: dicts of local port, remote port, state, tx_queue, inode."""
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in read(name).splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10:
                continue
            tx, _ = fields[4].split(":")
            rows.append({"local": int(fields[1].rsplit(":", 1)[1], 16),
                         "remote": int(fields[2].rsplit(":", 1)[1], 16),
                         "state": fields[3], "tx": int(tx, 16), "inode": fields[9]})
    return rows


ESTABLISHED, LISTEN = "01", "0A"
ADDRESS = re.compile(r"^(\S+)\s+(\S+)\s+\S+:(\d+)\s+(\S+):(\d+)")


def tcp_bytes():
    """(local port, peer, peer port) -> (bytes received, bytes sent and acknowledged) of every
    established connection, from the kernel's tcp_info (ss -ti); {} when ss is missing."""
    if not shutil.which("ss"):
        return {}
    output = subprocess.run(["ss", "-tinH", "state", "established"], capture_output=True,
                            text=True).stdout
    counters, key = {}, None
    for line in output.splitlines():
        match = ADDRESS.match(line)
        if match:
            key = (int(match.group(3)), match.group(4), int(match.group(5)))
            continue
        if key is not None and line[:1].isspace():
            received = re.search(r"bytes_received:(\d+)", line)
            acked = re.search(r"bytes_acked:(\d+)", line)
            counters[key] = (int(received.group(1)) if received else 0,
                             int(acked.group(1)) if acked else 0)
            key = None
    return counters


def socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def process_sample(pid):
    """(cpu seconds, rchar, wchar, rss bytes) of a live pid, or None."""
    stat = read(f"/proc/{pid}/stat")
    if not stat:
        return None
    after = stat.rsplit(")", 1)[1].split()
    cpu = (int(after[11]) + int(after[12])) / TICKS
    io = dict(line.split(": ") for line in read(f"/proc/{pid}/io").splitlines() if ": " in line)
    rss = 0
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    return cpu, int(io.get("rchar", 0)), int(io.get("wchar", 0)), rss


def size(n):
    if n is None:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1000.0


class LogWatch:
    """Follows one log file: the link state of a chat server, and notable lines as they come."""

    def __init__(self, path):
        self.path = path
        self.position = 0
        self.up = {"publisher": None, "subscriber": None}
        self.queueing = False
        self.last_event = None

    def read_new(self):
        try:
            with open(self.path, "rb") as log:
                if os.fstat(log.fileno()).st_size < self.position:
                    self.position = 0
                log.seek(self.position)
                data = log.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        self.position += end
        notable = []
        for line in data[:end].decode(errors="replace").splitlines():
            if "redis: connected" in line or "redis: subscribed" in line:
                role = "subscriber" if "subscriber" in line else "publisher"
                self.up[role] = True
                if role == "publisher":
                    self.queueing = False
            elif "redis: lost" in line or "redis: cannot connect" in line:
                self.up["subscriber" if "(subscriber)" in line else "publisher"] = False
            elif "queueing lines" in line:
                self.queueing = True
            if NOTABLE.search(line) and "subscribed" not in line:
                notable.append(line)
        return notable

    def link(self):
        if self.up["publisher"] and self.up["subscriber"]:
            return "connected"
        if self.up["publisher"] is None and self.up["subscriber"] is None:
            return "connecting"
        state = "DOWN, retrying"
        if self.queueing:
            state += ", queueing lines"
        return state


class Top:
    def __init__(self):
        self.state = demo_lib.load_state()
        self.logs = {}
        self.events = []  # (when, role, line)
        self.subscriber = None
        self.subscriber_port = None
        self.lines = {}   # name -> lines counted in the current interval
        self.previous = {}
        self.previous_time = None
        self.first = True

    def refresh_state(self):
        state = demo_lib.load_state(required=False)
        if state is None:
            return False
        self.state = state
        return True

    def follow_logs(self):
        now = time.strftime("%H:%M:%S")
        for process in self.state["processes"]:
            if process["kind"] not in ("chat", "proxy", "node"):
                continue
            watch = self.logs.setdefault(process["name"], LogWatch(process["log"]))
            found = watch.read_new()
            if self.first:
                found = found[-2:]  # what happened before top started: the latest only
            for line in found:
                self.events.append(("earlier" if self.first else now, process["role"], line))
        self.events = self.events[-6:]
        self.first = False

    def count_lines(self):
        """Reads what the channel carried since the last call and credits each line to the server
        whose client wrote it (the userId starts with the server's name, its pid)."""
        port = self.state["redis_port"]
        if self.subscriber is None or self.subscriber_port != port:
            try:
                self.subscriber = demo_lib.RedisSubscriber(port, self.state["channel"])
                self.subscriber_port = port
            except OSError:
                self.subscriber = None
                return
        try:
            payloads = self.subscriber.messages()
        except (OSError, ConnectionError):
            self.subscriber.close()
            self.subscriber = None
            return
        servers = [p for p in self.state["processes"] if p["kind"] in ("chat", "node")]
        for payload in payloads:
            self.lines["redis"] = self.lines.get("redis", 0) + 1
            try:
                user = str(json.loads(payload).get("userId", ""))
            except ValueError:
                continue
            for server in sorted(servers, key=lambda s: s["kind"] != "chat"):  # C++: "PID-..."
                prefix = f"{server['pid']}-" if server["kind"] == "chat" else str(server["pid"])
                if user.startswith(prefix):
                    self.lines[server["name"]] = self.lines.get(server["name"], 0) + 1
                    break

    def sample(self):
        self.count_lines()
        self.bytes_before, self.bytes_now = getattr(self, "bytes_now", {}), tcp_bytes()
        return {p["name"]: process_sample(p["pid"]) for p in self.state["processes"]
                if p["running"]}

    def traffic(self, port, elapsed):
        """Bytes/s in from and out to the connections on `port` over the last interval."""
        if not self.bytes_now or elapsed <= 0:
            return None, None
        into = out = 0
        for key, (received, sent) in self.bytes_now.items():
            if key[0] != port:
                continue
            before = self.bytes_before.get(key, (0, 0))  # a new connection: all of it is new
            into += received - before[0]
            out += sent - before[1]
        return into / elapsed, out / elapsed

    def redis_facts(self):
        port = self.state["redis_port"]
        try:
            clients = demo_lib.redis_command(port, "CLIENT", "LIST")
            numsub = demo_lib.redis_command(port, "PUBSUB", "NUMSUB", self.state["channel"])
        except OSError:
            return None
        others = [line for line in clients.splitlines() if "name=workshop-top" not in line]
        listeners = numsub[1] - (1 if self.subscriber is not None else 0)
        return {"clients": len(others) - 1, "listeners": listeners}  # minus this CLIENT LIST

    def frame(self, now_sample, elapsed):
        state = self.state
        table = tcp_table()
        redis = self.redis_facts()
        rows = []
        bots = [p for p in state["processes"] if p["kind"] == "bot"]
        for process in state["processes"]:
            if process["kind"] == "bot":
                continue
            rows.append(self.row(process, now_sample, elapsed, table, redis))
        if bots:
            rows.append(self.bots_row(bots, now_sample, elapsed))
        listeners = "Redis away" if redis is None else f"{redis['listeners']} servers subscribed"
        head = (f"workshop demo  {time.strftime('%H:%M:%S')}   proxy 127.0.0.1:{state['proxy_port']}"
                f"   channel \"{state['channel']}\": {listeners}")
        columns = ("ROLE", "PID", "PORT", "CLIENTS", "SENDQ", "LINES/S", "IN/S", "OUT/S",
                   "RSS", "CPU%", "REDIS LINK")
        widths = (15, 7, 6, 8, 8, 8, 9, 9, 8, 6, 0)
        out = [head, ""]
        for row in [columns] + rows:
            cells = []
            for i, (cell, width) in enumerate(zip(row, widths)):
                if width == 0:
                    cells.append(str(cell))
                elif i == 0:
                    cells.append(str(cell).ljust(width))
                else:
                    cells.append(str(cell).rjust(width))
            out.append(" ".join(cells).rstrip())
        out.append("")
        if self.events:
            out.append("recent log lines:")
            for when, role, line in self.events:
                out.append(f"  {when:>8}  {role}: {line[:90]}")
            out.append("")
        out.append(LEGEND)
        return "\n".join(out)

    def rates(self, name, now_sample, elapsed):
        before, after = self.previous.get(name), now_sample.get(name)
        if before is None or after is None or elapsed <= 0:
            return None
        return ((after[0] - before[0]) / elapsed * 100, (after[1] - before[1]) / elapsed,
                (after[2] - before[2]) / elapsed, after[3])

    def row(self, process, now_sample, elapsed, table, redis):
        name, port = process["name"], process["port"]
        if not process["running"]:
            ago = time.time() - process.get("stopped", time.time())
            return (process["role"], "-", port, "", "", "", "", "", "", "",
                    f"DOWN for {ago:.0f} s (exit {process.get('exit')})")
        rate = self.rates(name, now_sample, elapsed)
        cpu, _, _, rss = rate if rate else (None, None, None, None)
        read_rate, write_rate = self.traffic(port, elapsed)
        mine = [r for r in table if r["local"] == port and r["state"] == ESTABLISHED]
        clients = len(mine)
        sendq = size(max((r["tx"] for r in mine), default=0))
        lines = "-"
        link = "-"
        if process["kind"] == "redis":
            clients = "?" if redis is None else redis["clients"]
            sendq = "-"
            lines = f"{self.lines.get('redis', 0) / elapsed:.0f}" if elapsed else "-"
        elif process["kind"] in ("chat", "node"):
            lines = f"{self.lines.get(name, 0) / elapsed:.0f}" if elapsed else "-"
            if process["kind"] == "chat":
                link = self.logs[name].link() if name in self.logs else "?"
            else:
                inodes = socket_inodes(process["pid"])
                to_redis = sum(1 for r in table if r["inode"] in inodes and r["state"] == ESTABLISHED
                               and r["remote"] == self.state["redis_port"])
                link = f"{to_redis} connections" if to_redis else "no connection"
        elif process["kind"] == "proxy":
            sendq = "-"
        return (process["role"], process["pid"], port, clients, sendq, lines,
                size(read_rate), size(write_rate), size(rss),
                "-" if cpu is None else f"{cpu:.1f}", link)

    def bots_row(self, bots, now_sample, elapsed):
        running = [b for b in bots if b["running"]]
        total = [0.0, 0.0, 0.0, 0]
        for bot in running:
            rate = self.rates(bot["name"], now_sample, elapsed)
            if rate:
                total = [a + b for a, b in zip(total, rate)]
        return (f"chat bots x{len(running)}", "-", "-", "", "", "", "", "",
                size(total[3]), f"{total[0]:.1f}", "")

    def step(self, interval):
        """Samples, waits `interval` s, samples again; returns the frame for that interval."""
        self.lines = {}
        self.follow_logs()
        self.previous = self.sample()
        self.lines = {}  # what arrived before the interval does not count
        start = time.monotonic()
        time.sleep(interval)
        if not self.refresh_state():
            return None
        now_sample = self.sample()
        elapsed = time.monotonic() - start
        self.follow_logs()
        return self.frame(now_sample, elapsed)


def main(argv):
    parser = argparse.ArgumentParser(prog="./workshop top")
    parser.add_argument("--once", action="store_true", help="sample one second, print one frame")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between frames")
    options = parser.parse_args(argv)
    top = Top()
    if options.once:
        frame = top.step(options.interval)
        if frame is None:
            demo_lib.die("the demo stopped")
        print(frame)
        return
    clear = "\033[H\033[2J" if sys.stdout.isatty() else "\n"
    try:
        while True:
            frame = top.step(options.interval)
            if frame is None:
                print("\nthe demo stopped")
                return
            sys.stdout.write(clear + frame + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass
