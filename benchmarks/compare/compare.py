#!/usr/bin/env python3
"""The talk's Node.js programs against our C++ solutions, on the same load, side by side.

Run by `./workshop compare [--quick]`. For each scenario it starts the Node.js original, runs our
load tool (benchmarks/NN-*/, or wrk) against it, stops it; then the same for the C++ solution;
and again, interleaved (A B A B), so that a busy moment on this shared machine hits both. It
prints one table (median of the runs, min-max beside it), and writes benchmarks/results/:
compare-DATE.csv and latest.csv (every run's figures), latest.md (the table) and SVG charts
drawn by gnuplot (--out DIR writes them elsewhere). Standard library only.

Honest figures on a small machine: with two or more cores the programs under test (servers,
Redis, nginx, HAProxy) run pinned to one core and the load tools to another, both Node.js and C++
the same way. The servers' CPU time (/proc/PID/task/*/schedstat, in ns) over the load phase
gives the CPU per delivered line; the load tool's own CPU says whether it saturated its core
("load-bound": then a throughput figure measures the load tool, not the server). The write
floor (benchmarks/03-chat-server/write_floor) is what one write(2) to a loopback socket costs
here, the bottom under any chat server's CPU per line.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import wslib  # noqa: E402  the ready line, programs and Redis started by pid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NODE_DIR = os.path.join(ROOT, "reference", "node")
KINDS = ("node", "cpp")
SHOWN = {"node": "Node.js", "cpp": "C++"}


# ---------------------------------------------------------------- processes under test


def raise_fd_limit():
    """Both servers get the same open-file limit (the hard one): every client is a descriptor."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# The cores: programs under test on SERVER_CPUS, load tools on LOAD_CPUS (main() sets them; None
# on a one-core machine, where nothing is pinned).
SERVER_CPUS, LOAD_CPUS = None, None


def pinned(cpus):
    """A preexec_fn: the fd limit raised, and the child (with all its threads) kept on `cpus`."""
    def prepare():
        raise_fd_limit()
        if cpus:
            os.sched_setaffinity(0, cpus)
    return prepare


def under_test():
    return pinned(SERVER_CPUS)


def load_side():
    return pinned(LOAD_CPUS)


def cores_line():
    if not SERVER_CPUS:
        return "one core: servers and load tools share it (nothing pinned)"
    return (f"programs under test pinned to core {','.join(map(str, sorted(SERVER_CPUS)))}, "
            f"load tools to core {','.join(map(str, sorted(LOAD_CPUS)))}")


CLOCK_TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def cpu_ns(pid):
    """CPU time (user + system) of every thread of `pid` so far, in ns: the first field of
    /proc/PID/task/*/schedstat (exact), else utime + stime of /proc/PID/stat (clock ticks).
    Returns (ns, "schedstat" or "stat"), or (nan, "") when the process is gone."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total, "schedstat"
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * CLOCK_TICK_NS, "stat"
    except (OSError, ValueError, IndexError):
        return float("nan"), ""


class Server(wslib.Program):
    """A program under test: started, waited for (its ready line), measured, stopped. Its
    stdout is LOG_DIR/NAME.out, its stderr NAME.log (tools/wslib.py)."""

    def __init__(self, command, name, cpus="server"):
        super().__init__(command, name, LOG_DIR,
                         preexec_fn=under_test() if cpus == "server" else load_side())
        try:
            self.started(15.0)
        except RuntimeError as failed:
            raise RuntimeError(f"{failed}; see {self.log_path}") from None

    def peak_memory_mib(self):
        """VmHWM: the most resident memory the process has had since it started."""
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return float("nan")

    def stop(self, timeout=3.0):
        return super().stop(timeout)


def program_command(kind, lesson, program, args):
    if kind == "node":
        return ["node", os.path.join(NODE_DIR, program + ".js")] + args
    return [os.path.join(RELEASE_DIR, "solutions", lesson, program)] + args


def start(kind, lesson, program, args=(), cpus="server"):
    """Starts a program under test on the servers' core (cpus="load": beside the load tools,
    for a helper such as a proxy's backend)."""
    args = ["--host", "127.0.0.1", "--port", "0"] + list(args)
    return Server(program_command(kind, lesson, program, args), f"{kind}-{program}", cpus)


free_port = wslib.free_port


class Redis(wslib.Redis):
    """A private redis-server on a free port, for the distributed chat."""

    def __init__(self):
        super().__init__(LOG_DIR, extra=("--maxclients", "10000"), preexec_fn=under_test())
        self.started(10.0)


# ---------------------------------------------------------------- load tools


def tool(lesson, name):
    path = os.path.join(RELEASE_DIR, "benchmarks", lesson, name)
    return path if os.access(path, os.X_OK) else None


def run_json(command, timeout):
    """Runs a load tool (on the load core); returns the last JSON object it printed on stdout."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=load_side())
    for line in reversed(done.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{' '.join(command)} printed no JSON (exit {done.returncode}): "
                       f"{(done.stdout + done.stderr)[-600:]}")


class CpuWatch:
    """The CPU time the watched processes use between start() and stop(), and the wall time."""

    def __init__(self, pids):
        self.pids = list(pids)
        self.sources = set()

    def snapshot(self):
        figures = []
        for pid in self.pids:
            ns, source = cpu_ns(pid)
            self.sources.add(source)
            figures.append(ns)
        return time.monotonic(), figures

    def start(self):
        self.began, self.before = self.snapshot()

    def stop(self):
        self.ended, after = self.snapshot()
        self.used_ns = [b - a for a, b in zip(self.before, after)]
        self.wall_s = self.ended - self.began
        return self.used_ns


class Measured:
    """What a load run measured besides the tool's own figures: the servers' CPU (ns each, over
    `over`), the load tool's CPU as a share of one core, over the same span."""

    def __init__(self, server_ns, load_share, over, exact):
        self.server_ns, self.load_share, self.over, self.exact = server_ns, load_share, over, exact


def run_load(command, timeout, server_pids):
    """Runs a load tool on the load core while watching `server_pids`. A tool that supports
    phases (chat_load --phases) prints {"phase":"connected"} when its clients have joined, waits
    for a line on its stdin before it starts, and, after its result line, until its stdin closes:
    the CPU is then measured over the load phase alone, from before its first line. Returns (the
    tool's last JSON object, Measured)."""
    with open(os.path.join(LOG_DIR, "load.log"), "a") as errors:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=errors, text=True, preexec_fn=load_side())
    killer = threading.Timer(timeout, process.kill)
    killer.start()
    servers, load = CpuWatch(server_pids), CpuWatch([process.pid])
    servers.start()
    load.start()
    over, result, output = "the whole run", None, []
    try:
        for line in process.stdout:
            output.append(line)
            line = line.strip()
            if line == '{"phase":"connected"}':
                servers.start()
                load.start()
                over = "the load phase"
                process.stdin.write("go\n")  # only now: a burst is over in milliseconds
                process.stdin.flush()
            elif line.startswith("{"):
                result = json.loads(line)
                servers.stop()
                load.stop()
                process.stdin.close()  # the tool may disconnect now
    finally:
        killer.cancel()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if result is None:
        raise RuntimeError(f"{' '.join(command)} printed no JSON (exit {process.returncode}): "
                           f"{''.join(output)[-600:]}")
    if load.used_ns[0] != load.used_ns[0]:  # gone before it could be read: its whole run
        load.used_ns = [(usage.ru_utime + usage.ru_stime) * 1e9]
    share = 100.0 * load.used_ns[0] / 1e9 / load.wall_s if load.wall_s > 0 else float("nan")
    return result, Measured(servers.used_ns, share, over, servers.sources == {"schedstat"})


