"""What the demo, its live view and its drills share: where the demo's state file is, how to ask
the running demo to stop or start one of its processes, a line-based chat client, and Redis
spoken over a plain socket (RESP), so nothing beyond python3 is needed.

The demo (tools/demo.py demo) is the only writer of the state file and the parent of every
process it lists; the others read the file and ask the demo through its control socket.
"""
import json
import os
import socket
import time

from wslib import ROOT, die


def state_path():
    """The demo's state file: .workshop/demo.json, or $WORKSHOP_DEMO_STATE (tests run their own)."""
    return os.environ.get("WORKSHOP_DEMO_STATE") or os.path.join(ROOT, ".workshop", "demo.json")


def control_path():
    """The demo's control socket, beside its state file."""
    return os.path.splitext(state_path())[0] + ".sock"


def pid_alive(pid):
    """Whether `pid` runs; a zombie (ended, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, TypeError):
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def load_state(required=True):
    """The running demo's state (a dict), or None (or exit, when `required`) if none runs."""
    try:
        with open(state_path()) as file:
            state = json.load(file)
    except (FileNotFoundError, ValueError):
        state = None
    if state is not None and not pid_alive(state.get("pid")):
        state = None  # left over from a demo that was killed outright
    if state is None and required:
        die("no demo is running: start one with ./workshop demo (in another terminal)")
    return state


def write_state(state):
    """Replaces the state file at once (write, then rename): a reader never sees half of it."""
    path = state_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as file:
        json.dump(state, file, indent=2)
    os.replace(temporary, path)


def ask_demo(request, timeout=30.0):
    """Sends one request (a dict) to the running demo and returns its answer (a dict); dies with
    the demo's reason when it refuses."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        try:
            connection.connect(control_path())
        except OSError as error:
            die(f"cannot reach the demo's control socket {control_path()}: {error}")
        connection.sendall((json.dumps(request) + "\n").encode())
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    reply = json.loads(answer or b'{"ok": false, "error": "the demo closed the connection"}')
    if not reply.get("ok"):
        die(f"the demo refused {request.get('op')}: {reply.get('error')}")
    return reply


def processes(state, kind=None):
    """The state's processes, in start order, optionally only one kind (redis, chat, node, ...)."""
    return [p for p in state["processes"] if kind is None or p["kind"] == kind]


def find(state, name):
    for process in state["processes"]:
        if process["name"] == name:
            return process
    die(f"the demo has no process named {name}")


# ---- a chat client: one socket, whole lines ----

class ChatClient:
    """A client of a chat server (or of the proxy): reads whole lines, sends whole lines."""

    def __init__(self, port, name="client", host="127.0.0.1", receive_buffer=None, timeout=5.0):
        self.name = name
        self.socket = socket.socket()
        if receive_buffer:  # before connect: a small window keeps the kernel from buffering much
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(timeout)
        self.socket.connect((host, port))
        self.buffer = b""
        self.closed = False
        self.welcome = self.read_line(timeout)  # "NODE : welcome ..."
        self.node = self.welcome.split(" : ", 1)[0] if self.welcome else None

    def send(self, text):
        self.socket.sendall(text.encode() + b"\n")

    def read_line(self, timeout=5.0):
        """The next line without its \\n, or None after `timeout` s or at end of stream."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return None
            self.socket.settimeout(remaining)
            try:
                chunk = self.socket.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode(errors="replace")

    def read_until(self, wanted, timeout=5.0):
        """Reads lines until one for which wanted(line) holds; returns (it or None, lines read)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            line = self.read_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                return None, seen
            seen.append(line)
            if wanted(line):
                return line, seen

    def read_all(self, quiet=0.3):
        """Every line that arrives until the connection is quiet for `quiet` s."""
        lines = []
        while True:
            line = self.read_line(quiet)
            if line is None:
                return lines
            lines.append(line)

    def close(self):
        try:
            self.socket.close()
        except OSError:
            pass


# ---- Redis over a socket ----

def _read_reply(stream):
    head = stream.readline()
    if not head:
        raise ConnectionError("Redis closed the connection")
    kind, rest = head[:1], head[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        return RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = stream.read(size + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_read_reply(stream) for _ in range(count)]
    raise ConnectionError(f"not a RESP reply: {head!r}")


def encode_command(*parts):
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


def redis_command(port, *parts, host="127.0.0.1", timeout=1.0):
    """One command's reply (str, int, list, None, or a RuntimeError for an error reply); raises
    OSError when Redis is not there."""
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(encode_command(*parts))
        with connection.makefile("rb") as stream:
            return _read_reply(stream)


class RedisSubscriber:
    """A subscription to one channel, read without blocking: messages() returns what arrived."""

    def __init__(self, port, channel, host="127.0.0.1"):
        self.connection = socket.create_connection((host, port), timeout=1.0)
        self.connection.sendall(encode_command("CLIENT", "SETNAME", "workshop-top") +
                                encode_command("SUBSCRIBE", channel))
        self.stream = self.connection.makefile("rb")
        _read_reply(self.stream)  # OK
        _read_reply(self.stream)  # the subscribe confirmation
        self.connection.setblocking(False)
        self.pending = b""

    def messages(self):
        """The payloads of the messages published since the last call."""
        while True:
            try:
                chunk = self.connection.recv(1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                raise ConnectionError("Redis closed the connection")
            self.pending += chunk
        payloads = []
        while True:
            parsed = _parse_push(self.pending)
            if parsed is None:
                break
            reply, used = parsed
            self.pending = self.pending[used:]
            if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
                payloads.append(reply[2].decode(errors="replace"))
        return payloads

    def close(self):
        self.connection.close()


def _parse_push(data, at=0):
    """(reply, end offset) of one RESP value in data from `at` (bytes kept raw), None if partial."""
    line_end = data.find(b"\r\n", at)
    if line_end < 0:
        return None
    kind, rest = data[at:at + 1], data[at + 1:line_end]
    after = line_end + 2
    if kind in (b"+", b"-", b":"):
        return rest, after
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None, after
        if len(data) < after + size + 2:
            return None
        return data[after:after + size], after + size + 2
    if kind == b"*":
        items = []
        for _ in range(int(rest)):
            parsed = _parse_push(data, after)
            if parsed is None:
                return None
            item, after = parsed
            items.append(item)
        return items, after
    raise ConnectionError(f"not a RESP reply: {data[at:at + 20]!r}")
