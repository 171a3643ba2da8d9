"""`./workshop drill KIND`: break the running demo on stage, narrate on stderr what happens, and
leave the system whole. Exit 0 when the system kept its promises (docs/programs.md,
docs/guarantees.md), 1 when it did not (the narration says which). `--help` lists the drills.

The drill asks the demo (its control socket) to stop and start processes, so they stay the
demo's children and Ctrl-C on the demo stops them; the drill's own clients are sockets of the
drill process, gone when it ends.
"""
import argparse
import os
import shutil
import signal
import statistics
import sys
import threading
import time
from collections import Counter

from demo_lib import (ChatClient, ask_demo, connections, cpu_and_memory, load_state, new_lines,
                      processes, run, wait_for_log)
from wslib import die

BROKEN = []
# Server 1's connections to Redis lose every packet, both ways, and so does any new connection
# to Redis (server 1's reconnections; top's look at Redis too, meanwhile).
PARTITION = """table inet workshop_partition {{
  chain output {{
    type filter hook output priority 0;
    tcp dport {redis} tcp sport {{ {ports} }} drop
    tcp sport {redis} tcp dport {{ {ports} }} drop
    tcp dport {redis} tcp flags & (syn | ack) == syn drop
  }}
}}
"""
# Only Redis's packets go through netem: the 4th band of a prio queue, where the filters put them.
NETEM = ["qdisc add dev lo root handle 1: prio bands 4 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
         "qdisc add dev lo parent 1:4 handle 40: netem delay {delay}ms {jitter:g}ms loss {loss}%",
         "filter add dev lo parent 1: protocol ip prio 1 u32 match ip dport {redis} 0xffff "
         "flowid 1:4",
         "filter add dev lo parent 1: protocol ip prio 1 u32 match ip sport {redis} 0xffff "
         "flowid 1:4"]


def tell(message):
    bold, plain = ("\033[1m", "\033[0m") if sys.stderr.isatty() else ("", "")
    sys.stderr.write(f"{bold}{time.strftime('%H:%M:%S')} drill:{plain} {message}\n")
    sys.stderr.flush()


def promise(holds, kept, broken):
    """Narrates whether a promise held; a broken one makes the drill exit 1."""
    tell(f"ok: {kept}" if holds else f"BROKEN: {broken}")
    if not holds:
        BROKEN.append(broken)
    return holds


def hears(listener, speaker, line, kept, broken):
    speaker.send(line)
    return promise(listener.read_until(line)[0], kept, broken)


def server(state, number):
    chats = processes(state, "chat")
    if not 1 <= number <= len(chats):
        die(f"there is no chat server {number} (the demo runs {len(chats)})")
    if not chats[number - 1]["running"]:
        die(f"{chats[number - 1]['role']} is down already: start a fresh demo")
    return chats[number - 1]


def role_of(state, node):
    """The role of the server that welcomed a client as `node` (its pid)."""
    return next((p["role"] for p in processes(state, "chat", "node") if str(p["pid"]) == node), "?")


def needs_root_and(tool, package):
    if os.geteuid() != 0:
        die("this drill changes the machine's firewall or queues: run it as root "
            "(sudo ./workshop drill ...), or see tests/system/ for the same on namespaces")
    if shutil.which(tool) is None:
        die(f"this drill needs {tool}: apt-get install {package}")


def room(state, moment):
    """A and C on chat server 1, B on chat server 2; the room works before `moment`."""
    first, second = server(state, 1), server(state, 2)
    a, c, b = ChatClient(first["port"]), ChatClient(first["port"]), ChatClient(second["port"])
    tell(f"A and C are clients of chat server 1 (:{first['port']}), B of chat server 2 "
         f"(:{second['port']})")
    hears(b, a, f"A: before {moment}", "B (server 2) hears A (server 1)",
          f"B did not hear A before {moment}")
    c.read_until(f"A: before {moment}")
    return a, b, c