def cpu_figures(measured, delivered, per="delivered line", redis_index=None):
    """The servers' CPU per delivered line (all servers summed; Redis on its own), and the
    load tool's share of its core."""
    server_ns = [ns for i, ns in enumerate(measured.server_ns) if i != redis_index]
    figures = [(f"server CPU per {per}", "µs", "lower",
                sum(server_ns) / 1000 / delivered if delivered else float("nan"))]
    if redis_index is not None:
        figures.append((f"Redis CPU per {per}", "µs", "lower",
                        measured.server_ns[redis_index] / 1000 / delivered
                        if delivered else float("nan")))
    figures.append((LOAD_SHARE, "%", "info", measured.load_share))
    if measured.over != "the load phase":
        log(f"    (CPU measured over {measured.over}: the load tool printed no phases)")
    if not measured.exact and server_ns and sum(server_ns) < 20 * CLOCK_TICK_NS:
        log(f"    (CPU from clock ticks: {sum(server_ns) / 1e6:.0f} ms measured, the 10 ms tick "
            f"is more than 5% of it)")
    return figures


LOAD_SHARE = "load tool's CPU, share of its core"
LOAD_BOUND = 90.0  # % of its core: above it, the load tool is what is being measured


def first(result, *keys):
    """The first of `keys` the tool's JSON has (the tools' names for a figure vary)."""
    for key in keys:
        if key in result and result[key] is not None:
            return float(result[key])
    raise KeyError(f"none of {keys} in {result}")


def wrk_figures(server_pids, seconds, connections, port):
    """wrk (one thread, on the load core) against `port`: requests/s, the servers' CPU per
    request and wrk's share of its core, both over wrk's whole run (it has no phases)."""
    servers = CpuWatch(server_pids)
    servers.start()
    process = subprocess.Popen(["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s",
                                f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, preexec_fn=load_side())
    killer = threading.Timer(seconds + 30, process.kill)
    killer.start()
    try:
        stdout = process.stdout.read()
    finally:
        killer.cancel()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    servers.stop()
    match = re.search(r"Requests/sec:\s+([\d.]+)", stdout)
    total = re.search(r"(\d+) requests in", stdout)
    if not match or not total:
        raise RuntimeError("wrk: " + stdout)
    errors = re.search(r"Socket errors: (.*)", stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    if errors or non2xx:
        log(f"    wrk: {(errors.group(1) if errors else '')}"
            f"{f' non-2xx {non2xx.group(1)}' if non2xx else ''}")
    share = 100.0 * (usage.ru_utime + usage.ru_stime) / servers.wall_s
    requests = float(total.group(1))
    return [("requests/s", "req/s", "higher", float(match.group(1))),
            ("server CPU per request (whole wrk run)", "µs", "lower",
             sum(servers.used_ns) / 1000 / requests if requests else float("nan")),
            (LOAD_SHARE, "%", "info", share)]


# ---------------------------------------------------------------- scenarios
# Each scenario runs once against one kind of server and returns [(metric, unit, better, value)],
# `better` being "higher" or "lower". Sizes come from SIZES[quick or full].

SIZES = {
    "full": {"runs": 5, "hello_clients": 10000, "idle_clients": 10000, "wrk_seconds": 10,
             "connect_seconds": 5,
             # (senders, receivers, lines each): 5-8 million deliveries, so that a run lasts
             # long enough for its CPU figure (a 0.1 s run spread 2x), and what one receiver is
             # owed stays under the chat's 8 MiB --max-backlog (10 x 4,000 x 64 B = 2.6 MB)
             "chat": [(1, 100, 50000), (1, 1000, 5000), (10, 200, 4000)],
             "proxy_seconds": 5, "paced_lines": 2000, "fast_paced_lines": 20000},
    "quick": {"runs": 3, "hello_clients": 2000, "idle_clients": 10000, "wrk_seconds": 3,
              "connect_seconds": 2,
              "chat": [(1, 100, 2000), (1, 1000, 200), (10, 200, 100)],
              "proxy_seconds": 1, "paced_lines": 500, "fast_paced_lines": 5000},
}


def scenario_hello_held(sizes):
    """hello_http, --delay-ms 1000: N clients at once, each held a second by the delay."""
    load = tool("01-hello-http", "hello_load")
    if not load:
        return None, "benchmarks/01-hello-http/hello_load is not built"
    clients = sizes["hello_clients"]

    def run(kind):
        server = start(kind, "01-hello-http", "hello_http", ["--delay-ms", "1000"])
        try:
            result = run_json([load, "--port", str(server.port), "--clients", str(clients),
                               "--timeout-ms", "60000"], 120)
            return [("wall time", "ms", "lower", first(result, "wall_ms")),
                    ("slowest client's wait (p99)", "ms", "lower", first(result, "p99_ms")),
                    ("answered", "%", "higher", 100.0 * first(result, "ok") / clients),
                    ("peak memory", "MiB", "lower", server.peak_memory_mib())]
        finally:
            server.stop()
    return run, f"hello HTTP, {clients:,} clients held 1 s"


def status_kib(pid, field):
    """A figure of /proc/PID/status in KiB (VmRSS, VmHWM), or nan when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def open_descriptors(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def hold_idle_clients(server, clients, seconds=30.0):
    """Connects `clients` sockets to `server` that send nothing, a thousand at a time, each batch
    once the server holds the one before (its listen backlog is 4096). Returns the sockets, and
    how many the server holds (its descriptors beyond those it had before)."""
    before = open_descriptors(server.pid)
    held, deadline = [], time.monotonic() + seconds
    try:
        while len(held) < clients and time.monotonic() < deadline:
            for _ in range(min(1000, clients - len(held))):
                held.append(socket.create_connection(("127.0.0.1", server.port), 5.0))
            while (open_descriptors(server.pid) - before < len(held)
                   and time.monotonic() < deadline and server.alive()):
                time.sleep(0.01)
    except OSError as error:
        log(f"    connecting idle clients: {error} after {len(held)}")
    time.sleep(0.5)  # each session's first read is under way
    return held, open_descriptors(server.pid) - before


def scenario_idle(lesson, program, title, cpp_args=()):
    """N clients that connect and send nothing: the server's memory per client, its peak
    resident memory (VmHWM) once it holds them all less its resident memory before the first,
    divided by N. What a quiet client costs is what decides how many a server can hold."""
    def make(sizes):
        clients = sizes["idle_clients"]

        def run(kind):
            raise_fd_limit()  # this process holds the clients' end of every connection
            server = start(kind, lesson, program, list(cpp_args) if kind == "cpp" else [])
            held = []
            try:
                time.sleep(0.2)
                empty = status_kib(server.pid, "VmRSS")
                held, holding = hold_idle_clients(server, clients)
                peak = status_kib(server.pid, "VmHWM")
                return [("memory per idle client", "KiB", "lower", (peak - empty) / clients),
                        ("idle clients held", "%", "higher", 100.0 * holding / clients)]
            finally:
                for client in held:
                    client.close()
                server.stop()
        return run, f"{title}, {clients:,} idle clients (connected, nothing sent)"
    return make


NGINX_CONFIG = """daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type text/plain; return 200 "Hello\\nWorld\\n"; }}
  }}
}}
"""


def wait_for_port(port, process, name, seconds=10.0):
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start (see {LOG_DIR})")
            time.sleep(0.05)


def stop_process(process):
    """SIGTERM to the one pid we started, then SIGKILL; waits for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def nginx_pids(master):
    """nginx's master and its worker(s): the worker is the master's child."""
    pids = [master]
    try:
        with open(f"/proc/{master}/task/{master}/children") as f:
            pids += [int(pid) for pid in f.read().split()]
    except OSError:
        pass
    return pids


