// Starting and stopping the program under test as a child process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "testing/catch.hpp"
#include "testing/workshop_test.hpp"

namespace testing {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string joined(const std::vector<std::string>& args) {
  std::string text;
  for (const auto& arg : args)
    text += ' ' + (arg.find(' ') == std::string::npos ? arg : '\'' + arg + '\'');
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Forks and execs `program args`, stdout into a pipe, stderr into `stderr_path`.
pid_t spawn(const std::string& program, const std::vector<std::string>& args, int& stdout_fd,
            const std::string& stderr_path) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out[1], STDOUT_FILENO);
    if (err >= 0) dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    signal(SIGPIPE, SIG_DFL);
    execv(program.c_str(), argv.data());
    dprintf(STDERR_FILENO, "cannot run %s: %s\n", program.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(out[1]);
  stdout_fd = out[0];
  return pid;
}

// Reads from fd until a '\n' or the deadline; returns what came (without the newline).
std::optional<std::string> read_line_from(int fd, ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  char c;
  while (true) {
    const auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = read(fd, &c, 1);  // one byte at a time: nothing past the ready line is eaten
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    line += c;
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string temp_path(const std::string& stem) {
  static int counter = 0;
  return "/tmp/workshop-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" +
         stem + ".stderr";
}

// Waits up to `grace` for pid to exit; returns its decoded status, or nothing.
std::optional<int> wait_exit(pid_t pid, ms grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return decode_status(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

// The start of a sanitizer's report (a build with -fsanitize=address,undefined, such as
// ./workshop sanitize) in a program's stderr, or nothing when there is none.
std::optional<std::string> sanitizer_report(const std::string& err) {
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", " runtime error: ",
                             "WARNING: ThreadSanitizer", "ERROR: UndefinedBehaviorSanitizer",
                             "LeakSanitizer has encountered a fatal error"}) {
    const auto at = err.find(marker);
    if (at == std::string::npos) continue;
    const auto line_start = err.rfind('\n', at);
    return err.substr(line_start == std::string::npos ? 0 : line_start + 1, 3000);
  }
  return std::nullopt;
}

// Fails the current test (without throwing: this may run in a destructor) when `err` holds a
// sanitizer's report: memory errors and leaks in a server must not pass unseen.
void fail_on_sanitizer_report(const std::string& name, int exit_code, const std::string& err) {
  const auto report = sanitizer_report(err);
  if (!report) return;
  const std::string message = name + " (exit code " + std::to_string(exit_code) +
                              ") wrote a sanitizer report on stderr:\n" + *report;
  note(message);
  if (std::uncaught_exceptions() > 0) {
    std::cerr << message << '\n';  // the test is failing already: show it, do not pile on
  } else {
    FAIL_CHECK("\nWhat happened (ms since the test started):\n" << transcript());
  }
}

}  // namespace

run_result run_to_exit(const std::vector<std::string>& args, ms timeout,
                       const std::string& program) {
  const std::string err_path = temp_path(base_name(program));
  int out_fd = -1;
  const pid_t pid = spawn(program, args, out_fd, err_path);
  run_result result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char chunk[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    pollfd p{out_fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = read(out_fd, chunk, sizeof chunk);
    if (n <= 0) break;
    result.out.append(chunk, static_cast<std::size_t>(n));
  }
  close(out_fd);
  auto code = wait_exit(
      pid, std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now()) + 100ms);
  if (!code) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  result.exit_code = code.value_or(-1);
  result.err = read_file(err_path);
  unlink(err_path.c_str());
  fail_on_sanitizer_report(base_name(program), result.exit_code, result.err);
  note(base_name(program) + joined(args) + " exited with " + std::to_string(result.exit_code));
  return result;
}

namespace {
// The servers this test started and has not destroyed yet: their stderr files, for fail().
struct live_servers_t {
  std::mutex mutex;
  struct live_server {
    std::string name;  // and pid
    std::string path;  // its stderr
    pid_t pid;
  };
  std::vector<live_server> logs;
};
live_servers_t& live_servers() {
  static live_servers_t instance;
  return instance;
}
}  // namespace

// How a server that is no longer running ended ("" while it runs or once reaped), looked at
// without reaping it (WNOWAIT): server::running() and stop() still see its exit.
std::string how_it_ended(pid_t pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != pid)
    return "";
  if (info.si_code == CLD_EXITED) return "it exited with code " + std::to_string(info.si_status);
  return "it was killed by signal " + std::to_string(info.si_status) + " (" +
         strsignal(info.si_status) + (info.si_code == CLD_DUMPED ? ", core dumped)" : ")");
}

std::string servers_said(std::size_t lines) {
  std::lock_guard lock{live_servers().mutex};
  std::string text;
  for (const auto& [name, path, pid] : live_servers().logs) {
    if (const auto ended = how_it_ended(pid); !ended.empty())
      text += "  " + name + " is no longer running: " + ended + "\n";
    std::string tail = read_file(path);
    std::size_t start = tail.size();
    for (std::size_t count = 0; start > 0; --start) {
      if (tail[start - 1] == '\n' && ++count > lines) break;
    }
    if (start == tail.size()) continue;
    text += "  " + name + " said on stderr" + (start > 0 ? " (its last lines)" : "") + ":\n";
    std::istringstream in{tail.substr(start)};
    for (std::string line; std::getline(in, line);) text += "    | " + line + '\n';
  }
  return text;
}

server server::start(std::vector<std::string> args, const std::string& program) {
  bool has_port = false;
  for (const auto& arg : args)
    has_port = has_port || arg == "--port" || arg.rfind("--port=", 0) == 0;
  if (!has_port) {
    args.push_back("--port");
    args.push_back("0");
  }
  server started;
  started.name_ = base_name(program);
  started.stderr_path_ = temp_path(started.name_);
  started.pid_ = spawn(program, args, started.stdout_fd_, started.stderr_path_);
  const std::string command = started.name_ + joined(args);
  if (started.pid_ < 0) fail("to start " + command, std::strerror(errno), "");
  {
    std::lock_guard lock{live_servers().mutex};
    live_servers().logs.push_back({started.name_ + " (pid " + std::to_string(started.pid_) + ")",
                                   started.stderr_path_, started.pid_});
  }

  const auto line = read_line_from(started.stdout_fd_, 10000ms);
  const std::string prefix = "listening on ";
  const auto colon = line ? line->rfind(':') : std::string::npos;
  if (!line || line->rfind(prefix, 0) != 0 || colon == std::string::npos) {
    note("started " + command + " (pid " + std::to_string(started.pid_) + ")");
    fail("the ready line `listening on HOST:PORT` on stdout within 10 s",
         (line ? "the line " + show(*line) : std::string{"no line"}) + "; its stderr:\n" +
             started.log_tail(),
         "the ready line comes from workshop::announce_listening, once the acceptor is open");
  }
  started.port_ = static_cast<std::uint16_t>(std::stoi(line->substr(colon + 1)));
  note("started " + command + " (pid " + std::to_string(started.pid_) + "): " + *line);
  return started;
}

server::server(server&& other) noexcept
    : pid_{std::exchange(other.pid_, -1)},
      port_{other.port_},
      stdout_fd_{std::exchange(other.stdout_fd_, -1)},
      stderr_path_{std::move(other.stderr_path_)},
      name_{std::move(other.name_)},
      exit_code_{other.exit_code_} {}

server::~server() {
  // SIGTERM first: a sanitizer build checks for leaks as the program exits (SIGKILL would skip
  // that), and a workshop program exits within a second of it.
  if (pid_ > 0 && stop(SIGTERM, 1000ms) != 0 && exit_code_ != -1 && exit_code_ != 128 + SIGTERM) {
    std::cerr << name_ << " ended with exit code " << exit_code_ << " (0 expected on SIGTERM)\n";
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (!stderr_path_.empty()) {
    std::lock_guard lock{live_servers().mutex};
    std::erase_if(live_servers().logs, [&](const auto& log) { return log.path == stderr_path_; });
    unlink(stderr_path_.c_str());
  }
}

bool server::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == 0) return true;
  exit_code_ = done == pid_ ? decode_status(status) : -1;
  pid_ = -1;
  fail_on_sanitizer_report(name_, exit_code_, read_file(stderr_path_));
  return false;
}

int server::stop(int signal, ms grace) {
  if (pid_ <= 0) return exit_code_;
  ::kill(pid_, signal);
  auto code = wait_exit(pid_, grace);
  if (!code) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    code = -1;
  }
  pid_ = -1;
  exit_code_ = *code;
  fail_on_sanitizer_report(name_, exit_code_, read_file(stderr_path_));
  return exit_code_;
}

bool server::wait_for_log(const std::string& text, ms within, std::size_t times) const {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (true) {
    const std::string log = read_file(stderr_path_);
    std::size_t seen = 0;
    for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++seen;
    if (seen >= times) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::string server::log_tail(std::size_t lines) const {
  const std::string text = read_file(stderr_path_);
  std::size_t start = text.size();
  for (std::size_t count = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++count > lines) break;
  }
  std::string tail = text.substr(start);
  std::string indented;
  std::istringstream in{tail};
  for (std::string line; std::getline(in, line);) indented += "    | " + line + '\n';
  return indented.empty() ? "    (nothing)\n" : indented;
}

std::size_t server::memory_kib() const {
  std::ifstream status{"/proc/" + std::to_string(pid_) + "/status"};
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

}  // namespace testing
