#pragma once
// Test support for black-box tests of the workshop's programs: start the program under test,
// talk to it over loopback sockets with deadlines, and fail with a story a student can act on
// (a numbered transcript of what was sent and received, what was expected, and a hint).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace testing {

using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

// Set from the test executable's command line: --program PATH, --lesson-readme PATH.
struct settings_t {
  std::string program;        // the program under test (a solution's or a lesson's build)
  std::string lesson_readme;  // the lesson text that hints point to
};
settings_t& settings();

// ---- the story of a test: every step it took, with the time since the test started ----

// Appends one step ("client 1 sent ..."). Thread-safe; the story restarts with each test case.
void note(std::string step);
// The numbered transcript so far (long ones keep their beginning and end).
std::string transcript();
// Starts a new story (the test main does this before each test case).
void restart_story();
// Milliseconds since the current test case started.
long long elapsed_ms();

// Fails the current test with the transcript, what was expected, what came instead, and a hint
// ("step 3 in lessons/01-hello-http/README.md"). Call it from the test's own thread only.
[[noreturn]] void fail(std::string_view expected, std::string_view got, std::string_view hint);

// Bytes as a reader sees them: "Hello\r\n" becomes "Hello\\r\\n", long runs are shortened.
std::string show(std::string_view bytes, std::size_t limit = 160);
// "N of M bytes; the first difference at byte K": where `got` first departs from
// `expected`, for a failure message about a long byte stream.
std::string first_difference(std::string_view expected, std::string_view got);

// ---- the program under test ----

// What each server this test started (and has not destroyed) wrote last on stderr: its own
// words for what went wrong ("client 2 dropped: ..."). fail() adds it to every story.
std::string servers_said(std::size_t lines = 8);

struct run_result {
  int exit_code = -1;  // -1 when it had to be killed
  std::string out;     // everything on stdout
  std::string err;     // everything on stderr
};
// Runs the program to completion (for --help, bad flags), killing it after `timeout`.
run_result run_to_exit(const std::vector<std::string>& args, ms timeout = 5000ms,
                       const std::string& program = settings().program);

class server {
 public:
  // Starts the program with `args` (plus --port 0 unless args hold a --port) and waits for
  // its ready line `listening on HOST:PORT`. Fails the test if it does not come.
  static server start(std::vector<std::string> args = {},
                      const std::string& program = settings().program);
  server(server&& other) noexcept;
  server& operator=(server&&) = delete;
  ~server();  // stops the program if it still runs

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running();  // still alive (not exited)
  // Sends `signal` and waits up to `grace` for the exit; then SIGKILL. Returns the exit code
  // (or -1 if it had to be killed, 128+N if a signal ended it).
  int stop(int signal = 15, ms grace = 3000ms);
  std::string log_tail(std::size_t lines = 15) const;  // the last lines on its stderr
  // Waits up to `within` until `text` occurs at least `times` times on its stderr.
  bool wait_for_log(const std::string& text, ms within, std::size_t times = 1) const;
  std::size_t memory_kib() const;                      // resident set size now (VmRSS)

 private:
  server() = default;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string name_;
  int exit_code_ = -1;
};

// ---- a client: one TCP connection with deadlines ----

class client {
 public:
  // Connects to 127.0.0.1:port. `name` labels it in the transcript; quiet clients note
  // only their failures (for tests with hundreds of clients).
  static client connect(std::uint16_t port, std::string name = "client", bool quiet = false);
  // Like connect, for a client that reads slowly or not at all: a small receive buffer and
  // small segments (TCP_MAXSEG), so the kernels hold some 100 KiB for it, not the megabytes a
  // loopback connection's 64 KiB segments let the server's send buffer grow to.
  static client connect_with_small_buffers(std::uint16_t port, std::string name = "client",
                                           bool quiet = false);
  // Like connect, but returns nothing instead of failing when the connection is refused.
  static std::optional<client> try_connect(std::uint16_t port, std::string name = "client",
                                           bool quiet = false);
  client(client&& other) noexcept;
  client& operator=(client&& other) noexcept;
  ~client();

  void send(std::string_view bytes);      // all of it (fails the test if it cannot)
  bool try_send(std::string_view bytes);  // false if the peer is gone
  void shutdown_write();                  // half-close: our FIN, we still read
  void reset();                           // close with RST (SO_LINGER 0)
  void close();                           // plain close
  void set_receive_buffer(int bytes);     // shrink the kernel buffer (slow-reader tests)

  // Reads up to and including the next '\n'. Nothing when none came before the deadline.
  std::optional<std::string> read_line(ms timeout);
  // Reads exactly n bytes, or fewer if the deadline or end-of-file comes first.
  std::string read_exactly(std::size_t n, ms timeout);
  // Reads whatever arrives until end-of-file or the deadline.
  std::string read_until_eof(ms timeout, bool* saw_eof = nullptr);
  // Waits up to `timeout` for end-of-file or a reset; false if the connection stays open.
  bool wait_closed(ms timeout);
  // True when the peer has closed (EOF or reset) and everything it sent was read.
  bool at_eof() const { return eof_; }
  // How the connection ended, for a failure's "Got:": "end-of-file", "a reset (...)", ...
  std::string ending() const;
  std::string_view pending() const { return buffer_; }  // read but not yet consumed

  // Expectations that fail the test with the transcript.
  void expect_line(std::string_view expected, ms within, std::string_view hint);
  std::string expect_line_starting(std::string_view prefix, ms within, std::string_view hint);
  void expect_bytes(std::string_view expected, ms within, std::string_view hint);
  void expect_nothing(ms during, std::string_view hint);
  void expect_closed(ms within, std::string_view hint);

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  client() = default;
  static std::optional<client> open(std::uint16_t port, std::string name, bool quiet,
                                    bool small_buffers);
  bool fill(std::chrono::steady_clock::time_point deadline);  // one recv; false on timeout/EOF
  int fd_ = -1;
  std::string name_;
  bool quiet_ = false;
  bool eof_ = false;  // the connection ended: end-of-file, or an error (error_)
  int error_ = 0;
  std::string buffer_;
};

// A port that was free a moment ago (for programs that cannot take --port 0, like Redis).
std::uint16_t free_port();

}  // namespace testing