def peak_memory_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def scenario_hello_keepalive(sizes):
    """hello_http, --delay-ms 0, under wrk's keep-alive load; nginx with one worker beside it."""
    if not shutil.which("wrk"):
        return None, "wrk is not installed (Debian package wrk)"
    seconds = sizes["wrk_seconds"]

    def run(kind):
        server = start(kind, "01-hello-http", "hello_http", ["--delay-ms", "0"])
        try:
            return wrk_figures([server.pid], seconds, 50, server.port) + [
                ("peak memory", "MiB", "lower", server.peak_memory_mib())]
        finally:
            server.stop()

    def nginx():
        prefix = os.path.join(LOG_DIR, "nginx")
        os.makedirs(prefix, exist_ok=True)
        port = free_port()
        config = os.path.join(prefix, "nginx.conf")
        with open(config, "w") as f:
            f.write(NGINX_CONFIG.format(prefix=prefix, port=port))
        with open(os.path.join(prefix, "stderr.log"), "a") as errors:
            process = subprocess.Popen(["nginx", "-c", config, "-p", prefix + "/", "-e",
                                        os.path.join(prefix, "error.log")],
                                       stdout=errors, stderr=errors, stdin=subprocess.DEVNULL,
                                       preexec_fn=under_test())
        try:
            wait_for_port(port, process, "nginx")
            pids = nginx_pids(process.pid)
            figures = wrk_figures(pids, seconds, 50, port)
            return figures + [("peak memory", "MiB", "lower",
                               sum(peak_memory_mib(pid) for pid in pids))]
        finally:
            stop_process(process)

    references = [("nginx, 1 worker", nginx)] if shutil.which("nginx") else []
    return run, f"hello HTTP keep-alive, no delay (wrk, 50 connections, {seconds} s)", references


def scenario_tcp_connections(sizes):
    """tcp_server: short connections per second, each reading Hello, world and end-of-file."""
    load = tool("02-tcp-server", "connect_load")
    if not load:
        return None, "benchmarks/02-tcp-server/connect_load is not built"
    seconds = sizes["connect_seconds"]

    def run(kind):
        server = start(kind, "02-tcp-server", "tcp_server")
        try:
            result = run_json([load, "--port", str(server.port), "--threads", "4",
                               "--seconds", str(seconds)], seconds + 60)
            if result.get("failed"):
                log(f"    {SHOWN[kind]}: {result['failed']} connections failed")
            return [("connections/s", "conn/s", "higher", first(result, "connections_per_second")),
                    ("peak memory", "MiB", "lower", server.peak_memory_mib())]
        finally:
            server.stop()
    return run, f"TCP hello, short connections (4 at a time, {seconds} s)"


# How a sender writes its burst: lines per write (chat_load --per-write; 0 the whole burst in one
# write). A chat client is the first: it writes each line as it is typed or produced, and the
# server's reads catch however many happen to have arrived.
SHAPES = ((1, "1 line a write (a chat client)"), (16, "16 lines a write"),
          (0, "whole burst in 1 write"))


def chat_figures(load, servers, senders, receivers, lines, rate=0, redis=None, per_write=0):
    """chat_load on `servers` (and `redis`, watched on its own): 64-byte lines, each sender's
    lines `per_write` a write (0: all in one; or `rate` lines/s each, one a write); the servers'
    CPU over the load phase."""
    addresses = ",".join(f"127.0.0.1:{server.port}" for server in servers)
    pids = [server.pid for server in servers] + ([redis.pid] if redis else [])
    result, measured = run_load(
        [load, "--server", addresses, "--senders", str(senders), "--receivers", str(receivers),
         "--lines", str(lines), "--bytes", "64", "--timeout", "40", "--phases",
         "--per-write", str(per_write)]
        + (["--rate", str(rate)] if rate else []), 120, pids)
    expected, delivered = first(result, "expected"), first(result, "delivered")
    return [("delivered lines/s", "lines/s", "higher", first(result, "lines_per_s")),
            ("latency p50", "ms", "lower", first(result, "p50_us") / 1000),
            ("latency p99", "ms", "lower", first(result, "p99_us") / 1000),
            ("lines delivered intact", "%", "higher",
             100.0 * (delivered - first(result, "corrupt")) / expected)] + cpu_figures(
        measured, delivered, redis_index=len(servers) if redis else None)


# ---------------------------------------------------------------- the write floor

# lines a write -> {"us_per_write", "us_per_line"}, measured once by measure_floor(): writes to
# one socket (FLOOR: the lower bound, the chat rows' reference) and to FLOOR_PEERS sockets in
# turn (FLOOR_ROOM, a room's shape: each write then also wakes the reader, so a server that
# writes a burst to its room, its reader waking once, can go below it), and paced as the paced
# chat row is (FLOOR_PACED: one line to each of FLOOR_PEERS sockets PACED_RATE times a second, so
# that every write wakes a reader that sleeps: the paced row's reference).
FLOOR, FLOOR_ROOM, FLOOR_PACED = {}, {}, {}
FLOOR_PEERS = 100
PACED_RATE = 500


