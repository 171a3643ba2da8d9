#include "testing/backends.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace testing {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A listening socket on 127.0.0.1:port; its real port goes into `port`. -1 on failure.
int listen_loopback(std::uint16_t& port, int backlog) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address = loopback(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(fd, backlog) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  port = ntohs(address.sin_port);
  return fd;
}

bool send_all(int fd, const char* bytes, std::size_t length) {
  while (length > 0) {
    const ssize_t sent = ::send(fd, bytes, length, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes += sent;
    length -= static_cast<std::size_t>(sent);
  }
  return true;
}

bool send_all(int fd, const std::string& text) {
  return send_all(fd, text.data(), text.size());
}

}  // namespace

std::unique_ptr<test_backend> test_backend::start(behaviour kind, std::string name,
                                                  std::uint16_t port) {
  std::unique_ptr<test_backend> backend{new test_backend};
  backend->kind_ = kind;
  backend->name_ = std::move(name);
  backend->port_ = port;
  backend->listener_ = listen_loopback(backend->port_, 1024);
  if (backend->listener_ < 0) {
    fail("a test backend listening on 127.0.0.1:" + std::to_string(port), std::strerror(errno),
         "the test's own setup failed: is the port taken?");
  }
  note("backend " + backend->name_ + " listens on " + backend->address());
  backend->acceptor_ = std::thread{[raw = backend.get()] { raw->accept_loop(); }};
  return backend;
}

test_backend::~test_backend() {
  stopping_ = true;
  acceptor_.join();
  ::close(listener_);
  {
    std::lock_guard lock{mutex_};
    for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes every blocked worker
  }
  for (auto& worker : workers_) worker.join();
}

void test_backend::accept_loop() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (poll(&ready, 1, 20) <= 0) continue;
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock{mutex_};
    ++accepted_;
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
    changed_.notify_all();
  }
}

void test_backend::serve(int fd) {
  switch (kind_) {
    case behaviour::echo:
      echo(fd);
      break;
    case behaviour::named:
      if (send_all(fd, name_ + "\n")) {
        echo(fd);
        send_all(fd, name_ + ": bye\n");
      }
      break;
    case behaviour::greet_then_fin: {
      send_all(fd, name_ + "\n");
      ::shutdown(fd, SHUT_WR);
      char chunk[4096];
      for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;) {
        record(chunk, static_cast<std::size_t>(n));
      }
      break;
    }
    case behaviour::greet_then_reset: {
      send_all(fd, name_ + "\n");
      std::this_thread::sleep_for(200ms);
      const linger abort_on_close{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
      break;
    }
    case behaviour::flood: {
      std::size_t sent = 0;
      while (sent < flood_bytes && !stopping_) {
        char chunk[251 * 64];
        for (std::size_t i = 0; i < sizeof chunk; ++i) chunk[i] = flood_byte(sent + i);
        const std::size_t length = std::min(sizeof chunk, flood_bytes - sent);
        if (!send_all(fd, chunk, length)) break;
        sent += length;
        flood_sent_ = sent;
      }
      break;
    }
  }
  std::lock_guard lock{mutex_};
  open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  ::close(fd);  // with SO_LINGER {1, 0} (greet_then_reset) this sends a reset
  ++ended_;
  changed_.notify_all();
}

// Sends back whatever comes until end-of-file (then half-closes in turn) or an error.
void test_backend::echo(int fd) {
  char chunk[65536];
  while (true) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    record(chunk, static_cast<std::size_t>(n));
    if (!send_all(fd, chunk, static_cast<std::size_t>(n))) return;
  }
  if (kind_ == behaviour::echo) ::shutdown(fd, SHUT_WR);
}

void test_backend::record(const char* bytes, std::size_t length) {
  std::lock_guard lock{mutex_};
  if (received_.size() < (1u << 20)) received_.append(bytes, length);  // enough to check
  changed_.notify_all();
}

bool test_backend::wait_connections(int count, ms timeout) {
  std::unique_lock lock{mutex_};
  return changed_.wait_for(lock, timeout, [&] { return accepted_ >= count; });
}

bool test_backend::wait_ended(int count, ms timeout) {
  std::unique_lock lock{mutex_};
  return changed_.wait_for(lock, timeout, [&] { return ended_ >= count; });
}

bool test_backend::wait_received(const std::string& bytes, ms timeout) {
  std::unique_lock lock{mutex_};
  return changed_.wait_for(lock, timeout,
                           [&] { return received_.find(bytes) != std::string::npos; });
}

std::string test_backend::received() {
  std::lock_guard lock{mutex_};
  return received_;
}

silent_backend::silent_backend() {
  listener_ = listen_loopback(port_, 0);
  // Fill the accept queue (backlog 0 holds one) with connections nobody accepts; after that the
  // kernel drops every new SYN, so a connect here neither succeeds nor fails: it waits.
  for (int i = 0; i < 2; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in address = loopback(port_);
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers_.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);
  note("a silent backend (accept queue full, SYNs dropped) on " + address());
}

silent_backend::~silent_backend() {
  for (const int fd : fillers_) ::close(fd);
  ::close(listener_);
}

}  // namespace testing
