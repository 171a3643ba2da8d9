"""System tests: lesson 04's distributed_chat on a simulated network (tests/system/netsim.py),
Redis and two chat servers each on a host of its own, the clients on this machine.

  latency    50 ms round trips with jitter and 1% loss on every chat server's cable: every
             line arrives intact, once, and in its sender's order
  partition  chat server 1 cut off from Redis for 10 s (every packet dropped, nothing closed):
             it says so on stderr within --redis-ping-ms + --redis-timeout-ms, keeps its
             clients, and after the heal the lines said meanwhile arrive, in order; server 2
             notices nothing

usage: chat_on_a_network.py latency|partition --chat PROGRAM [--redis-server PROGRAM]
Exit 0: passed; 1: failed (the story says where); 77: skipped (no root, no netem: says why).
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netsim  # noqa: E402
from demo_lib import ChatClient, wait_for_log  # noqa: E402  (demo/, on the path by netsim)

SKIPPED = 77
START = time.monotonic()
CHATS = []  # every chat server started, to show their stderr when a test fails


def note(text):
    print(f"{time.monotonic() - START:7.2f}s  {text}", flush=True)


class Failed(Exception):
    pass


def expect(holds, what):
    if not holds:
        raise Failed(what)
    note(f"ok: {what}")


class Client(ChatClient):
    """The demo's chat client, whose expectations end the test with the story of what came."""

    def __init__(self, name, address, port):
        super().__init__(port, host=address)
        self.name = name
        note(f"{name} joined server {self.node}")

    def line(self, within):
        line = self.read_line(within)
        if line is None:
            end = "the end of the stream" if self.closed else "no end of line"
            raise Failed(f"{self.name} to receive a line within {within} s; got "
                         f"{self.buffer[:80]!r} and {end}")
        return line

    def expect_lines(self, lines, within, why):
        deadline = time.monotonic() + within
        for wanted in lines:
            got = self.line(max(0.1, deadline - time.monotonic()))
            if got != wanted:
                raise Failed(f"{self.name} to receive {wanted!r} ({why}); got {got!r}")
        note(f"ok: {self.name} received {len(lines)} line(s) in order ({why})")

    def expect_nothing(self, within, why):
        got = self.read_line(within)
        if got is not None or self.buffer:
            raise Failed(f"{self.name} to receive nothing ({why}); got {got or self.buffer[:80]!r}")