def measure_floor(quick):
    """Runs write_floor once for each shape, on both cores (its writer on the servers' core)."""
    floor = tool("03-chat-server", "write_floor")
    if not floor and os.path.exists(os.path.join(RELEASE_DIR, "CMakeCache.txt")):
        log("  building benchmarks/03-chat-server/write_floor (bench_03_write_floor)")
        subprocess.run(["cmake", "--build", RELEASE_DIR, "--target", "bench_03_write_floor"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        floor = tool("03-chat-server", "write_floor")
    if not floor:
        return "benchmarks/03-chat-server/write_floor is not built (bench_03_write_floor)"
    both = (SERVER_CPUS | LOAD_CPUS) if SERVER_CPUS else None
    for peers, into, more in ((1, FLOOR, []), (FLOOR_PEERS, FLOOR_ROOM, []),
                              (FLOOR_PEERS, FLOOR_PACED, ["--rate", str(PACED_RATE)])):
        try:
            result = subprocess.run([floor, "--seconds", "0.3" if quick else "1", "--rounds", "3",
                                     "--peers", str(peers)] + more, capture_output=True, text=True,
                                    timeout=120, preexec_fn=pinned(both)).stdout
            for case in json.loads(result.strip().splitlines()[-1])["cases"]:
                into[case["lines"]] = case
        except (subprocess.SubprocessError, ValueError, KeyError, IndexError) as error:
            return f"write_floor failed: {error}"
    return None


def floor_line():
    if 1 not in FLOOR or 16 not in FLOOR:
        return ""
    at_64 = f", {FLOOR[64]['us_per_line']:.3f} at 64" if 64 in FLOOR else ""
    text = (f"floor: {FLOOR[1]['us_per_write']:.2f} µs per 64-byte write, "
            f"{FLOOR[16]['us_per_line']:.2f} µs per line at 16 a write"
            f"{at_64}, "
            f"to one socket")
    if 1 in FLOOR_ROOM and 16 in FLOOR_ROOM:
        text += (f" (to {FLOOR_PEERS} sockets in turn: {FLOOR_ROOM[1]['us_per_write']:.2f} µs per "
                 f"write, {FLOOR_ROOM[16]['us_per_line']:.2f} per line at 16)")
    if 1 in FLOOR_PACED:
        text += (f", paced ({PACED_RATE} lines/s to {FLOOR_PEERS} sockets, each write waking its "
                 f"reader): {FLOOR_PACED[1]['us_per_write']:.2f} µs per write")
    return text + "; benchmarks/03-chat-server/write_floor, one write(2) to a loopback socket"


def floor_references(lines_a_write, paced=False):
    """A chat row's reference: the write floor's CPU per line at `lines_a_write` lines a write
    to one socket (paced: one line to each of a room's sockets at the paced row's rate)."""
    table = FLOOR_PACED if paced else FLOOR

    def measure():
        if lines_a_write not in table:
            raise RuntimeError("no write floor (write_floor not built?)")
        return [("server CPU per delivered line", "µs", "lower",
                 table[lines_a_write]["us_per_line"])]
    if paced:
        return [(f"write floor, paced: 1 line to {FLOOR_PEERS} sockets {PACED_RATE} times a "
                 f"second", measure, "once")]
    return [(f"write floor, {lines_a_write} line{'s' if lines_a_write > 1 else ''} a write",
             measure, "once")]


def scenario_chat(index, shape):
    """chat_server: the index-th of SIZES' (senders, receivers, lines) fan-outs, its senders
    writing as SHAPES[shape] says."""
    per_write, shown = SHAPES[shape]

    def make(sizes):
        senders, receivers, lines = sizes["chat"][index]
        load = tool("03-chat-server", "chat_load")
        title = f"chat fan-out {senders}x{receivers} ({lines} lines each), {shown}"
        if not load:
            return None, "benchmarks/03-chat-server/chat_load is not built"

        def run(kind):
            server = start(kind, "03-chat-server", "chat_server")
            try:
                figures = chat_figures(load, [server], senders, receivers, lines,
                                       per_write=per_write)
                if not server.alive():
                    raise RuntimeError(f"the server died (exit {server.process.poll()})")
                return figures + [("peak memory", "MiB", "lower", server.peak_memory_mib())]
            finally:
                server.stop()
        return run, title, floor_references(16)
    return make


def scenario_chat_paced(sizes):
    """chat_server, one sender at a steady rate: one line a read, so one line a write at best."""
    return chat_paced(sizes, PACED_RATE, sizes["paced_lines"], floor_references(1, paced=True))


def scenario_chat_paced_fast(sizes):
    """chat_server, one sender at 20,000 lines/s: an offered load that does not depend on the
    server, fast enough that a server may batch lines that arrive while it writes."""
    return chat_paced(sizes, 20000, sizes["fast_paced_lines"], [])


def chat_paced(sizes, rate, lines, references):
    load = tool("03-chat-server", "chat_load")
    if not load:
        return None, "benchmarks/03-chat-server/chat_load is not built"
    receivers = FLOOR_PEERS

    def run(kind):
        server = start(kind, "03-chat-server", "chat_server")
        try:
            figures = chat_figures(load, [server], 1, receivers, lines, rate=rate)
            if not server.alive():
                raise RuntimeError(f"the server died (exit {server.process.poll()})")
            return figures
        finally:
            server.stop()
    return run, (f"chat paced, 1 sender at {rate:,} lines/s to {receivers} ({lines:,} lines)"), \
        references


def scenario_distributed(index, shape):
    """distributed_chat: two servers on one Redis, the index-th of SIZES' chat fan-outs, with the
    receivers and the senders spread over both servers, the senders writing as SHAPES[shape]."""
    per_write, shown = SHAPES[shape]

    def make(sizes):
        senders, receivers, lines = sizes["chat"][index]
        load = tool("03-chat-server", "chat_load")
        title = (f"distributed chat, 2 servers + Redis, {senders}x{receivers} ({lines} lines "
                 f"each), {shown}")
        if not load:
            return None, "benchmarks/03-chat-server/chat_load is not built"
        if not shutil.which("redis-server"):
            return None, "redis-server is not installed"

        def run(kind):
            redis = Redis()
            servers = []
            try:
                for _ in range(2):
                    servers.append(start(kind, "04-distributed-chat", "distributed_chat",
                                         ["--redis", f"127.0.0.1:{redis.port}", "--channel",
                                          "compare"]))
                time.sleep(0.5)  # both subscribed before the first line
                figures = chat_figures(load, servers, senders, receivers, lines, redis=redis,
                                       per_write=per_write)
                if not all(s.alive() for s in servers):
                    raise RuntimeError("a server died during the load")
                return figures + [("peak memory, both servers", "MiB", "lower",
                                   sum(s.peak_memory_mib() for s in servers))]
            finally:
                for server in servers:
                    server.stop()
                redis.stop()
        return run, title, floor_references(16)
    return make


def proxy_bench_figure(command, key, timeout):
    """proxy_bench prints `name key=value ...`; returns value as a float."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=load_side())
    match = re.search(re.escape(key) + r"=([\d.]+)", done.stdout)
    if not match:
        raise RuntimeError(f"{' '.join(command)}: no {key} in {(done.stdout + done.stderr)[-300:]}")
    failed = re.search(r"failed=(\d+)", done.stdout)
    return float(match.group(1)), int(failed.group(1)) if failed else 0


def proxy_figures(bench, port, seconds, greeting_port=None):
    """Bulk bytes and short connections through `port` to the echo backend; with
    greeting_port (a proxy in front of tcp_server), short connections that only read too."""
    s = str(seconds)
    one, _ = proxy_bench_figure([bench, "throughput", "--port", str(port), "--connections", "1",
                                 "--seconds", s], "MiB/s", seconds + 60)
    eight, _ = proxy_bench_figure([bench, "throughput", "--port", str(port), "--connections",
                                   "8", "--seconds", s], "MiB/s", seconds + 60)
    rate, failed = proxy_bench_figure([bench, "connections", "--port", str(port), "--threads",
                                       "4", "--seconds", s], "per_second", seconds + 60)
    return [("throughput, 1 connection", "MiB/s", "higher", one),
            ("throughput, 8 connections", "MiB/s", "higher", eight),
            ("short connections/s", "conn/s", "higher", rate),
            ("short connections that failed", "/s", "lower", failed / seconds)] + (
        [] if greeting_port is None else greeting_figures(greeting_port, seconds))


def greeting_figures(port, seconds):
    load = tool("02-tcp-server", "connect_load")
    if not load:
        return []
    result = run_json([load, "--port", str(port), "--threads", "4", "--seconds", str(seconds)],
                      seconds + 60)
    return [("short connections/s to tcp_server, client never half-closes", "conn/s", "higher",
             first(result, "connections_per_second"))]


class Backend:
    """proxy_bench's echo server: the backend every proxy forwards to. Beside the load tools
    (cpus="load"), so that the proxy has its core to itself; on the servers' core when it is
    what is measured (direct)."""

    def __init__(self, bench, cpus="load"):
        self.server = Server([bench, "echo", "--port", "0"], "echo-backend", cpus)
        self.port = self.server.port

    def stop(self):
        self.server.stop()


HAPROXY_CONFIG = os.path.join(ROOT, "benchmarks", "haproxy.cfg")  # its port and backend: env


def scenario_proxy(sizes):
    """reverse_proxy in front of one echo backend: bulk bytes and short connections."""
    bench = tool("05-reverse-proxy", "proxy_bench")
    if not bench:
        return None, "benchmarks/05-reverse-proxy/proxy_bench is not built"
    seconds = sizes["proxy_seconds"]

    def run(kind):
        backend = Backend(bench)
        greeter = start("cpp", "02-tcp-server", "tcp_server", cpus="load")
        proxies = []
        try:
            for target in (backend, greeter):
                proxies.append(start(kind, "05-reverse-proxy", "reverse_proxy",
                                     ["--backend", f"127.0.0.1:{target.port}"]))
            figures = proxy_figures(bench, proxies[0].port, seconds, proxies[1].port)
            for proxy in proxies:
                if not proxy.alive():
                    raise RuntimeError(f"the proxy died under load (exit {proxy.process.poll()})")
            return figures + [("peak memory", "MiB", "lower", proxies[0].peak_memory_mib())]
        finally:
            for server in proxies + [greeter, backend]:
                server.stop()

    def direct(cpus="server"):
        backend = Backend(bench, cpus=cpus)
        greeter = start("cpp", "02-tcp-server", "tcp_server", cpus=cpus)
        try:
            return proxy_figures(bench, backend.port, seconds, greeter.port)
        finally:
            greeter.stop()
            backend.stop()

    def haproxy():
        backend = Backend(bench)
        port = free_port()
        log_file = open(os.path.join(LOG_DIR, "haproxy.log"), "w")
        process = subprocess.Popen(["haproxy", "-db", "-f", HAPROXY_CONFIG],
                                   stdout=subprocess.DEVNULL, stderr=log_file,
                                   preexec_fn=under_test(),
                                   env=dict(os.environ, HAPROXY_PORT=str(port),
                                            HAPROXY_BACKEND=str(backend.port)))
        log_file.close()  # the child has its own copy
        try:
            wait_for_port(port, process, "haproxy")
            return proxy_figures(bench, port, seconds)
        finally:
            stop_process(process)
            backend.stop()

    # Through a proxy, the backend runs beside the load tool, so that the proxy has a core to
    # itself: the load core then does all the work that direct, with the backend on the other
    # core, spreads over two. The second ceiling is that layout without the proxy.
    references = [("direct to the backend (the ceiling)", direct),
                  ("direct, the backend beside the load (the proxy's layout)",
                   lambda: direct(cpus="load"))]
    if shutil.which("haproxy"):
        references.append(("HAProxy, 1 thread, a log line per connection", haproxy))
    return run, f"reverse proxy to an echo backend ({seconds} s each)", references


# ---------------------------------------------------------------- running, summing up, writing


def log(text):
    print(text, file=sys.stderr, flush=True)


def describe_machine():
    def read(path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""
    cpu = re.search(r"model name\s*:\s*(.*)", read("/proc/cpuinfo"))
    memory = re.search(r"MemTotal:\s*(\d+) kB", read("/proc/meminfo"))
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    compiler = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu.group(1).strip() if cpu else platform.machine(),
        "memory": f"{int(memory.group(1)) / 1024 / 1024:.0f} GiB" if memory else "?",
        "kernel": platform.release(),
        "node": node,
        "compiler": compiler.splitlines()[0] if compiler else "?",
    }


def machine_line(machine):
    return (f"{machine['nproc']} cores ({machine['cpu']}), {machine['memory']}, Linux "
            f"{machine['kernel']}, Node.js {machine['node']}, {machine['compiler']}")


def load_average():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def summarize(rows, attempts):
    """One line per (scenario, metric): each kind's median, min and max over the runs.
    attempts[(scenario, kind)] counts the runs tried, so failed runs show as failed."""
    table = {}
    for row in rows:
        key = (row["scenario"], row["metric"], row["unit"], row["better"])
        table.setdefault(key, {kind: [] for kind in KINDS}).setdefault(row["kind"], []).append(
            row["value"])
    summary = []
    for (scenario, metric, unit, better), values in table.items():
        line = {"scenario": scenario, "metric": metric, "unit": unit, "better": better,
                "references": [kind for kind in values if kind not in KINDS]}
        for kind in values:
            good = [v for v in values[kind] if v == v]  # drops NaN: runs that failed
            line[kind] = {
                "median": statistics.median(good) if good else float("nan"),
                "min": min(good) if good else float("nan"),
                "max": max(good) if good else float("nan"),
                "values": values[kind],
                "failed": attempts.get((scenario, kind), len(good)) - len(good)}
        node, cpp = line["node"]["median"], line["cpp"]["median"]
        line["ratio"] = cpp / node if node and node == node and cpp == cpp else float("nan")
        summary.append(line)
    return summary


def number(value, unit):
    if value != value:
        return "-"
    if unit in ("ms",) and value < 10:
        return f"{value:.2f}"
    if unit == "KiB" and value < 10:  # per idle client: hundredths of a KiB
        return f"{value:.2f}"
    if unit == "µs" and value < 10:  # CPU per line: 0.06 against 0.5 is the whole story
        return f"{value:.3f}" if value < 1 else f"{value:.2f}"
    if value >= 100 or unit in ("req/s", "lines/s", "conn/s"):
        return f"{value:,.0f}"
    return f"{value:.1f}"


def cell(figures, unit, runs):
    runs = len([v for v in figures["values"] if v == v]) + figures["failed"]
    if figures["failed"] == runs:
        return f"failed ({runs}/{runs} runs)"
    text = f"{number(figures['median'], unit)} {unit}"
    if len([v for v in figures["values"] if v == v]) > 1:
        text += f" ({number(figures['min'], unit)}-{number(figures['max'], unit)})"
    if figures["failed"]:
        text += f", failed {figures['failed']}/{runs} runs"
    return text


def verdict(line):
    node, cpp, ratio = line["node"]["median"], line["cpp"]["median"], line["ratio"]
    if line["better"] == "info":
        bound = [SHOWN[k] for k in KINDS if line[k]["median"] >= LOAD_BOUND]
        return f"load-bound: {', '.join(bound)}" if bound else "-"
    if node == 0 and cpp == 0:
        return "even"
    if line["better"] == "higher" and node == 0 and cpp > 0:
        return "only C++"
    if line["better"] == "lower" and cpp == 0 and node > 0:
        return "only Node.js has any" if line["unit"] != "MiB" else "-"
    if ratio != ratio:
        return "-"
    advantage = ratio if line["better"] == "higher" else (1 / ratio if ratio else float("inf"))
    if 0.9 <= advantage <= 1.1:
        return "even"
    if advantage > 1:
        return f"C++ {advantage:.1f}x better"
    return f"Node.js {1 / advantage:.1f}x better"


def load_bound(summary):
    """{scenario: [kinds whose load tool used >= LOAD_BOUND % of its core, median of the runs]}"""
    bound = {}
    for line in summary:
        if line["metric"] == LOAD_SHARE:
            for kind in [k for k in line if k in KINDS or k in line["references"]]:
                if line[kind]["median"] >= LOAD_BOUND:
                    bound.setdefault(line["scenario"], []).append(SHOWN.get(kind, kind))
    return bound


def reference_ratios(line):
    """"0.54 of nginx, 1 worker": C++'s median over each reference's, for the main table."""
    parts = []
    if line["better"] == "info":
        return "-"
    for reference in line["references"]:
        figure, cpp = line[reference]["median"], line["cpp"]["median"]
        if figure and figure == figure and cpp == cpp:
            parts.append(f"{cpp / figure:.2f}x {reference}")
    return "; ".join(parts) or "-"


def references_table(summary, runs):
    lines = ["| scenario | metric | measured on the same runs | figure | C++ / it | Node.js / it |",
             "|---|---|---|---|---|---|"]
    for line in summary:
        for reference in line["references"]:
            figure = line[reference]["median"]
            ratios = [f"{line[k]['median'] / figure:.2f}" if figure and figure == figure and
                      line[k]["median"] == line[k]["median"] else "-" for k in ("cpp", "node")]
            lines.append(f"| {line['scenario']} | {line['metric']} | {reference} | "
                         f"{cell(line[reference], line['unit'], runs)} | {ratios[0]} | "
                         f"{ratios[1]} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def markdown_table(summary, runs):
    """Every figure, Node.js beside C++, their ratio, C++'s ratio to each reference (nginx,
    HAProxy, the direct ceiling, the write floor); rows whose load tool saturated its core say
    "load-bound"."""
    bound = load_bound(summary)
    lines = ["| scenario | metric | Node.js | C++ | C++ / Node.js | C++ / reference | |",
             "|---|---|---|---|---|---|---|"]
    for line in summary:
        ratio = "-" if line["ratio"] != line["ratio"] else f"{line['ratio']:.2f}"
        better = f" ({line['better']} is better)" if line["better"] in ("higher", "lower") else ""
        judged = verdict(line)
        if line["scenario"] in bound and line["better"] == "higher" and line["unit"] != "%":
            judged += f"; load-bound: {', '.join(bound[line['scenario']])}"
        lines.append(f"| {line['scenario']} | {line['metric']}{better} | "
                     f"{cell(line['node'], line['unit'], runs)} | "
                     f"{cell(line['cpp'], line['unit'], runs)} | {ratio} | "
                     f"{reference_ratios(line)} | {judged} |")
    return "\n".join(lines)


def write_csv(path, summary, date, machine):
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["date", "scenario", "metric", "unit", "better", "implementation", "median",
                      "min", "max", "failed_runs", "values_per_run", "machine"])
        for line in summary:
            for kind in list(KINDS) + line["references"]:
                figures = line[kind]
                out.writerow([date, line["scenario"], line["metric"], line["unit"], line["better"],
                              SHOWN.get(kind, kind), f"{figures['median']:.6g}",
                              f"{figures['min']:.6g}", f"{figures['max']:.6g}", figures["failed"],
                              " ".join(f"{v:.6g}" for v in figures["values"]),
                              machine_line(machine)])


SHORT_SCENARIOS = [(r"hello HTTP, ([\d,]+) clients.*", r"hello, \1 held 1 s"),
                   (r"(\w+).*, ([\d,]+) idle clients.*", r"\1, \2 idle"),
                   (r"hello HTTP keep-alive.*", "hello keep-alive"),
                   (r"TCP hello.*", "TCP hello"),
                   (r"chat fan-out (\S+) .*, 1 line a write.*", r"chat \1, 1 line/write"),
                   (r"chat fan-out (\S+) .*, 16 lines a write.*", r"chat \1, 16/write"),
                   (r"chat fan-out (\S+) .*, whole burst.*", r"chat \1, burst/write"),
                   (r"chat paced, 1 sender at ([\d,]+) .*", r"chat paced \1/s"),
                   (r"distributed chat, 2 servers \+ Redis, (\S+) .*, 1 line a write.*",
                    r"2 servers \1, 1 line/write"),
                   (r"distributed chat, 2 servers \+ Redis, (\S+) .*, 16 lines a write.*",
                    r"2 servers \1, 16/write"),
                   (r"distributed chat, 2 servers \+ Redis, (\S+) .*, whole burst.*",
                    r"2 servers \1, burst/write"),
                   (r"reverse proxy.*", "proxy")]
SHORT_METRICS = {"throughput, 1 connection": "MiB/s, 1 conn", "throughput, 8 connections":
                 "MiB/s, 8 conns", "short connections/s": "conn/s, half-close",
                 "short connections/s to tcp_server, client never half-closes": "conn/s, greeting",
                 "delivered lines/s": "lines/s", "slowest client's wait (p99)": "p99 wait",
                 "peak memory, both servers": "", "peak memory": "",
                 "server CPU per delivered line": "", "server CPU per request (whole wrk run)": ""}


def short_label(line):
    """Chart labels: a few words, or they overlap."""
    scenario = line["scenario"]
    for pattern, short in SHORT_SCENARIOS:
        if re.match(pattern, scenario):
            scenario = re.sub(pattern, short, scenario)
            break
    metric = SHORT_METRICS.get(line["metric"], line["metric"])
    return f"{scenario}\\n{metric}" if metric else scenario


def chart(path, title, ylabel, lines, normalise, log_scale):
    """A gnuplot SVG: one pair of bars (Node.js, C++) per line, error bars from min to max."""
    if not lines or not shutil.which("gnuplot"):
        return False
    data = path[:-4] + ".dat"
    with open(data, "w") as f:
        for line in lines:
            scale = line["node"]["median"] if normalise else 1.0
            if not scale or scale != scale:
                continue  # Node.js had nothing here: no bar to be relative to
            label = short_label(line)
            figures = [line[k][s] / scale for k in KINDS for s in ("median", "min", "max")]
            values = " ".join("NaN" if v != v else f"{v:.6g}" for v in figures)  # v != v: NaN
            f.write(f'"{label}" {values}\n')
    script = f"""
set terminal svg size {max(640, 110 * len(lines) + 160)},480 dynamic enhanced font 'sans,11'
set output '{path}'
set title "{title}"
set ylabel "{ylabel}"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [{'0.1' if normalise else ('*' if log_scale else '0')}:*]
{'set logscale y' if log_scale else ''}
set xtics noenhanced font ',9'
set bmargin 4
set offsets 0.5, 0.5, 0, 0
plot '{data}' using 2:3:4:xtic(1) title 'Node.js' lc rgb '#6cc24a', \\
     '' using 5:6:7 title 'C++' lc rgb '#00599c'
"""
    done = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    os.unlink(data)
    if done.returncode != 0:
        log("gnuplot: " + done.stderr)
        return False
    return True


def draw_charts(summary, out_dir):
    speed = [l for l in summary if l["better"] == "higher" and l["unit"] != "%"]
    times = [l for l in summary if l["unit"] == "ms"]
    memory = [l for l in summary if l["unit"] == "MiB"]
    cpu = [l for l in summary if l["unit"] == "µs" and l["metric"].startswith("server CPU")]
    drawn = []
    for name, title, ylabel, lines, normalise, log_scale in (
            ("compare-throughput.svg", "Throughput, relative to Node.js (higher is better)",
             "times Node.js's median", speed, True, True),
            ("compare-latency.svg", "Time and latency (lower is better)", "ms", times, False, True),
            ("compare-memory.svg", "Server's peak memory, VmHWM (lower is better)", "MiB",
             memory, False, False),
            ("compare-cpu.svg", "Server CPU per delivered line or request (lower is better)",
             "µs", cpu, False, True)):
        if chart(os.path.join(out_dir, name), title, ylabel, lines, normalise, log_scale):
            drawn.append(name)
    return drawn


# ---------------------------------------------------------------- charts for the slides
# Drawn here, not by gnuplot: 1280x720 (a slide), labels of 20 px and more, one bar per row with
# its ratio written beside it, and one idea per chart.

SLIDE_W, SLIDE_H = 1280, 720


def svg_text(x, y, text, size=20, anchor="start", weight="normal", fill="#222"):
    """Text with a white halo, readable over a line or a bar's edge."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-weight="{weight}" fill="{fill}" stroke="white" stroke-width="5" '
            f'paint-order="stroke">{text}</text>')


