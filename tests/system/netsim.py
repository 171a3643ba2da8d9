"""A small network to break: simulated hosts (Linux network namespaces) on one switch (a bridge
in a namespace of its own), each joined to it by a veth pair. The machine itself joins the switch
too, so a test or a drill talks to the hosts with plain sockets.

    with Network() as net:
        net.add_host("redis")
        net.start("redis", ["redis-server", ...])
        net.delay("chat1", "delay 25ms loss 1%")     # tc netem, both ways on chat1's cable
        net.cut("chat1", "redis")                    # a partition: every packet dropped (nft)
        net.heal("chat1", "redis")

Needs root, iproute2 (ip, tc), nftables (nft) and, for delay and loss, the kernel's netem
qdisc. `missing()` says what is missing, so callers can skip with that message. Everything a
Network makes is removed on exit, whatever happens: its processes are killed, its namespaces
deleted (with them go their cables, qdiscs and firewall rules). A run that was killed outright
leaves namespaces named after its pid; the next run removes them.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "demo"))
from demo_lib import run  # noqa: E402  (the drills' too)

PREFIX = "wsnet"


def missing(need_netem=False):
    """Why this machine cannot build the network (None when it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, tc and nft do): run as root, or in CI"
    for tool, package in (("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"needs {tool} (Debian package {package})"
    probe = f"{PREFIX}{os.getpid()}-probe"
    try:
        run("ip", "netns", "add", probe)
        run("ip", "-n", probe, "link", "add", "br0", "type", "bridge")
        if need_netem:
            run("ip", "-n", probe, "link", "set", "lo", "up")
            done = run("ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root",
                       "netem", "delay", "1ms", check=False)
            if done.returncode != 0:
                return ("this kernel has no netem qdisc (sch_netem), so no delay or loss: "
                        + done.stderr.strip())
    except RuntimeError as error:
        return f"cannot make network namespaces here: {error}"
    finally:
        run("ip", "netns", "del", probe, check=False)
    return None


def remove_leftovers():
    """Deletes the namespaces of earlier runs whose process is gone (killed by a timeout)."""
    for line in run("ip", "netns", "list").stdout.splitlines():
        found = re.match(rf"({PREFIX}(\d+)-\S+)", line)
        if found and not os.path.exists(f"/proc/{found.group(2)}"):
            run("ip", "netns", "del", found.group(1), check=False)
    for line in run("ip", "-o", "link").stdout.splitlines():
        found = re.match(r"\d+: (wsn(\d+))[@:]", line)
        if found and not os.path.exists(f"/proc/{found.group(2)}"):
            run("ip", "link", "del", found.group(1), check=False)


class Network:
    def __init__(self):
        self.pid = os.getpid()
        self.hub = f"{PREFIX}{self.pid}-switch"
        # A /24 of our own, from the pid, so that two runs at once do not share one.
        self.subnet = f"10.{200 + self.pid % 50}.{self.pid // 50 % 250}"
        self.machine_ip = f"{self.subnet}.254"
        self.hosts = {}  # name -> (namespace, address)
        self.processes = []
        self.cuts = set()

    def __enter__(self):
        remove_leftovers()
        self._previous = {s: signal.signal(s, self._interrupted) for s in
                          (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            run("ip", "netns", "add", self.hub)
            run("ip", "-n", self.hub, "link", "add", "br0", "type", "bridge")
            run("ip", "-n", self.hub, "link", "set", "br0", "up")
            # The machine's own cable to the switch.
            self.cable = mine = f"wsn{self.pid}"[:15]
            run("ip", "link", "add", mine, "type", "veth", "peer", "name", "machine",
                "netns", self.hub)
            run("ip", "addr", "add", f"{self.machine_ip}/24", "dev", mine)
            run("ip", "link", "set", mine, "up")
            self._plug("machine")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _interrupted(self, number, frame):
        raise SystemExit(128 + number)  # so that __exit__ runs

    def _plug(self, port):
        run("ip", "-n", self.hub, "link", "set", port, "master", "br0")
        run("ip", "-n", self.hub, "link", "set", port, "up")

    def add_host(self, name):
        """A new host on the switch; returns its address."""
        namespace = f"{PREFIX}{self.pid}-{name}"
        address = f"{self.subnet}.{len(self.hosts) + 1}"
        run("ip", "netns", "add", namespace)
        run("ip", "link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name",
            name[:15], "netns", self.hub)
        run("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        run("ip", "-n", namespace, "link", "set", "eth0", "up")
        run("ip", "-n", namespace, "link", "set", "lo", "up")
        self._plug(name[:15])
        self.hosts[name] = (namespace, address)
        return address

    def address(self, name):
        return self.hosts[name][1]

    def start(self, name, argv, **popen):
        """Starts `argv` on host `name`; it is killed when the network goes."""
        process = subprocess.Popen(["ip", "netns", "exec", self.hosts[name][0], *argv], **popen)
        self.processes.append(process)
        return process

    def delay(self, name, netem):
        """tc netem on both ends of `name`'s cable: "delay 25ms 5ms loss 1%" each way."""
        namespace = self.hosts[name][0]
        run("ip", "netns", "exec", namespace, "tc", "qdisc", "replace", "dev", "eth0", "root",
            "netem", *netem.split())
        run("ip", "netns", "exec", self.hub, "tc", "qdisc", "replace", "dev", name[:15], "root",
            "netem", *netem.split())

    def cut(self, name, peer):
        """Drops every packet between hosts `name` and `peer`, both ways, without a word: no
        reset, no ICMP. A firewall rule in `name`'s namespace."""
        namespace, peer_ip = self.hosts[name][0], self.address(peer)
        rules = (f"table inet partition {{\n"
                 f"  chain input {{ type filter hook input priority 0; ip saddr {peer_ip} drop; }}\n"
                 f"  chain output {{ type filter hook output priority 0; ip daddr {peer_ip} drop; }}\n"
                 f"}}\n")
        run("ip", "netns", "exec", namespace, "nft", "-f", "-", stdin=rules)
        self.cuts.add(name)

    def heal(self, name, peer=None):
        namespace = self.hosts[name][0]
        run("ip", "netns", "exec", namespace, "nft", "delete", "table", "inet", "partition")
        self.cuts.discard(name)

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 3
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        for namespace, _ in self.hosts.values():
            run("ip", "netns", "del", namespace, check=False)
        self.hosts = {}
        if getattr(self, "cable", None):
            run("ip", "link", "del", self.cable, check=False)  # at once, not when the kernel
            self.cable = None                                  # gets round to the namespace
        run("ip", "netns", "del", self.hub, check=False)
        for number, handler in getattr(self, "_previous", {}).items():
            signal.signal(number, handler)
        self._previous = {}
        left = [line for line in run("ip", "netns", "list").stdout.splitlines()
                if line.startswith(f"{PREFIX}{self.pid}-")]
        if left:
            raise RuntimeError(f"namespaces left behind: {left}")