class Chat:
    """One distributed_chat on a host of the network, its stderr in a file."""

    def __init__(self, net, host, program, redis, extra=()):
        self.log = tempfile.NamedTemporaryFile(prefix=f"system-{host}-", suffix=".log")
        self.process = net.start(host, [program, "--host", "0.0.0.0", "--port", "9999", "--redis",
                                        redis, *extra], stdout=subprocess.PIPE,
                                 stderr=self.log)
        CHATS.append(self)
        ready = self.process.stdout.readline().decode()
        if "listening on" not in ready:
            raise Failed(f"{host}'s distributed_chat to say 'listening on'; got {ready!r}:\n"
                         + self.stderr())
        self.address, self.port = net.address(host), 9999
        self.host = host

    def stderr(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as text:
            return text.read()


def start_redis(net, program):
    address = net.add_host("redis")
    net.start("redis", [program, "--bind", address, "--port", "6379", "--save", "",
                        "--appendonly", "no", "--protected-mode", "no"],
              stdout=open(os.devnull, "w"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 6379), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    note(f"redis-server answers on {address}:6379")
                    return f"{address}:6379"
        except OSError:
            time.sleep(0.1)
    raise Failed("redis-server to answer PING on its host within 10 s")


def latency(net, options):
    redis = start_redis(net, options.redis_server)
    net.add_host("chat1")
    net.add_host("chat2")
    servers = [Chat(net, host, options.chat, redis) for host in ("chat1", "chat2")]
    for host in ("chat1", "chat2"):
        net.delay(host, "delay 25ms 5ms loss 1%")
    note("netem: 25 ms +- 5 ms and 1% loss each way on both chat servers' cables: 50 ms round "
         "trips between a chat server and Redis, or a client")
    alice = Client("alice (server 1)", servers[0].address, servers[0].port)
    bob = Client("bob (server 2)", servers[1].address, servers[1].port)
    carol = Client("carol (server 1)", servers[0].address, servers[0].port)
    time.sleep(1)  # both subscribed
    filler = "".join(chr(ord("a") + i % 26) for i in range(600))
    from_alice = [f"alice {i} {filler}" for i in range(150)]
    from_bob = [f"bob {i} {filler[::-1]}" for i in range(150)]
    for ours, theirs in zip(from_alice, from_bob):
        alice.send(ours)
        bob.send(theirs)
        time.sleep(0.01)
    note("alice and bob each sent 150 lines of 600-odd bytes, 10 ms apart")
    bob.expect_lines(from_alice, 30, "alice's lines, intact and in order, through two lossy cables")
    alice.expect_lines(from_bob, 30, "bob's lines, intact and in order")
    heard = [carol.line(30) for _ in range(300)]
    expect([l for l in heard if l.startswith("alice ")] == from_alice and
           [l for l in heard if l.startswith("bob ")] == from_bob,
           "carol (server 1) heard both, each in its sender's order, each once")
    alice.expect_nothing(0.5, "her own lines never come back")


def partition(net, options):
    redis = start_redis(net, options.redis_server)
    net.add_host("chat1")
    net.add_host("chat2")
    ping_ms, timeout_ms = 1000, 2000
    check = ["--redis-ping-ms", str(ping_ms), "--redis-timeout-ms", str(timeout_ms)]
    servers = [Chat(net, host, options.chat, redis, check) for host in ("chat1", "chat2")]
    alice = Client("alice (server 1)", servers[0].address, servers[0].port)
    carol = Client("carol (server 1)", servers[0].address, servers[0].port)
    bob = Client("bob (server 2)", servers[1].address, servers[1].port)
    time.sleep(1)
    alice.send("before")
    bob.expect_lines(["before"], 5, "the system works before the partition")
    carol.expect_lines(["before"], 5, "the system works before the partition")

    net.cut("chat1", "redis")
    cut_at = time.monotonic()
    note("partition: every packet between chat1 and redis dropped (nft), nothing closed")
    during = [f"during the partition {i}" for i in range(1, 6)]
    alice.send(during[0])
    slack = 1.5
    said = wait_for_log(servers[0].log.name, "redis: no answer",
                        timeout=(ping_ms + timeout_ms) / 1000 + slack)
    expect(said, f"chat1 says on stderr that Redis stopped answering, within "
                 f"{ping_ms} + {timeout_ms} ms (+{slack} s): after "
                 f"{time.monotonic() - cut_at:.1f} s")
    for line in during[1:]:
        alice.send(line)
        time.sleep(1)
    bob.send("bob, while chat1 is cut off")
    while time.monotonic() < cut_at + 10:
        time.sleep(0.1)
    expect("redis: no answer" not in servers[1].stderr(), "chat2, still in touch, noticed nothing")
    expect(all(s.process.poll() is None for s in servers), "both servers still run")
    net.heal("chat1", "redis")
    healed_at = time.monotonic()
    note("healed after 10 s")
    bob.expect_lines(during, 5, "the lines said during the partition, after the heal")
    note(f"  ({time.monotonic() - healed_at:.1f} s after the heal)")
    carol.expect_lines(during, 3, "chat1's own clients hear them too")
    bob.send("after")
    alice.expect_lines(["after"], 5, "traffic flows both ways again, with the same clients")
    carol.expect_lines(["after"], 5, "traffic flows both ways again, with the same clients")
    note("(bob's line said during the partition never reaches chat1: pub/sub keeps nothing for "
         "a subscriber that is away; see lesson 04's README)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=("latency", "partition"))
    parser.add_argument("--chat", required=True, help="the distributed_chat program")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    options = parser.parse_args()
    why_not = netsim.missing(need_netem=options.scenario == "latency")
    if why_not:
        print(f"SKIPPED: {options.scenario} on a simulated network {why_not}", flush=True)
        return SKIPPED
    try:
        with netsim.Network() as net:
            {"latency": latency, "partition": partition}[options.scenario](net, options)
        note(f"{options.scenario}: passed; every namespace, cable and rule removed")
        return 0
    except Failed as failure:
        note(f"FAILED: expected {failure}")
        for chat in CHATS:
            tail = "".join(f"    | {line}\n" for line in chat.stderr().splitlines()[-15:])
            print(f"{chat.host}'s stderr, last lines:\n{tail}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