def ratio_chart(path, title, subtitle, bars, reference=1.0, reference_label="Node.js = 1",
                target=None, target_label=""):
    """Horizontal bars: (label, ratio, good) each; `good` colours the bar (True: C++ better).
    A line marks `reference` (Node.js) and, if given, `target` (the goal)."""
    bars = [b for b in bars if b[1] == b[1]]
    if not bars:
        return False
    top, bottom, left, right = 118, 44, 440, 120
    row = min(46, (SLIDE_H - top - bottom) / len(bars))
    size = 20 if row >= 26 else 18
    biggest = max([b[1] for b in bars] + [reference, target or 0]) * 1.05
    scale = (SLIDE_W - left - right) / biggest
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{SLIDE_W}" height="{SLIDE_H}" '
           f'viewBox="0 0 {SLIDE_W} {SLIDE_H}" font-family="DejaVu Sans, Arial, sans-serif">',
           f'<rect width="{SLIDE_W}" height="{SLIDE_H}" fill="white"/>',
           svg_text(40, 50, title, 32, weight="bold"), svg_text(40, 88, subtitle, 20, fill="#555")]
    end = top + len(bars) * row
    for value, label, dash in ((reference, reference_label, ""), (target, target_label, "8,6")):
        if value is None:
            continue
        x = left + value * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 12}" x2="{x:.1f}" y2="{end:.1f}" '
                   f'stroke="#222" stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(svg_text(x, end + 26, label, 20, "middle"))
    for i, (label, ratio, good) in enumerate(bars):
        y = top + i * row
        height = row * 0.72
        out.append(svg_text(left - 14, y + height / 2 + size * 0.35, label, size, "end"))
        colour = "#00599c" if good else "#c0392b"
        out.append(f'<rect x="{left}" y="{y:.1f}" width="{max(2, ratio * scale):.1f}" '
                   f'height="{height:.1f}" fill="{colour}"/>')
        out.append(svg_text(left + ratio * scale + 10, y + height / 2 + size * 0.35,
                            f"{ratio:.2f}x", size, weight="bold"))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return True