def room_after(a, b, c, said, moment):
    """Once `moment` ended: B and C get A's lines said during it, in order (or A is told they
    were not delivered), A none of its own, and the room works both ways again."""
    since = time.monotonic()
    heard, lines_b = b.read_until(said[-1], timeout=10)
    lines_b = [line for line in lines_b if line.startswith("A: ")]  # others may talk too
    told_a = a.read_all(0.3)
    not_delivered = [line for line in told_a if "not delivered" in line]
    if heard or not not_delivered:
        promise(lines_b == said, f"B got all {len(said)} of A's lines, in order, "
                f"{time.monotonic() - since:.1f} s after {moment} ended",
                f"B got {lines_b}, not {said}")
    else:
        promise(True, f"A was told: {not_delivered[0]}", "")
    heard_c = [line for line in c.read_all(0.5) if line.startswith("A: ")]
    promise(heard_c == said, "C, on A's own server, got them too", f"C got {heard_c}, not {said}")
    promise(not [line for line in told_a if line.startswith("A: ")],
            "A heard none of its own lines back", f"A heard its own lines: {told_a}")
    hears(a, b, f"B: after {moment}", "A and B talk again, with the same connections",
          f"A did not hear B after {moment}")


def drill_redis(options):
    state = load_state()
    a, b, c = room(state, "the outage")
    stopped = ask_demo("stop", name="redis")["process"]
    tell(f"Redis stopped (it was pid {stopped['pid']}, port {stopped['port']}); it stays down "
         f"{options.seconds:g} s")
    time.sleep(0.3)  # the servers notice: "redis: lost ..." in their logs, top shows it
    said = [f"A: said while Redis is away #{i}" for i in range(1, 4)]
    for line in said:
        a.send(line)
    tell(f"A says {len(said)} lines now; the server queues them for Redis (--max-queued)")
    d = ChatClient(server(state, 3)["port"])
    promise("welcome" in (d.welcome or ""), f"a newcomer D on chat server 3 is welcomed meanwhile: "
            f"\"{d.welcome}\"", "chat server 3 did not welcome a newcomer while Redis was away")
    early = b.read_line(0.5)
    tell("B hears nothing yet: every line goes through the channel, so that every server delivers "
         "the same lines in the same order" if early is None else f"B heard early: {early}")
    time.sleep(max(0.0, options.seconds - 0.8))
    started = ask_demo("start", name="redis")["process"]
    tell(f"Redis is back (pid {started['pid']}, the same port); the servers reconnect "
         "(backoff 100 ms doubling to 1 s) and publish their queues")
    room_after(a, b, c, said, "the outage")


def drill_partition(options):
    needs_root_and("nft", "nftables")
    state = load_state()
    first, redis = server(state, 1), state["redis_port"]
    ports = ", ".join(str(c["local"]) for c in sorted(connections(), key=lambda c: c["local"])
                      if c["pid"] == first["pid"] and c["peer"] == redis)
    if not ports:
        die("chat server 1 has no connection to Redis right now: is it a distributed_chat?")
    a, b, c = room(state, "the partition")
    since = os.path.getsize(first["log"])
    run("nft", "-f", "-", stdin=PARTITION.format(redis=redis, ports=ports))
    cut_at = time.monotonic()
    try:
        tell(f"PARTITION: every packet between chat server 1 (its ports {ports}) and Redis "
             f"(:{redis}) is dropped: no FIN, no reset, nothing. Both ends still think the "
             "connection is up.")
        said = [f"A: said during the partition #{i}" for i in range(1, 4)]
        a.send(said[0])
        tell("A speaks; server 1 publishes into the void and waits for a reply that cannot come")
        promise(wait_for_log(first["log"], "redis: no answer", since),
                f"server 1 noticed the silence after {time.monotonic() - cut_at:.1f} s (a PING "
                "after --redis-ping-ms of quiet, no answer within --redis-timeout-ms) and "
                "reconnects, in vain for now",
                "server 1 never said on stderr that Redis stopped answering")
        for line in said[1:]:
            a.send(line)
        b.send("B: said while server 1 is cut off")
        tell("B (server 2, still in touch) speaks too: server 1 is not subscribed, and pub/sub "
             "keeps nothing for an absent subscriber, so A and C will never hear it")
        time.sleep(max(0.0, options.seconds - (time.monotonic() - cut_at)))
    finally:
        run("nft", "delete", "table", "inet", "workshop_partition", check=False)
    tell(f"HEALED after {time.monotonic() - cut_at:.0f} s: the firewall rule is gone")
    room_after(a, b, c, said, "the partition")


