"""What every workshop tool shares: the repository's root, messages, installing Debian packages,
and starting a workshop program (or Redis) by pid and waiting for its ready line.

Standard library only: a bare Debian 12 has python3 once ./workshop installed it, and nothing else.
From a shell script:  port=$(python3 tools/wslib.py wait-ready FILE PID [SECONDS])
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
READY = re.compile(r"^listening on (.+):(\d+)$")  # docs/programs.md: the first line on stdout


def say(message):
    """A step the tool takes, on stderr, in bold on a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\033[1m==> {message}\033[0m\n")
    else:
        sys.stderr.write(f"==> {message}\n")
    sys.stderr.flush()


def die(message, code=2):
    sys.stderr.write(f"workshop: {message}\n")
    sys.exit(code)


def missing_packages(packages):
    """The Debian packages of the list that are not installed."""
    missing = []
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True).stdout
        if "install ok installed" not in status:
            missing.append(package)
    return missing


def install_packages(packages, why):
    """Installs whichever of `packages` are missing, saying what and why (sudo when not root)."""
    missing = missing_packages(packages)
    if not missing:
        return
    say(f"installing {' '.join(missing)} ({why})")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    environment = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                   check=True, env=environment, stdout=subprocess.DEVNULL)


def wait_ready(path, pid, timeout=15.0):
    """(host, port) from the ready line a program with `pid` writes to the file `path`; None if it
    exits first or says nothing for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as out:
                for line in out:
                    match = READY.match(line.rstrip("\n"))
                    if match:
                        return match.group(1), int(match.group(2))
        except FileNotFoundError:
            pass
        if not alive(pid):
            return None
        time.sleep(0.02)
    return None


def alive(pid):
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class Program:
    """A program started in the background, its stdout in LOG_DIR/NAME.out and stderr in
    NAME.log; started() waits for the ready line. Stopped by its pid, and only that."""

    def __init__(self, argv, name, log_dir, env=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.out_path = os.path.join(log_dir, name + ".out")
        self.log_path = os.path.join(log_dir, name + ".log")
        with open(self.out_path, "w") as out, open(self.log_path, "a") as log:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=log,
                                            stdin=subprocess.DEVNULL, env=env,
                                            start_new_session=True)
        self.pid = self.process.pid
        self.host, self.port = None, None

    def started(self, timeout=15.0):
        """Waits for the ready line; raises RuntimeError with the log's tail if none comes."""
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
        try:
            with open(self.log_path, errors="replace") as log:
                return " | ".join(log.read().splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def stop(self, timeout=5.0):
        """SIGTERM, then SIGKILL after `timeout` seconds; waits until it is gone."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def free_port():
    """A port nobody listens on right now (for programs, like redis-server, without --port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Redis(Program):
    """A redis-server of our own on a free port, nothing saved to disk."""

    def __init__(self, log_dir, name="redis", port=None):
        if not shutil.which("redis-server"):
            die("redis-server is missing: ./workshop doctor says how to install it")
        self.fixed_port = port or free_port()
        super().__init__(["redis-server", "--port", self.fixed_port, "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no"], name, log_dir)

    def started(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            try:
                with socket.create_connection(("127.0.0.1", self.fixed_port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        self.host, self.port = "127.0.0.1", self.fixed_port
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.fixed_port}: "
                           f"{self.log_tail(3)}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "wait-ready":
        found = wait_ready(sys.argv[2], int(sys.argv[3]),
                           float(sys.argv[4]) if len(sys.argv) > 4 else 15.0)
        if found is None:
            sys.exit(1)
        print(found[1])
    else:
        die("usage: python3 tools/wslib.py wait-ready FILE PID [SECONDS]")