def slide_label(scenario):
    for pattern, short in SHORT_SCENARIOS:
        if re.match(pattern, scenario):
            return re.sub(pattern, short, scenario)
    return scenario


def draw_slide_charts(summary, out_dir):
    """The closing deck's charts: the chat and distributed-chat rows, C++ against Node.js."""
    def rows(metric):
        return [l for l in summary if l["metric"] == metric and
                (l["scenario"].startswith("chat fan-out") or l["scenario"].startswith("chat paced")
                 or l["scenario"].startswith("distributed chat"))]
    drawn = []
    speed = [(slide_label(l["scenario"]), l["ratio"], l["ratio"] >= 1)
             for l in rows("delivered lines/s") if not l["scenario"].startswith("chat paced")]
    if ratio_chart(os.path.join(out_dir, "slide-throughput.svg"),
                   "Lines delivered per second, C++ / Node.js",
                   "higher is better (blue: C++ ahead); 1 line a write is how a chat client sends",
                   speed):
        drawn.append("slide-throughput.svg")
    cpu = [(slide_label(l["scenario"]), l["ratio"], l["ratio"] <= 2 / 3)
           for l in rows("server CPU per delivered line")]
    if ratio_chart(os.path.join(out_dir, "slide-cpu.svg"),
                   "Server CPU per delivered line, C++ / Node.js",
                   "lower is better (blue: at or under the goal); system calls per line decide it",
                   cpu, target=2 / 3, target_label="goal 2/3"):
        drawn.append("slide-cpu.svg")
    latency = [(slide_label(l["scenario"]), l["ratio"], l["ratio"] <= 1)
               for l in rows("latency p99")]
    if ratio_chart(os.path.join(out_dir, "slide-latency.svg"),
                   "Delivery latency p99, C++ / Node.js",
                   "lower is better (blue: C++ ahead); batching must not hold lines back", latency):
        drawn.append("slide-latency.svg")
    memory = [(slide_label(l["scenario"]) if l["metric"] != "memory per idle client"
               else slide_label(l["scenario"]) + ", per client", l["ratio"], l["ratio"] <= 1)
              for l in summary if l["unit"] in ("MiB", "KiB") and l["ratio"] == l["ratio"]
              and "16 lines a write" not in l["scenario"] and "whole burst" not in l["scenario"]]
    if ratio_chart(os.path.join(out_dir, "slide-memory.svg"), "Server memory, C++ / Node.js",
                   "peak resident memory under the same load; lower is better (blue: C++ ahead)",
                   memory):
        drawn.append("slide-memory.svg")
    return drawn