def drill_server(options):
    state = load_state()
    victim = server(state, options.number)
    others = [p for p in processes(state, "chat") if p["running"] and p != victim]
    if len(others) < 2:
        die("the drill needs two other chat servers running")
    v, x, y = (ChatClient(p["port"]) for p in (victim, *others[:2]))
    tell(f"V is a client of {victim['role']} (:{victim['port']}), X of {others[0]['role']}, "
         f"Y of {others[1]['role']}")
    killed = ask_demo("stop", name=victim["name"], how="kill")["process"]
    tell(f"{victim['role']} killed (SIGKILL, pid {killed['pid']})")
    promise(v.read_line(2) is None and v.closed, "V sees its connection close",
            "V's connection stayed open")
    hears(y, x, "X: is anyone still there?",
          "X and Y, on the other servers, go on chatting: nothing lost there",
          "Y did not hear X after the kill")
    landed = [role_of(state, ChatClient(state["proxy_port"]).node)
              for _ in range(2 * len(others) + 2)]
    promise(victim["role"] not in landed and "?" not in landed,
            f"{len(landed)} new clients through the proxy went to: {', '.join(landed)} "
            "(it skips the dead backend and rests it)", f"new clients landed on: {landed}")

    started = ask_demo("start", name=victim["name"])["process"]
    tell(f"{victim['role']} started again on the same port :{started['port']} "
         f"(pid {started['pid']})")
    deadline, back = time.monotonic() + 10, None
    while back is None and time.monotonic() < deadline:
        client = ChatClient(state["proxy_port"])
        back = client if client.node == str(started["pid"]) else None
        time.sleep(0.2)  # also: its subscription is made right after its ready line
    if promise(back is not None,
               f"the proxy puts it back in rotation: a new client landed on {victim['role']}",
               "no new client reached the restarted server in 10 s"):
        hears(x, back, "R: I am back", "and the restarted server is in the room again",
              "X did not hear the client of the restarted server")


