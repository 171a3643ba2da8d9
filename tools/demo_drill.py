"""`./workshop drill KIND`: break the running demo on stage, narrate on stderr what happens, and
leave the system whole. Exit 0 when the system kept its promises (docs/programs.md,
docs/guarantees.md), 1 when it did not (the narration says which).

  drill redis [--seconds N]   Redis stops for N s (default 5) and comes back on the same port
  drill server [N]            chat server N (default 2) is killed; the proxy skips it; it returns
  drill slow-client           a client of chat server 1 stops reading; the server drops it alone
  drill flood [--clients N] [--seconds S]
                              N clients (default 200) join through the proxy at once and talk
  drill partition [--seconds N]
                              chat server 1 is cut off from Redis for N s (default 10): every
                              packet dropped, nothing closed; it notices, then heals (root, nft)
  drill latency [--seconds N] [--delay MS] [--loss PCT]
                              every packet to and from Redis waits MS (default 25: 50 ms round
                              trips) and PCT % are lost (default 1), for N s (root, tc netem)

The drill asks the demo (its control socket) to stop and start processes, so they stay the
demo's children and Ctrl-C on the demo stops them; the drill's own clients are sockets of the
drill process, gone when it ends.
"""
import argparse
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import demo_lib
from demo_lib import ChatClient, ask_demo
from demo_top import socket_inodes, tcp_table
from wslib import die

FAILURES = []


def tell(message):
    """One line of narration for the audience, on stderr."""
    stamp = time.strftime("%H:%M:%S")
    if sys.stderr.isatty():
        sys.stderr.write(f"\033[1m{stamp} drill:\033[0m {message}\n")
    else:
        sys.stderr.write(f"{stamp} drill: {message}\n")
    sys.stderr.flush()


def promise(holds, kept, broken):
    """Narrates whether a promise held; a broken one makes the drill exit 1."""
    if holds:
        tell(f"ok: {kept}")
    else:
        tell(f"BROKEN: {broken}")
        FAILURES.append(broken)
    return holds


def servers(state):
    return [p for p in state["processes"] if p["kind"] == "chat"]


def server(state, number):
    chats = servers(state)
    if not 1 <= number <= len(chats):
        die(f"there is no chat server {number} (the demo runs {len(chats)})")
    process = chats[number - 1]
    if not process["running"]:
        die(f"{process['role']} is down already: start a fresh demo")
    return process


def by_node(state):
    """The welcome's NODE (the server's pid) -> the state's process."""
    return {str(p["pid"]): p for p in state["processes"] if p["kind"] in ("chat", "node")}


# ---- drill redis ----

def drill_redis(options):
    state = demo_lib.load_state()
    first, second, third = server(state, 1), server(state, 2), server(state, 3)
    a = ChatClient(first["port"], "A")
    c = ChatClient(first["port"], "C")
    b = ChatClient(second["port"], "B")
    tell(f"A and C are clients of chat server 1 (:{first['port']}), B of chat server 2 "
         f"(:{second['port']})")
    a.send("A: before the outage")
    promise(b.read_until(lambda line: line == "A: before the outage")[0] is not None, "B (server 2) hears A (server 1)",
            "B did not hear A before the outage")
    c.read_until(lambda line: line == "A: before the outage")

    stopped = ask_demo({"op": "stop", "name": "redis"})["process"]
    tell(f"Redis stopped (it was pid {stopped['pid']}, port {stopped['port']}); it stays down "
         f"{options.seconds:g} s")
    time.sleep(0.3)  # the servers notice: "redis: lost ..." in their logs, top shows it
    said = [f"A: said while Redis is away #{i}" for i in range(1, 4)]
    for line in said:
        a.send(line)
    tell(f"A says {len(said)} lines now; the server queues them for Redis (--max-queued)")
    d = ChatClient(third["port"], "D")
    promise(d.welcome is not None and "welcome" in d.welcome,
            f"a newcomer D on chat server 3 is welcomed meanwhile: \"{d.welcome}\"",
            "chat server 3 did not welcome a newcomer while Redis was away")
    early = b.read_line(0.5)
    tell("B hears nothing yet: every line goes through the channel, so that every server delivers "
         "the same lines in the same order" if early is None else f"B heard early: {early}")
    time.sleep(max(0.0, options.seconds - 0.8))

    started = ask_demo({"op": "start", "name": "redis"})["process"]
    back = time.monotonic()
    tell(f"Redis is back (pid {started['pid']}, the same port); the servers reconnect "
         "(backoff 100 ms doubling to 1 s) and publish their queues")
    heard, lines_b = b.read_until(lambda line: line == said[-1], timeout=10)
    waited = time.monotonic() - back
    told_a = a.read_all(0.3)
    not_delivered = [line for line in told_a if "not delivered" in line]
    lines_b = [line for line in lines_b if line.startswith("A: ")]  # others may talk too
    if heard:
        promise(lines_b == said, f"B got all {len(said)} queued lines, in order, "
                f"{waited * 1000:.0f} ms after Redis returned", f"B got {lines_b}, not {said}")
    else:
        promise(bool(not_delivered), f"A was told: {not_delivered[:1]}",
                f"the queued lines never reached B and A was not told (B got {lines_b})")
    heard_c = [line for line in c.read_all(0.3) if line.startswith("A: ")]
    promise(heard_c == said, "C, on A's own server, got them too",
            f"C got {heard_c}, not {said}")
    promise(not [line for line in told_a if line.startswith("A: ")],
            "A heard none of its own lines back", f"A heard its own lines: {told_a}")
    b.send("B: after the outage")
    promise(a.read_until(lambda line: line == "B: after the outage")[0] is not None, "and the room works both ways again",
            "A did not hear B after Redis returned")
    for client in (a, b, c, d):
        client.close()