def update_readme(readme, block):
    begin, end = "<!-- compare-results:begin -->", "<!-- compare-results:end -->"
    if not os.path.exists(readme):
        return False
    with open(readme) as f:
        text = f.read()
    if begin not in text or end not in text:
        return False
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(readme, "w") as f:
        f.write(head + begin + "\n" + block + "\n" + end + tail)
    return True


SCENARIOS = [scenario_hello_held,
             scenario_idle("01-hello-http", "hello_http", "hello HTTP",
                           ["--idle-timeout-ms", "60000"]),
             scenario_hello_keepalive, scenario_tcp_connections,
             *[scenario_chat(i, shape) for i in range(3) for shape in range(len(SHAPES))],
             scenario_idle("03-chat-server", "chat_server", "chat"),
             scenario_chat_paced, scenario_chat_paced_fast,
             *[scenario_distributed(i, shape) for i in range(3) for shape in range(len(SHAPES))],
             scenario_proxy]


def summary_from_csv(path):
    """The summary a run wrote to `path` (latest.csv), enough to draw its charts again."""
    shown_to_kind = {v: k for k, v in SHOWN.items()}
    lines = {}
    with open(path, newline="") as f:
        for record in csv.DictReader(f):
            key = (record["scenario"], record["metric"])
            line = lines.setdefault(key, {"scenario": record["scenario"],
                                          "metric": record["metric"], "unit": record["unit"],
                                          "better": record["better"], "references": []})
            kind = shown_to_kind.get(record["implementation"], record["implementation"])
            if kind not in KINDS:
                line["references"].append(kind)
            values = [float(v) for v in record["values_per_run"].split()]
            line[kind] = {"median": float(record["median"]), "min": float(record["min"]),
                          "max": float(record["max"]), "values": values,
                          "failed": int(record["failed_runs"])}
    summary = []
    for line in lines.values():
        node, cpp = (line.get(k, {}).get("median", float("nan")) for k in KINDS)
        line["ratio"] = cpp / node if node and node == node and cpp == cpp else float("nan")
        summary.append(line)
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller loads, fewer runs (< 5 min)")
    parser.add_argument("--runs", type=int, help="runs per implementation and scenario")
    parser.add_argument("--release-dir", default=os.path.join(ROOT, "build-release"))
    parser.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--only", help="run only scenarios whose title contains this")
    parser.add_argument("--no-readme", action="store_true", help="leave benchmarks/README.md alone")
    parser.add_argument("--note", help="a sentence put first in the notes (say a run was noisy)")
    parser.add_argument("--redraw", action="store_true",
                        help="draw the charts again from OUT/latest.csv, run nothing")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the servers and the load tools to cores of their own")
    args = parser.parse_args()
    if args.redraw:
        summary = summary_from_csv(os.path.join(args.out, "latest.csv"))
        drawn = draw_charts(summary, args.out) + draw_slide_charts(summary, args.out)
        print("drew", ", ".join(drawn))
        return 0

    global RELEASE_DIR, LOG_DIR, SERVER_CPUS, LOAD_CPUS
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2 and not args.no_pin:
        SERVER_CPUS, LOAD_CPUS = {cpus[0]}, {cpus[1]}
    RELEASE_DIR = os.path.abspath(args.release_dir)
    LOG_DIR = os.path.join(RELEASE_DIR, "compare-logs")
    os.makedirs(LOG_DIR, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)
    sizes = SIZES["quick" if args.quick else "full"]
    quick = args.quick  # --quick measures the ceilings (direct, HAProxy) in the first run only
    runs = args.runs or sizes["runs"]
    machine = describe_machine()
    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load_before = load_average()
    started = time.monotonic()
    log(f"compare: {runs} runs each, interleaved Node.js / C++; {machine_line(machine)}")
    log(f"  {cores_line()}")
    floor_missing = measure_floor(args.quick)
    log(f"  {floor_line() or floor_missing}")

    rows, skipped, failures, attempts = [], [], [], {}
    for make in SCENARIOS:
        run, title, *more = make(sizes)
        references = [(r + (None,))[:3] for r in more[0]] if more else []
        if run is None:
            skipped.append(title)
            log(f"  skipped: {title}")
            continue
        if args.only and args.only not in title:
            continue
        log(f"  {title}")
        for number_ in range(1, runs + 1):
            for kind in KINDS:
                attempts[(title, kind)] = attempts.get((title, kind), 0) + 1
                began = time.monotonic()
                try:
                    metrics = run(kind)
                except Exception as error:  # a crash or a tool's failure is a result too
                    failures.append(f"{title}, {SHOWN[kind]}, run {number_}: {error}")
                    log(f"    {SHOWN[kind]:8} run {number_}: FAILED: {str(error)[:300]}")
                    metrics = [(m, u, b, float("nan")) for m, u, b, _ in
                               next((r["metrics"] for r in rows if r["scenario"] == title), [])]
                for metric, unit, better, value in metrics:
                    rows.append({"scenario": title, "metric": metric, "unit": unit,
                                 "better": better, "kind": kind, "run": number_, "value": value,
                                 "metrics": metrics})
                shown = ", ".join(f"{m} {number(v, u)} {u}" for m, u, _, v in metrics)
                took = time.monotonic() - began
                log(f"    {SHOWN[kind]:8} run {number_}: {shown}  [{took:.1f} s]")
            for name, measure, once in references:
                if number_ > 1 and (quick or once):
                    continue  # a "once" reference, and with --quick every one: the first run only
                attempts[(title, name)] = attempts.get((title, name), 0) + 1
                try:
                    metrics = measure()
                except Exception as error:
                    failures.append(f"{title}, {name}, run {number_}: {error}")
                    log(f"    {name} run {number_}: FAILED: {str(error)[:300]}")
                    continue
                for metric, unit, better, value in metrics:
                    rows.append({"scenario": title, "metric": metric, "unit": unit,
                                 "better": better, "kind": name, "run": number_, "value": value})
                shown = ", ".join(f"{m} {number(v, u)} {u}" for m, u, _, v in metrics)
                log(f"    {name} run {number_}: {shown}")

    summary = summarize(rows, attempts)
    took = time.monotonic() - started
    table = markdown_table(summary, runs)
    references = references_table(summary, runs)
    if references:
        table += "\n\nCeilings and alternatives, measured in the same runs:\n\n" + references
    file_date = datetime.date.today().isoformat()
    for name in (f"compare-{file_date}.csv", "latest.csv"):
        write_csv(os.path.join(args.out, name), summary, date, machine)
    charts = draw_charts(summary, args.out)
    slides = draw_slide_charts(summary, args.out)
    notes = [f"Measured {date} by `./workshop compare{' --quick' if args.quick else ''}` in "
             f"{took / 60:.1f} min on {machine_line(machine)}. Load average before "
             f"{load_before}, after {load_average()} (the machine is shared: other builds ran "
             f"meanwhile). Each figure is the median of {runs} runs, min-max in brackets; "
             f"Node.js and C++ ran in turn (A B A B) on the same load"
             f"{'; the ceilings (direct, HAProxy, nginx) ran once' if quick else ''}.",
             f"Cores: {cores_line()}. Server CPU: every thread's CPU time of the server(s) "
             f"(/proc/PID/task/*/schedstat), over the load phase for chat_load's rows (clients "
             f"already connected) and over the whole run for wrk's; \"load-bound\": the load "
             f"tool used {LOAD_BOUND:.0f}% or more of its core, so its row measures the load tool "
             f"as much as the server."]
    if floor_line():
        notes.insert(1, floor_line().replace("floor:", "Write floor:", 1) + ".")
    if args.note:
        notes.insert(0, args.note)
    if skipped:
        notes.append("Not measured: " + "; ".join(dict.fromkeys(skipped)) + ".")  # each once
    if failures:
        notes.append("Failed runs: " + "; ".join(f.replace("\n", " ")[:240] for f in failures))
    block = "\n\n".join(notes[:1] + [table] + notes[1:] +
                        [" ".join(f"![{c}](results/{c})" for c in charts)] if charts else
                        notes[:1] + [table] + notes[1:])
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write(block + "\n")
    print(table)
    print()
    for note in notes:
        print(note)
    print(f"\nwrote {os.path.relpath(args.out, os.getcwd())}/: compare-{file_date}.csv, "
          f"latest.csv, latest.md, {', '.join(charts) or 'no charts (gnuplot missing?)'}"
          f"{', ' + ', '.join(slides) if slides else ''}")
    if not args.no_readme and update_readme(os.path.join(ROOT, "benchmarks", "README.md"), block):
        print("updated the Node.js vs C++ section of benchmarks/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