def drill_slow_client(options):
    state = load_state()
    first, second = server(state, 1), server(state, 2)
    slow = ChatClient(first["port"], receive_buffer=4096)
    witness, talker = ChatClient(first["port"]), ChatClient(second["port"])
    tell(f"S, a client of chat server 1 (:{first['port']}), stops reading; W, on the same server, "
         f"reads everything; T, on chat server 2, talks at about {options.rate} kB/s")
    position = os.path.getsize(first["log"])  # what it logs from now on
    heard = []  # (line number, seconds from T's send to W), as W reads them

    def read_witness():
        while (line := witness.read_line(60)) is not None:
            if line.startswith("T: "):
                number, when = line.split(" ", 3)[1:3]
                heard.append((int(number), time.time() - float(when)))

    threading.Thread(target=read_witness, daemon=True).start()
    sent, dropped, memory = 0, None, cpu_and_memory(first["pid"])[1]
    start = next_report = time.monotonic()
    while time.monotonic() - start < options.seconds and dropped is None:
        for _ in range(max(1, options.rate // 10)):  # lines of about 1 kB, ten times a second
            sent += 1
            talker.send(f"T: {sent} {time.time():.6f} {'x' * 1000}")
        time.sleep(0.1)
        lines, position = new_lines(first["log"], position)
        dropped = next((line for line in lines if "dropping client" in line and "backlog" in line),
                       None)
        if time.monotonic() >= next_report:
            next_report += 1
            unsent = max((c["sendq"] for c in connections() if c["local"] == first["port"]),
                         default=0)
            grown = (cpu_and_memory(first["pid"])[1] - memory) / 1e6
            tell(f"T has sent {sent * 1.03:.0f} kB; the kernel holds {unsent / 1000:.0f} kB unsent "
                 f"for S, chat server 1's memory grew {grown:.1f} MB (its queue for S)")
    if not promise(dropped is not None, f"chat server 1 dropped S: \"{dropped}\"",
                   f"S was not dropped within {options.seconds} s"):
        return
    while slow.receive(0):
        pass  # what the kernel held for S, until the reset
    promise(slow.closed, "S's connection is gone (reset)", "S's connection is still open")
    deadline = time.monotonic() + 10
    while len(heard) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    promise([number for number, _ in heard] == list(range(1, sent + 1)),
            f"nobody else slowed down: W, on the same server, got all {sent} lines in order, "
            f"the slowest {max((lag for _, lag in heard), default=0) * 1000:.0f} ms after it was "
            "said", f"W got {len(heard)} of {sent} lines")


def flood_heard(clients):
    """The flood's lines the clients received since the last call (bots and people may be
    talking in the room too)."""
    for client in clients:
        while client.receive(0):
            pass
    return sum(line.startswith("flood ") for client in clients for line in client.lines())


def drill_flood(options):
    state = load_state()
    started = time.monotonic()
    clients = [ChatClient(state["proxy_port"], welcome=False) for _ in range(options.clients)]
    for client in clients:  # all connected already: their welcomes come in parallel
        client.welcome = client.read_line(max(0.0, started + 10 - time.monotonic()))
    spread = Counter(role_of(state, (c.welcome or "").split(" : ", 1)[0]) for c in clients)
    joined = sum(client.welcome is not None for client in clients)
    promise(joined == len(clients),
            f"{joined} clients joined through the proxy in {time.monotonic() - started:.2f} s: "
            + ", ".join(f"{role} {n}" for role, n in sorted(spread.items())),
            f"only {joined} of {len(clients)} clients were welcomed in 10 s")
    tell(f"each says a line every {1 / options.rate:.2f} s for {options.seconds:g} s: watch "
         "./workshop top")
    heard, start = 0, time.monotonic()
    ticks = max(1, round(options.seconds * options.rate))
    for tick in range(ticks):
        for i, client in enumerate(clients):
            client.send(f"flood {i}: line {tick}")
        heard += flood_heard(clients)
        time.sleep(max(0.0, start + (tick + 1) / options.rate - time.monotonic()))
    sent, elapsed = ticks * len(clients), time.monotonic() - start
    expected, deadline = sent * (len(clients) - 1), time.monotonic() + 10  # all but its sender
    while heard < expected and time.monotonic() < deadline:
        time.sleep(0.1)
        heard += flood_heard(clients)
    promise(heard == expected,
            f"{sent} lines said ({sent / elapsed:.0f}/s), {heard} delivered: each reached the "
            f"{len(clients) - 1} others, none came back to its sender",
            f"{heard} lines delivered, {expected} expected")
    for client in clients:
        client.close()
    tell(f"the {len(clients)} clients leave")


def one_way(a, b, count, tag):
    """Milliseconds from A's send until B hears it (the median of `count` lines, all intact and
    in order); None if one did not arrive."""
    times = []
    for i in range(count):
        sent = time.monotonic()
        a.send(f"A: {tag} #{i} {'x' * 200}")
        if not b.read_until(f"A: {tag} #{i} {'x' * 200}", timeout=10)[0]:
            return None
        times.append((time.monotonic() - sent) * 1000)
    return statistics.median(times)


def drill_latency(options):
    needs_root_and("tc", "iproute2")
    state = load_state()
    redis, delay = state["redis_port"], options.delay
    if "netem" in run("tc", "qdisc", "show", "dev", "lo").stdout:
        die("the loopback has a netem queue already (tc qdisc show dev lo): is another drill "
            "running? (tc qdisc del dev lo root removes it)")
    a, b = ChatClient(server(state, 1)["port"]), ChatClient(server(state, 2)["port"])
    tell("A is a client of chat server 1, B of chat server 2; every line goes A -> server 1 -> "
         "Redis -> server 2 -> B")
    before = one_way(a, b, 20, "before")
    promise(before is not None, f"before: a line takes {before or 0:.1f} ms (median of 20)",
            "lines did not arrive before the drill")
    try:
        try:
            for command in NETEM:
                run("tc", *command.format(redis=redis, delay=delay, jitter=delay / 5,
                                          loss=options.loss).split())
        except RuntimeError as error:
            die(f"this kernel cannot delay the loopback's packets (it needs the prio and netem "
                f"queueing disciplines): {str(error).rstrip('.')}. The loopback is left as it was.")
        tell(f"LATENCY: every packet to or from Redis (:{redis}) now waits {delay} ms "
             f"(+- {delay / 5:g}), and {options.loss}% are lost: {2 * delay} ms round trips, as "
             "between two data centres")
        started = time.monotonic()
        during = one_way(a, b, 20, "during")
        promise(during is not None, f"every line arrived, intact and in order: {during or 0:.1f} "
                f"ms each (median of 20; {2 * delay} ms more, for two trips through Redis' link); "
                "TCP resends what netem drops", "lines went missing under latency")
        burst = [f"A: burst #{i} {'y' * 500}" for i in range(200)]
        for line in burst:
            a.send(line)
        got = [line for line in b.read_until(burst[-1], timeout=30)[1]
               if line.startswith("A: burst")]
        promise(got == burst, "a burst of 200 lines arrived whole and in order too",
                f"the burst arrived as {len(got)} lines, not 200 in order")
        time.sleep(max(0.0, options.seconds - (time.monotonic() - started)))
    finally:
        run("tc", "qdisc", "del", "dev", "lo", "root", check=False)
    tell("LATENCY gone: the loopback's queue is as before")
    after = one_way(a, b, 10, "after")
    promise(after is not None, f"after: {after or 0:.1f} ms a line again",
            "lines did not arrive after the drill")


# Each drill: what it does (--help) and its options, (flag, type, default, help); a flag without
# dashes is the optional positional N.
DRILLS = {
    "redis": (drill_redis, "Redis stops for --seconds and comes back on its port",
              [("--seconds", float, 5.0, None)]),
    "server": (drill_server, "chat server N is killed; the proxy skips it; it returns",
               [("number", int, 2, None)]),
    "slow-client": (drill_slow_client, "a client of chat server 1 stops reading; the server "
                    "drops it alone", [("--rate", int, 1000, "kB/s the talker sends"),
                                       ("--seconds", float, 30.0, "give up after this long")]),
    "flood": (drill_flood, "many clients join through the proxy at once and talk",
              [("--clients", int, 200, None), ("--seconds", float, 10.0, None),
               ("--rate", float, 1.0, "lines a second per client")]),
    "partition": (drill_partition, "chat server 1 is cut off from Redis for --seconds: every "
                  "packet dropped, nothing closed; then it heals (root, nft)",
                  [("--seconds", float, 10.0, None)]),
    "latency": (drill_latency, "packets to and from Redis wait --delay ms and --loss %% are "
                "lost, for --seconds (root, tc netem)",
                [("--seconds", float, 10.0, None), ("--delay", int, 25, "ms each way"),
                 ("--loss", float, 1.0, "percent of packets")]),
}


def main(argv):
    parser = argparse.ArgumentParser(prog="./workshop drill", description=__doc__.split("\n\n")[0])
    drills = parser.add_subparsers(dest="drill", required=True, metavar="DRILL")
    for name, (_, what, options) in DRILLS.items():
        drill = drills.add_parser(name, help=what)
        for flag, kind, default, about in options:
            positional = {} if flag.startswith("-") else {"nargs": "?", "metavar": "N"}
            drill.add_argument(flag, type=kind, default=default, help=about, **positional)
    options = parser.parse_args(argv)
    stopped = []

    def on_term(number, frame):  # the demo stops: undo what the drill did, and end
        stopped.append(number)
        tell("the demo stops, and this drill with it")
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, on_term)
    ask_demo("drill", pid=os.getpid())
    try:
        DRILLS[options.drill][0](options)
    except (ConnectionError, TimeoutError) as error:
        promise(False, "", str(error))
    except RuntimeError as error:  # a command that breaks the network failed
        die(f"the drill could not do it: {error}")
    finally:
        if not stopped:
            ask_demo("drill", pid=os.getpid(), ends=True)
    if BROKEN:
        tell(f"{len(BROKEN)} promise(s) broken")
        sys.exit(1)
    tell("done: the system is whole again")