# ---- drill partition and drill latency: the network breaks, not a process ----

def needs_root_and(tool, package):
    if os.geteuid() != 0:
        die(f"this drill changes the machine's firewall or queues: run it as root "
            f"(sudo ./workshop drill ...), or see tests/system/ for the same on namespaces")
    if shutil.which(tool) is None:
        die(f"this drill needs {tool}: apt-get install {package}")


def sh(*argv, stdin=None):
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def redis_ports(pid, redis_port):
    """The local ports of process `pid`'s connections to Redis."""
    inodes = socket_inodes(pid)
    return sorted({row["local"] for row in tcp_table()
                   if row["inode"] in inodes and row["remote"] == redis_port})


def log_size(process):
    try:
        return os.path.getsize(process["log"])
    except OSError:
        return 0


def wait_for_log(process, text, since, timeout):
    """True once `text` appears in the process's log after byte `since`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(process["log"], "rb") as log:
                log.seek(since)
                if text.encode() in log.read():
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


PARTITION_TABLE = "workshop_partition"


def drill_partition(options):
    needs_root_and("nft", "nftables")
    state = demo_lib.load_state()
    first, second = server(state, 1), server(state, 2)
    redis_port = state["redis_port"]
    cut = redis_ports(first["pid"], redis_port)
    if not cut:
        die("chat server 1 has no connection to Redis right now: is it a distributed_chat?")
    a = ChatClient(first["port"], "A")
    c = ChatClient(first["port"], "C")
    b = ChatClient(second["port"], "B")
    tell(f"A and C are clients of chat server 1 (:{first['port']}), B of chat server 2 "
         f"(:{second['port']})")
    a.send("A: before the partition")
    promise(b.read_until(lambda line: line == "A: before the partition")[0] is not None,
            "B (server 2) hears A (server 1)", "B did not hear A before the partition")
    c.read_until(lambda line: line == "A: before the partition")

    # Server 1's connections to Redis lose every packet, both ways, and so does any new
    # connection to Redis (server 1's reconnections; top's look at Redis too, meanwhile).
    ports = ", ".join(str(p) for p in cut)
    rules = (f"table inet {PARTITION_TABLE} {{\n  chain output {{\n"
             f"    type filter hook output priority 0;\n"
             f"    tcp dport {redis_port} tcp sport {{ {ports} }} drop\n"
             f"    tcp sport {redis_port} tcp dport {{ {ports} }} drop\n"
             f"    tcp dport {redis_port} tcp flags & (syn | ack) == syn drop\n  }}\n}}\n")
    since = log_size(first)
    sh("nft", "-f", "-", stdin=rules)
    cut_at = time.monotonic()
    try:
        tell(f"PARTITION: every packet between chat server 1 (its ports {ports}) and Redis "
             f"(:{redis_port}) is dropped: no FIN, no reset, nothing. Both ends still think "
             f"the connection is up.")
        said = [f"A: said during the partition #{i}" for i in range(1, 4)]
        a.send(said[0])
        tell("A speaks; server 1 publishes into the void and waits for a reply that cannot come")
        noticed = wait_for_log(first, "redis: no answer", since, 10)
        promise(noticed, f"server 1 noticed the silence after {time.monotonic() - cut_at:.1f} s "
                "(a PING after --redis-ping-ms of quiet, no answer within --redis-timeout-ms) "
                "and reconnects, in vain for now",
                "server 1 never said on stderr that Redis stopped answering")
        for line in said[1:]:
            a.send(line)
        b.send("B: said while server 1 is cut off")
        tell("B (server 2, still in touch) speaks too: server 1 is not subscribed, and pub/sub "
             "keeps nothing for an absent subscriber, so A and C will never hear it")
        time.sleep(max(0.0, options.seconds - (time.monotonic() - cut_at)))
    finally:
        subprocess.run(["nft", "delete", "table", "inet", PARTITION_TABLE], capture_output=True)
    healed = time.monotonic()
    tell(f"HEALED after {healed - cut_at:.0f} s: the firewall rule is gone")
    heard, lines_b = b.read_until(lambda line: line == said[-1], timeout=10)
    lines_b = [line for line in lines_b if line.startswith("A: ")]
    promise(heard is not None and lines_b == said,
            f"B got A's {len(said)} lines, in order, {time.monotonic() - healed:.1f} s after "
            "the heal", f"B got {lines_b}, not {said}")
    heard_c = [line for line in c.read_all(0.5) if line.startswith("A: ")]
    promise(heard_c == said, "C, on A's own server, got them too", f"C got {heard_c}")
    b.send("B: after the partition")
    promise(a.read_until(lambda line: line == "B: after the partition")[0] is not None,
            "A and B talk again, with the same connections", "A did not hear B after the heal")
    for client in (a, b, c):
        client.close()


def lo_qdisc():
    return sh("tc", "qdisc", "show", "dev", "lo")


def one_way(a, b, count, tag):
    """Milliseconds from A's send until B hears it, for `count` lines; and whether all came
    intact and in order."""
    times, lines = [], [f"A: {tag} #{i} " + "x" * 200 for i in range(count)]
    for line in lines:
        sent = time.monotonic()
        a.send(line)
        got = b.read_until(lambda heard: heard == line, timeout=10)[0]
        if got is None:
            return times, False
        times.append((time.monotonic() - sent) * 1000)
    return times, True


def drill_latency(options):
    needs_root_and("tc", "iproute2")
    state = demo_lib.load_state()
    first, second = server(state, 1), server(state, 2)
    redis_port = state["redis_port"]
    if "netem" in lo_qdisc() or "prio" in lo_qdisc():
        die("the loopback has a queueing discipline already (tc qdisc show dev lo): "
            "is another drill running? (tc qdisc del dev lo root removes it)")
    a = ChatClient(first["port"], "A")
    b = ChatClient(second["port"], "B")
    tell(f"A is a client of chat server 1, B of chat server 2; every line goes A -> server 1 -> "
         "Redis -> server 2 -> B")
    before, whole = one_way(a, b, 20, "before")
    promise(whole, f"before: a line takes {statistics.median(before):.1f} ms (median of 20)",
            "lines did not arrive before the drill")
    netem = ["delay", f"{options.delay}ms", f"{options.delay / 5:g}ms", "loss", f"{options.loss}%"]
    try:
        # Only Redis's traffic goes through netem: a prio qdisc with a fourth band that nothing
        # lands in but what the filters send there.
        try:
            sh("tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio", "bands", "4",
               "priomap", *"1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1".split())
            sh("tc", "qdisc", "add", "dev", "lo", "parent", "1:4", "handle", "40:", "netem",
               *netem)
            for direction in ("dport", "sport"):
                sh("tc", "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio",
                   "1", "u32", "match", "ip", direction, str(redis_port), "0xffff", "flowid",
                   "1:4")
        except RuntimeError as error:
            die(f"this kernel cannot delay the loopback's packets (it needs the prio and netem "
                f"queueing disciplines): {str(error).rstrip('.')}. The loopback is left as it was.")
        tell(f"LATENCY: every packet to or from Redis (:{redis_port}) now waits {options.delay} "
             f"ms (+- {options.delay / 5:g}), and {options.loss}% are lost: {2 * options.delay} "
             "ms round trips, as between two data centres")
        started = time.monotonic()
        during, whole = one_way(a, b, 20, "during")
        promise(whole, f"every line arrived, intact and in order: {statistics.median(during):.1f} "
                f"ms each (median of 20; {2 * options.delay} ms more, for two trips through Redis'"
                " link); TCP resends what netem drops", "lines went missing under latency")
        burst = [f"A: burst #{i} " + "y" * 500 for i in range(200)]
        for line in burst:
            a.send(line)
        heard, lines_b = b.read_until(lambda line: line == burst[-1], timeout=30)
        got = [line for line in lines_b if line.startswith("A: burst")]
        promise(got == burst, "a burst of 200 lines arrived whole and in order too",
                f"the burst arrived as {len(got)} lines, not 200 in order")
        time.sleep(max(0.0, options.seconds - (time.monotonic() - started)))
    finally:
        subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], capture_output=True)
    tell("LATENCY gone: the loopback's queue is as before")
    after, whole = one_way(a, b, 10, "after")
    promise(whole, f"after: {statistics.median(after):.1f} ms a line again",
            "lines did not arrive after the drill")
    for client in (a, b):
        client.close()


# ---- drill server ----

def through_proxy(state, count, name):
    clients = []
    for i in range(count):
        clients.append(ChatClient(state["proxy_port"], f"{name}{i}"))
    return clients


def drill_server(options):
    state = demo_lib.load_state()
    victim = server(state, options.number)
    others = [p for p in servers(state) if p["name"] != victim["name"] and p["running"]]
    if len(others) < 2:
        die("the drill needs two other chat servers running")
    left = ChatClient(victim["port"], "V")
    one, two = ChatClient(others[0]["port"], "X"), ChatClient(others[1]["port"], "Y")
    tell(f"V is a client of {victim['role']} (:{victim['port']}), X of {others[0]['role']}, "
         f"Y of {others[1]['role']}")
    killed = ask_demo({"op": "stop", "name": victim["name"], "how": "kill"})["process"]
    tell(f"{victim['role']} killed (SIGKILL, pid {killed['pid']})")
    promise(left.read_line(2) is None and left.closed, "V sees its connection close",
            "V's connection stayed open")
    one.send("X: is anyone still there?")
    promise(two.read_until(lambda line: line == "X: is anyone still there?")[0] is not None,
            f"X and Y, on the other servers, go on chatting: nothing lost there",
            "Y did not hear X after the kill")

    nodes = by_node(state)
    newcomers = through_proxy(state, 2 * len(others) + 2, "N")
    landed = [nodes.get(n.node, {"role": "?"})["role"] for n in newcomers]
    promise(victim["role"] not in landed and "?" not in landed,
            f"{len(newcomers)} new clients through the proxy went to: {', '.join(landed)} "
            f"(it skips the dead backend and rests it)",
            f"new clients landed on: {landed}")
    for client in newcomers:
        client.close()

    started = ask_demo({"op": "start", "name": victim["name"]})["process"]
    tell(f"{victim['role']} started again on the same port :{started['port']} (pid {started['pid']})")
    nodes = by_node(demo_lib.load_state())
    deadline = time.monotonic() + 10
    back = None
    while back is None and time.monotonic() < deadline:
        client = ChatClient(state["proxy_port"], "R")
        if nodes.get(client.node, {}).get("name") == victim["name"]:
            back = client
        else:
            client.close()
            time.sleep(0.2)
    if promise(back is not None, f"the proxy puts it back in rotation: a new client landed on "
               f"{victim['role']}", "no new client reached the restarted server in 10 s"):
        time.sleep(0.3)  # its subscription to the channel is made right after its ready line
        back.send("R: I am back")
        promise(one.read_until(lambda line: line == "R: I am back")[0] is not None, "and the restarted server is in the room again",
                "X did not hear the client of the restarted server")
        back.close()
    for client in (left, one, two):
        client.close()


# ---- drill slow-client ----

def largest_sendq(port):
    """The most bytes the kernel holds unsent on one connection of the server on `port`."""
    import demo_top
    return max((r["tx"] for r in demo_top.tcp_table()
                if r["local"] == port and r["state"] == demo_top.ESTABLISHED), default=0)


def rss(pid):
    import demo_top
    sample = demo_top.process_sample(pid)
    return sample[3] if sample else 0


def drill_slow_client(options):
    state = demo_lib.load_state()
    first, second = server(state, 1), server(state, 2)
    slow = ChatClient(first["port"], "S", receive_buffer=4096)
    witness = ChatClient(first["port"], "W")
    talker = ChatClient(second["port"], "T")
    tell(f"S, a client of chat server 1 (:{first['port']}), stops reading; W, on the same server, "
         f"reads everything; T, on chat server 2, talks at about {options.rate} kB/s")
    log = open(first["log"], "rb")
    log.seek(0, os.SEEK_END)

    received = []  # (line number, lag in s)
    stop_reading = threading.Event()

    def read_witness():
        while not stop_reading.is_set():
            line = witness.read_line(0.2)
            if line is None:
                if witness.closed:
                    return
                continue
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[0] == "T:":
                received.append((int(parts[1]), time.time() - float(parts[2])))

    reader = threading.Thread(target=read_witness, daemon=True)
    reader.start()
    padding = "x" * 1000
    per_tick = max(1, options.rate // 10)  # lines of about 1 kB, ten times a second
    sent = 0
    dropped = None
    memory_before = rss(first["pid"])
    start = time.monotonic()
    next_report = start + 1
    while time.monotonic() - start < options.seconds and dropped is None:
        for _ in range(per_tick):
            sent += 1
            talker.send(f"T: {sent} {time.time():.6f} {padding}")
        time.sleep(0.1)
        for line in log.read().decode(errors="replace").splitlines():
            if "dropping client" in line and "backlog" in line:  # --max-backlog or --soft-backlog
                dropped = line
        if time.monotonic() >= next_report:
            next_report += 1
            tell(f"T has sent {sent * 1.03:.0f} kB; the kernel holds "
                 f"{largest_sendq(first['port']) / 1000:.0f} kB unsent for S, "
                 f"chat server 1's memory grew {(rss(first['pid']) - memory_before) / 1e6:.1f} MB "
                 "(its queue for S)")
    if not promise(dropped is not None, f"chat server 1 dropped S: \"{dropped}\"",
                   f"S was not dropped within {options.seconds} s"):
        return
    try:
        slow.socket.setblocking(False)
        while slow.socket.recv(1 << 20):
            pass
        gone = True
    except BlockingIOError:
        gone = False
    except OSError:
        gone = True  # reset: the server destroyed the connection
    promise(gone, "S's connection is gone (reset)", "S's connection is still open")
    deadline = time.monotonic() + 10
    while len(received) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_reading.set()
    reader.join()
    numbers = [n for n, _ in received]
    worst = max((lag for _, lag in received), default=0)
    promise(numbers == list(range(1, sent + 1)),
            f"nobody else slowed down: W, on the same server, got all {sent} lines in order, "
            f"the slowest {worst * 1000:.0f} ms after it was said",
            f"W got {len(numbers)} of {sent} lines")
    log.close()
    for client in (slow, witness, talker):
        client.close()


# ---- drill flood ----

def drill_flood(options):
    state = demo_lib.load_state()
    port = state["proxy_port"]
    selector = selectors.DefaultSelector()
    clients = []
    started = time.monotonic()
    for i in range(options.clients):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.setblocking(False)
        record = {"socket": connection, "lines": 0, "welcome": b"", "joined": False, "id": i}
        clients.append(record)
        selector.register(connection, selectors.EVENT_READ, record)
    # everyone is in the room once each has its welcome line
    deadline = time.monotonic() + 10
    while (not all(c["joined"] or c.get("closed") for c in clients)
           and time.monotonic() < deadline):
        for key, _ in selector.select(0.1):
            receive(selector, key.data)
    joined = sum(c["joined"] for c in clients)
    nodes = by_node(state)
    spread = {}
    for c in clients:
        role = nodes.get(c["welcome"].split(b" : ", 1)[0].decode(), {"role": "?"})["role"]
        spread[role] = spread.get(role, 0) + 1
    promise(joined == len(clients),
            f"{joined} clients joined through the proxy in {time.monotonic() - started:.2f} s: "
            + ", ".join(f"{role} {n}" for role, n in sorted(spread.items())),
            f"only {joined} of {len(clients)} clients were welcomed in 10 s")
    for c in clients:
        c["lines"] = 0  # lines heard from now on
    tell(f"each says a line every {1 / options.rate:.2f} s for {options.seconds:g} s: watch "
         "./workshop top")
    sent = 0
    start = time.monotonic()
    next_tick = start
    while time.monotonic() - start < options.seconds:
        now = time.monotonic()
        if now >= next_tick:
            for c in clients:
                c["socket"].setblocking(True)
                c["socket"].sendall(f"flood {c['id']}: line {sent}\n".encode())
                c["socket"].setblocking(False)
                sent += 1
            next_tick += 1 / options.rate
        for key, _ in selector.select(max(0.0, min(next_tick - time.monotonic(), 0.05))):
            receive(selector, key.data)
    elapsed = time.monotonic() - start
    expected = sent * (len(clients) - 1)  # everyone hears every line but their own
    deadline = time.monotonic() + 10
    while sum(c["lines"] for c in clients) < expected and time.monotonic() < deadline:
        for key, _ in selector.select(0.1):
            receive(selector, key.data)
    heard = sum(c["lines"] for c in clients)
    promise(heard == expected,
            f"{sent} lines said ({sent / elapsed:.0f}/s), {heard} delivered: each reached the "
            f"{len(clients) - 1} others, none came back to its sender",
            f"{heard} lines delivered, {expected} expected")
    for c in clients:
        if not c.get("closed"):
            selector.unregister(c["socket"])
        c["socket"].close()
    tell(f"the {len(clients)} clients leave")


def receive(selector, record):
    try:
        data = record["socket"].recv(1 << 20)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if not data:  # the server closed it: it hears nothing more
        selector.unregister(record["socket"])
        record["closed"] = True
        return
    if not record["joined"]:
        record["welcome"] += data
        if b"\n" not in record["welcome"]:
            return
        record["joined"] = True
        welcome, rest = record["welcome"].split(b"\n", 1)
        record["welcome"] = welcome
        data = rest
    # only the flood's own lines count: bots and people may be talking in the room too
    lines = (record.get("partial", b"") + data).split(b"\n")
    record["partial"] = lines.pop()
    record["lines"] += sum(1 for line in lines if line.startswith(b"flood "))


def main(argv):
    parser = argparse.ArgumentParser(prog="./workshop drill")
    kinds = parser.add_subparsers(dest="kind", required=True)
    redis = kinds.add_parser("redis", help="stop Redis, keep it down, start it again")
    redis.add_argument("--seconds", type=float, default=5.0)
    one = kinds.add_parser("server", help="kill one chat server, then start it again")
    one.add_argument("number", type=int, nargs="?", default=2)
    slow = kinds.add_parser("slow-client", help="a client that stops reading")
    slow.add_argument("--rate", type=int, default=1000, help="kB/s the talker sends")
    slow.add_argument("--seconds", type=float, default=30.0, help="give up after this long")
    flood = kinds.add_parser("flood", help="many clients join at once and talk")
    flood.add_argument("--clients", type=int, default=200)
    flood.add_argument("--seconds", type=float, default=10.0)
    flood.add_argument("--rate", type=float, default=1.0, help="lines a second per client")
    cut = kinds.add_parser("partition", help="cut chat server 1 off from Redis, then heal")
    cut.add_argument("--seconds", type=float, default=10.0)
    slow_net = kinds.add_parser("latency", help="delay and lose packets to and from Redis")
    slow_net.add_argument("--seconds", type=float, default=10.0)
    slow_net.add_argument("--delay", type=int, default=25, help="ms each way")
    slow_net.add_argument("--loss", type=float, default=1.0, help="percent of packets")
    options = parser.parse_args(argv)

    stopped = []

    def on_term(number, frame):
        stopped.append(number)
        tell("the demo stops, and this drill with it")
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, on_term)  # the demo stops: finish quietly, sockets closed
    demo_lib.load_state()
    ask_demo({"op": "drill-begins", "pid": os.getpid()})
    try:
        {"redis": drill_redis, "server": drill_server, "slow-client": drill_slow_client,
         "flood": drill_flood, "partition": drill_partition,
         "latency": drill_latency}[options.kind](options)
    except (ConnectionError, socket.timeout) as error:
        FAILURES.append(str(error))
        tell(f"BROKEN: {error}")
    finally:
        if not stopped:
            demo_lib.ask_demo({"op": "drill-ends", "pid": os.getpid()}, timeout=5)
    if FAILURES:
        tell(f"{len(FAILURES)} promise(s) broken")
        sys.exit(1)
    tell("done: the system is whole again")
