"""python3 .ci/cross_proxy.py PROXY_PORT [HOST]: exit 0 when a line crosses the demo's proxy:
two clients join through it and land on two chat servers (each welcome line names its server:
docs/programs.md); a line one sends reaches the other within 10 s."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo"))
from demo_lib import ChatClient  # noqa: E402

alice, bob = (ChatClient(int(sys.argv[1]), *sys.argv[2:3]) for _ in range(2))
print(f"  alice: {alice.welcome!r}\n  bob:   {bob.welcome!r}")
if None in (alice.node, bob.node) or alice.node == bob.node:
    sys.exit(f"cross_proxy: clients on {alice.node} and {bob.node}: the proxy should alternate")
line = f"hello from alice on {alice.node}, {os.getpid()}"
alice.send(line)
if not bob.read_until(line, timeout=10)[0]:
    sys.exit(f"cross_proxy: bob never got {line!r}")
print(f"  bob on {bob.node} got alice's line from {alice.node}: {line!r}")
