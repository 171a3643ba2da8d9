"""What every workshop tool shares: messages, installing Debian packages, the lessons and their
programs and tests, and starting a program (or Redis) by pid and waiting for its ready line.
Standard library only: a bare Debian 12 has python3 once ./workshop installed it, and nothing else.
From a shell script:  port=$(python3 tools/wslib.py wait-ready FILE PID [SECONDS])
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READY = re.compile(r"^listening on (.+):(\d+)$", re.M)  # docs/programs.md: the first stdout line


def say(message):  # a step the tool takes, on stderr, in bold on a terminal
    sys.stdout.flush()  # what was printed before comes before it, also in a file
    bold, plain = ("\033[1m", "\033[0m") if sys.stderr.isatty() else ("", "")
    sys.stderr.write(f"{bold}==> {message}{plain}\n")
    sys.stderr.flush()


def die(message, code=2):
    sys.stderr.write(f"workshop: {message}\n")
    sys.exit(code)


INSTALL = os.path.join(ROOT, "tools", "install.sh")  # the one package installer


def install_packages(packages, why):  # whichever are missing, saying what and why
    subprocess.run([INSTALL, "--why", why, *packages], check=True)


def ensure_node(folder, why="for the talk's Node.js originals"):
    """node and npm (from Debian or elsewhere), and ROOT/`folder`'s node_modules (npm ci)."""
    install_packages([package for command, package in (("node", "nodejs"), ("npm", "npm"))
                      if not shutil.which(command)], why)
    installed = os.path.join(ROOT, folder, "node_modules", ".package-lock.json")
    wanted = os.path.join(ROOT, folder, "package-lock.json")
    if not os.path.exists(installed) or os.path.getmtime(installed) < os.path.getmtime(wanted):
        say(f"installing the Node.js packages into {folder}/node_modules (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], check=True,
                       cwd=os.path.join(ROOT, folder))


# ---- lessons, their programs and their tests: found from the files, wherever they live ----
def lesson_dirs():  # ["01-hello-http", ...]
    return sorted(os.path.basename(os.path.dirname(folder))
                  for folder in glob.glob(os.path.join(ROOT, "lessons", "[0-9][0-9]-*/")))


def lesson_dir(number):  # "03" or "3" -> "03-chat-server"
    if not str(number).isdigit():
        die(f"not a lesson number: {number} (./workshop list shows them)")
    found = [folder for folder in lesson_dirs() if folder.startswith(f"{int(number):02d}-")]
    return found[0] if found else die(f"no lesson {number} (./workshop list shows them)")


def read(path):  # a text file's contents, "" if there is no such file
    try:
        with open(path, errors="replace") as text:
            return text.read()
    except FileNotFoundError:
        return ""


def read_json(path, default):
    try:
        with open(path) as text:
            return json.load(text)
    except (OSError, ValueError):
        return default


def manifest(folder):
    """lessons/NN-name/lesson.json: the lesson's program, steps, groups and hunts ({} if none)."""
    return read_json(os.path.join(ROOT, "lessons", folder, "lesson.json"), {})


def program_of(folder):  # "chat_server"
    return manifest(folder).get("program")


def build_dir():  # build/, or WORKSHOP_BUILD
    return os.path.abspath(os.environ.get("WORKSHOP_BUILD") or os.path.join(ROOT, "build"))


def built(build, tree, folder, name):
    """The path of a built program or test: BUILD/TREE/FOLDER/NAME, else wherever the build put
    it (a folder moved in the sources moves in the build too)."""
    path = os.path.join(build, tree, folder, name)
    if os.path.exists(path):
        return path
    found = sorted(glob.glob(os.path.join(build, tree, "**", name), recursive=True))
    return found[0] if found else path


def catch_spec(name):  # a test case's name as Catch2's command line matches it literally
    return "".join("\\" + char if char in '\\[],*"~' else char for char in name)


def list_cases(test_binary):
    """[(name, [tags])]: the test executable's --list-cases (tests/support/src/main.cpp)."""
    text = subprocess.run([test_binary, "--list-cases"], capture_output=True, text=True,
                          check=True).stdout
    return [(case["name"], case["tags"]) for case in map(json.loads, text.splitlines())]


def wait_ready(path, pid, timeout=15.0):
    """(host, port) from the ready line process `pid` writes to the file `path`; None if it exits
    first or says nothing for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = READY.search(read(path))
        if ready:
            return ready.group(1), int(ready.group(2))
        if not pid_alive(pid):
            return None
        time.sleep(0.02)
    return None


def pid_alive(pid):
    """Whether `pid` runs; a zombie (ended, not yet reaped by its parent) does not."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class Program:
    """A program started in the background, its stdout in LOG_DIR/NAME.out and stderr in
    NAME.log; started() waits for the ready line. Stopped by its pid, and only that."""

    def __init__(self, argv, name, log_dir, env=None, preexec_fn=None):
        self.name = name
        self.argv = [str(arg) for arg in argv]
        self.out_path = os.path.join(log_dir, name + ".out")
        self.log_path = os.path.join(log_dir, name + ".log")
        with open(self.out_path, "w") as out, open(self.log_path, "a") as log:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=log,
                                            stdin=subprocess.DEVNULL, env=env,
                                            start_new_session=True, preexec_fn=preexec_fn)
        self.pid = self.process.pid
        self.host, self.port = None, None

    def started(self, timeout=15.0):  # or RuntimeError with the log's tail if no ready line comes
        ready = wait_ready(self.out_path, self.pid, timeout)
        if ready is None:
            self.stop()
            raise RuntimeError(f"{self.name} did not start ({' '.join(self.argv)}): "
                               f"{self.log_tail(5)}")
        self.host, self.port = ready
        return self

    def alive(self):
        return self.process.poll() is None

    def log_tail(self, lines=5):
        return " | ".join(read(self.log_path).splitlines()[-lines:])

    def stop(self, timeout=5.0):  # SIGTERM, then SIGKILL after `timeout` s; waits until it is gone
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def free_port():  # for programs without --port 0, like redis-server
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis(Program):
    """A redis-server of our own on a free port, nothing saved to disk."""

    def __init__(self, log_dir, name="redis", port=None, extra=(), preexec_fn=None):
        if not shutil.which("redis-server"):
            die("redis-server is missing: ./workshop doctor says how to install it")
        self.fixed_port = port or free_port()
        super().__init__(["redis-server", "--port", self.fixed_port, "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", *extra], name, log_dir,
                         preexec_fn=preexec_fn)

    def started(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            try:
                with socket.create_connection(("127.0.0.1", self.fixed_port), timeout=0.5) as ping:
                    ping.sendall(b"PING\r\n")
                    if ping.recv(64).startswith(b"+PONG"):
                        self.host, self.port = "127.0.0.1", self.fixed_port
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.fixed_port}: "
                           f"{self.log_tail(3)}")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "wait-ready":
        found = wait_ready(sys.argv[2], int(sys.argv[3]),
                           float(sys.argv[4]) if len(sys.argv) > 4 else 15.0)
        if found is None:
            sys.exit(1)
        print(found[1])
    else:
        die("usage: python3 tools/wslib.py wait-ready FILE PID [SECONDS]")
