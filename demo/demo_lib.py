"""What the demo, its live view and its drills share: the demo's state file and control socket, a
chat client that reads whole lines, and what the kernel says of processes and connections.

The demo (demo/demo.py demo) is the only writer of the state file and the parent of every
process it lists; top and the drills read the file and ask the demo through its control socket.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))  # wslib
from wslib import ROOT, die, pid_alive  # noqa: F401  (pid_alive: tests/system too)

# $WORKSHOP_DEMO_STATE: tests run demos of their own
STATE = os.environ.get("WORKSHOP_DEMO_STATE") or os.path.join(ROOT, ".workshop", "demo.json")
CONTROL = os.path.splitext(STATE)[0] + ".sock"


def load_state(required=True):
    """The running demo's state (a dict), or None (or exit, when `required`) if none runs."""
    try:
        with open(STATE) as file:
            state = json.load(file)
    except (FileNotFoundError, ValueError):
        state = None
    if state is not None and not pid_alive(state.get("pid")):
        state = None  # left over from a demo that was killed outright
    if state is None and required:
        die("no demo is running: start one with ./workshop demo (in another terminal)")
    return state


def ask_demo(op, **arguments):
    """The demo's answer to `op` (stop, start, drill); dies with its reason when it refuses."""
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(30)
        try:
            connection.connect(CONTROL)
            connection.sendall((json.dumps(dict(arguments, op=op)) + "\n").encode())
            reply = json.loads(connection.makefile().readline() or '{"error": "no answer"}')
        except OSError as error:
            die(f"cannot reach the demo's control socket {CONTROL}: {error}")
    if "error" in reply:
        die(f"the demo refused {op}: {reply['error']}")
    return reply


def processes(state, *kinds):
    return [p for p in state["processes"] if not kinds or p["kind"] in kinds]


class ChatClient:
    """A client of a chat server (or of the proxy): sends whole lines, reads whole lines."""

    def __init__(self, port, host="127.0.0.1", receive_buffer=None, welcome=True):
        self.socket = socket.socket()
        if receive_buffer:  # before connect: a small window keeps the kernel from buffering much
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(10)
        self.socket.connect((host, port))
        self.buffer, self.closed = b"", False
        self.welcome = self.read_line() if welcome else None  # "NODE : welcome ..."
        self.node = self.welcome.split(" : ", 1)[0] if self.welcome else None

    def send(self, text):
        self.socket.settimeout(10)
        self.socket.sendall(text.encode() + b"\n")

    def receive(self, timeout):
        """Adds to the buffer what arrives within `timeout` s (0: what is there); False: nothing."""
        self.socket.settimeout(timeout)
        try:
            chunk = self.socket.recv(1 << 20)
        except (socket.timeout, BlockingIOError):
            return False
        except OSError:
            chunk = b""
        self.closed = self.closed or not chunk
        self.buffer += chunk
        return bool(chunk)

    def lines(self):
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode(errors="replace") for line in lines]

    def read_line(self, timeout=5.0):
        """The next line without its \\n, or None after `timeout` s or at the end of the stream."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if self.closed or left <= 0 or not self.receive(left):
                return None
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def read_until(self, wanted, timeout=5.0):
        """(whether `wanted` came within `timeout` s, the lines read meanwhile)."""
        deadline, seen = time.monotonic() + timeout, []
        while (line := self.read_line(max(0.0, deadline - time.monotonic()))) is not None:
            seen.append(line)
            if line == wanted:
                return True, seen
        return False, seen

    def read_all(self, quiet=0.3):
        lines = []
        while (line := self.read_line(quiet)) is not None:
            lines.append(line)
        return lines

    def close(self):
        self.socket.close()


def new_lines(path, position):
    """The whole lines written to the file `path` after `position`, and the position after them."""
    try:
        with open(path, "rb") as log:
            log.seek(position)
            data = log.read()
    except OSError:
        return [], position
    end = data.rfind(b"\n") + 1
    return data[:end].decode(errors="replace").splitlines(), position + end


def wait_for_log(path, text, since=0, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in line for line in new_lines(path, since)[0]):
            return True
        time.sleep(0.05)
    return False


TICKS, PAGE = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")


def cpu_and_memory(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS, int(fields[21]) * PAGE


SOCKET = re.compile(r"^\d+\s+(\d+)\s+\S+:(\d+)\s+\S+:(\d+)(?:.*pid=(\d+))?")


def connections():
    """Every established TCP connection of the machine, as the kernel counts it (ss -tinp): dicts
    of local and peer port, its bytes unsent (sendq), received and sent (acknowledged), and the
    pid holding it."""
    output = subprocess.run(["ss", "-tinpH", "state", "established"], capture_output=True,
                            text=True).stdout
    found = []
    for line in output.splitlines():
        match = SOCKET.match(line)
        if match:
            sendq, local, peer, pid = match.groups()
            found.append({"local": int(local), "peer": int(peer), "sendq": int(sendq),
                          "pid": int(pid or 0), "received": 0, "sent": 0})
        elif found and line[:1].isspace():  # the tcp_info of the connection above
            for key, name in (("received", "bytes_received"), ("sent", "bytes_acked")):
                number = re.search(name + r":(\d+)", line)
                found[-1][key] = int(number.group(1)) if number else 0
    return found


def run(*argv, stdin=None, check=True):
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done
