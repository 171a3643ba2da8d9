"""A line crosses the demo's proxy: two clients join through it, land on two different chat
servers (each welcome line names its server: docs/programs.md), one sends a line, the other
must receive it within 10 s. Exit 0 when it does.

    python3 .ci/cross_proxy.py PROXY_PORT [HOST]
"""
import os
import socket
import sys
import time

port = int(sys.argv[1])
host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
deadline = time.monotonic() + 10


def connect():
    client = socket.create_connection((host, port), timeout=10)
    return client, client.makefile("rb")


def line_of(reader):
    client_line = reader.readline()
    if not client_line:
        sys.exit("cross_proxy: the connection closed before a line came")
    return client_line.decode(errors="replace").rstrip("\n")


alice, alice_in = connect()
bob, bob_in = connect()
welcomes = [line_of(alice_in), line_of(bob_in)]
servers = [welcome.split(" : ")[0] for welcome in welcomes]
print(f"  alice: {welcomes[0]!r}\n  bob:   {welcomes[1]!r}")
if servers[0] == servers[1]:
    sys.exit(f"cross_proxy: both clients landed on {servers[0]}: the proxy should alternate")

line = f"hello from alice on {servers[0]}, {os.getpid()}"
alice.sendall(line.encode() + b"\n")
while time.monotonic() < deadline:
    got = line_of(bob_in)
    if got == line:
        print(f"  bob on {servers[1]} got alice's line from {servers[0]}: {got!r}")
        sys.exit(0)
sys.exit(f"cross_proxy: bob never got {line!r}")
