// One TCP connection to the program under test, with a deadline on every read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "testing/workshop_test.hpp"

namespace testing {
namespace {

using clock = std::chrono::steady_clock;

int connect_loopback(std::uint16_t port, bool small_buffers) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (small_buffers) {  // before connect(): the handshake announces both
    const int segment = 1024, buffer = 4096;
    setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &segment, sizeof segment);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

ms left_until(clock::time_point deadline) {
  return std::max(ms{0}, std::chrono::duration_cast<ms>(deadline - clock::now()));
}

}  // namespace

std::optional<client> client::try_connect(std::uint16_t port, std::string name, bool quiet) {
  return open(port, std::move(name), quiet, false);
}

std::optional<client> client::open(std::uint16_t port, std::string name, bool quiet,
                                   bool small_buffers) {
  const int fd = connect_loopback(port, small_buffers);
  if (fd < 0) {
    if (!quiet)
      note(name + " could not connect to port " + std::to_string(port) + ": " +
           std::strerror(errno));
    return std::nullopt;
  }
  client connected;
  connected.fd_ = fd;
  connected.name_ = std::move(name);
  connected.quiet_ = quiet;
  if (!quiet) note(connected.name_ + " connected to port " + std::to_string(port));
  return connected;
}

namespace {

client connected_or_fail(std::optional<client> connected, std::uint16_t port,
                         const std::string& name) {
  if (!connected) {
    fail(name + " to connect to 127.0.0.1:" + std::to_string(port),
         std::string{"connect() failed: "} + std::strerror(errno),
         "is the server accepting connections?");
  }
  return std::move(*connected);
}

}  // namespace

client client::connect(std::uint16_t port, std::string name, bool quiet) {
  return connected_or_fail(open(port, name, quiet, false), port, name);
}

client client::connect_with_small_buffers(std::uint16_t port, std::string name, bool quiet) {
  return connected_or_fail(open(port, name, quiet, true), port, name);
}

client::client(client&& other) noexcept
    : fd_{std::exchange(other.fd_, -1)},
      name_{std::move(other.name_)},
      quiet_{other.quiet_},
      eof_{other.eof_},
      error_{other.error_},
      buffer_{std::move(other.buffer_)} {}

client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    quiet_ = other.quiet_;
    eof_ = other.eof_;
    error_ = other.error_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

client::~client() {
  if (fd_ >= 0) ::close(fd_);
}

bool client::try_send(std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (!quiet_) note(name_ + " could not send: " + std::strerror(errno));
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  if (!quiet_) note(name_ + " sent " + show(bytes));
  return true;
}

void client::send(std::string_view bytes) {
  if (!try_send(bytes)) {
    fail(name_ + " to send " + show(bytes),
         std::string{"the connection was closed: "} + std::strerror(errno),
         "did the server close this connection too early?");
  }
}

void client::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
  if (!quiet_) note(name_ + " half-closed (sent FIN, still reading)");
}

void client::reset() {
  const linger abort_on_close{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  ::close(std::exchange(fd_, -1));
  if (!quiet_) note(name_ + " reset its connection (RST)");
}

void client::close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!quiet_) note(name_ + " closed its connection");
}

void client::set_receive_buffer(int bytes) {
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

bool client::fill(clock::time_point deadline) {
  if (eof_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  const int ready = poll(&p, 1, static_cast<int>(left_until(deadline).count()));
  if (ready <= 0) return false;
  char chunk[65536];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    error_ = n < 0 ? errno : 0;
    if (!quiet_) note(name_ + " saw " + ending());
    return false;
  }
  buffer_.append(chunk, static_cast<std::size_t>(n));
  if (!quiet_) note(name_ + " received " + show({chunk, static_cast<std::size_t>(n)}, 100));
  return true;
}

std::string client::ending() const {
  if (error_ == 0) return "end-of-file";
  return (error_ == ECONNRESET ? "a reset (" : "an error (") + std::string{std::strerror(error_)} +
         ")";
}

std::optional<std::string> client::read_line(ms timeout) {
  const auto deadline = clock::now() + timeout;
  while (true) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline + 1);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (!fill(deadline) && (eof_ || clock::now() >= deadline)) return std::nullopt;
  }
}

std::string client::read_exactly(std::size_t n, ms timeout) {
  const auto deadline = clock::now() + timeout;
  while (buffer_.size() < n) {
    if (!fill(deadline) && (eof_ || clock::now() >= deadline)) break;
  }
  const std::size_t take = std::min(n, buffer_.size());
  std::string bytes = buffer_.substr(0, take);
  buffer_.erase(0, take);
  return bytes;
}

std::string client::read_until_eof(ms timeout, bool* saw_eof) {
  const auto deadline = clock::now() + timeout;
  while (!eof_ && clock::now() < deadline) fill(deadline);
  if (saw_eof) *saw_eof = eof_;
  return std::exchange(buffer_, {});
}

bool client::wait_closed(ms timeout) {
  const auto deadline = clock::now() + timeout;
  while (!eof_ && clock::now() < deadline) fill(deadline);
  return eof_;
}

void client::expect_line(std::string_view expected, ms within, std::string_view hint) {
  const auto line = read_line(within);
  if (line && *line == expected) return;
  fail(name_ + " to receive the line " + show(expected) + " within " +
           std::to_string(within.count()) + " ms",
       line ? "the line " + show(*line)
            : (eof_ ? ending() : "no complete line") +
                  (buffer_.empty() ? std::string{} : " (partial: " + show(buffer_) + ")"),
       hint);
}

std::string client::expect_line_starting(std::string_view prefix, ms within,
                                         std::string_view hint) {
  const auto line = read_line(within);
  if (line && line->rfind(prefix, 0) == 0) return *line;
  fail(name_ + " to receive a line starting with " + show(prefix) + " within " +
           std::to_string(within.count()) + " ms",
       line ? "the line " + show(*line)
            : (eof_ ? ending() : std::string{"no complete line"}),
       hint);
}

void client::expect_bytes(std::string_view expected, ms within, std::string_view hint) {
  const std::string got = read_exactly(expected.size(), within);
  if (got == expected) return;
  const std::string arrived = got + buffer_;  // all that came, not cut to the expected length
  fail(
      name_ + " to receive " + show(expected) + " within " + std::to_string(within.count()) + " ms",
      arrived.empty() ? (eof_ ? ending() : std::string{"nothing"})
                      : show(arrived, 400) + (eof_ ? " then " + ending() : "") + "\n          (" +
                            first_difference(expected, arrived) + ")",
      hint);
}

void client::expect_nothing(ms during, std::string_view hint) {
  const auto deadline = clock::now() + during;
  while (buffer_.empty() && clock::now() < deadline && fill(deadline)) {
  }
  if (buffer_.empty()) return;
  fail(name_ + " to receive nothing for " + std::to_string(during.count()) + " ms", show(buffer_),
       hint);
}

void client::expect_closed(ms within, std::string_view hint) {
  const auto deadline = clock::now() + within;
  while (!eof_ && clock::now() < deadline) fill(deadline);
  if (eof_ && buffer_.empty()) return;
  fail(name_ + " to see the server close the connection within " + std::to_string(within.count()) +
           " ms",
       buffer_.empty() ? std::string{"the connection still open"} : "more bytes: " + show(buffer_),
       hint);
}

std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace testing
