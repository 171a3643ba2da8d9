// Lesson 05's load tool: an echo backend, and two clients that measure what goes through a
// proxy (or straight to the backend, the ceiling).
//
//   proxy_bench echo [--port N]                         an echo server (ready line on stdout)
//   proxy_bench throughput --port N [--connections C] [--seconds S] [--chunk BYTES]
//       C connections each send bulk bytes and read the echo; prints echoed MiB/s in all, and
//       the slowest and the fastest connection's MiB/s
//   proxy_bench splice-proxy --backend-port P [--port N]
//       an experiment: reverse_proxy's pipe() with Linux splice(2) instead of a user-space buffer
//   proxy_bench connections --port N [--threads T] [--seconds S]
//       T threads each connect, send one byte, half-close, read the echo to end-of-file,
//       close, and again; prints connections per second
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <thread>

#include "workshop/program.hpp"

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto with_error = workshop::use_tuple;

// ---- the echo backend: the same read-then-write-all loop as the proxy's pipe() ----

awaitable<void> echo(tcp::socket socket) {
  std::vector<char> buffer(64 * 1024);
  while (true) {
    auto [read_error, length] = co_await socket.async_read_some(asio::buffer(buffer), with_error);
    if (read_error) break;
    auto [write_error, written] =
        co_await asio::async_write(socket, asio::buffer(buffer, length), with_error);
    if (write_error) co_return;
  }
  std::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);  // our FIN after theirs
}

awaitable<void> accept_echo_clients(tcp::acceptor acceptor) {
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(with_error);
    if (error) {
      if (co_await workshop::keep_accepting_after(error)) continue;
      co_return;
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
  }
}

int run_echo(workshop::listen_address address) {
  asio::io_context io;
  auto acceptor = workshop::listen_on(io, address);
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);
  asio::co_spawn(io, accept_echo_clients(std::move(acceptor)), asio::detached);
  io.run();
  return 0;
}

// ---- an experiment: pipe() with splice(2), the bytes going socket -> kernel pipe -> socket ----

// Moves up to `length` bytes from `in` to `out` without blocking; -1 with errno on failure.
ssize_t splice_some(int in, int out, std::size_t length) {
  return ::splice(in, nullptr, out, nullptr, length, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
}

awaitable<void> splice_pipe(tcp::socket& from, tcp::socket& to) {
  constexpr std::size_t chunk = 64 * 1024;
  int kernel_pipe[2];
  if (pipe2(kernel_pipe, O_NONBLOCK | O_CLOEXEC) != 0) co_return;
  fcntl(kernel_pipe[1], F_SETPIPE_SZ, static_cast<int>(chunk));
  bool broken = false;
  while (!broken) {
    const ssize_t in = splice_some(from.native_handle(), kernel_pipe[1], chunk);
    if (in == 0) {  // end-of-file: pass the half-close on
      std::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    if (in < 0) {
      if (errno != EAGAIN) break;
      auto [error] = co_await from.async_wait(tcp::socket::wait_read, with_error);
      broken = static_cast<bool>(error);
      continue;
    }
    for (auto left = static_cast<std::size_t>(in); left > 0 && !broken;) {
      const ssize_t out = splice_some(kernel_pipe[0], to.native_handle(), left);
      if (out > 0) {
        left -= static_cast<std::size_t>(out);
      } else if (out < 0 && errno == EAGAIN) {  // backpressure: wait until `to` takes more
        auto [error] = co_await to.async_wait(tcp::socket::wait_write, with_error);
        broken = static_cast<bool>(error);
      } else {
        broken = true;
      }
    }
  }
  ::close(kernel_pipe[0]);
  ::close(kernel_pipe[1]);
  if (broken) {
    std::error_code ignored;
    from.close(ignored);
    to.close(ignored);
  }
}

awaitable<void> splice_serve(tcp::socket client, tcp::endpoint backend_endpoint) {
  tcp::socket backend{client.get_executor()};
  auto [error] = co_await backend.async_connect(backend_endpoint, with_error);
  if (error) co_return;
  client.native_non_blocking(true);
  backend.native_non_blocking(true);
  using namespace asio::experimental::awaitable_operators;
  co_await (splice_pipe(client, backend) && splice_pipe(backend, client));
}

awaitable<void> accept_splice_clients(tcp::acceptor acceptor, tcp::endpoint backend) {
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(with_error);
    if (error) {
      if (co_await workshop::keep_accepting_after(error)) continue;
      co_return;
    }
    asio::co_spawn(acceptor.get_executor(), splice_serve(std::move(socket), backend),
                   asio::detached);
  }
}

int run_splice_proxy(workshop::listen_address address, std::uint16_t backend_port) {
  asio::io_context io;
  auto acceptor = workshop::listen_on(io, address);
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);
  const tcp::endpoint backend{asio::ip::address_v4::loopback(), backend_port};
  asio::co_spawn(io, accept_splice_clients(std::move(acceptor), backend), asio::detached);
  io.run();
  return 0;
}

// ---- the clients: plain blocking sockets, one or two threads per connection ----

int connect_to(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

struct run_window {
  std::atomic<bool> counting{false};
  std::atomic<bool> done{false};
  // Lets the connections warm up, counts for `seconds`, then tells everyone to stop.
  void run(double seconds) {
    std::this_thread::sleep_for(500ms);
    counting = true;
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    counting = false;
    done = true;
  }
};

int run_throughput(std::uint16_t port, int connections, double seconds, std::size_t chunk) {
  run_window window;
  std::vector<std::atomic<std::uint64_t>> echoed(static_cast<std::size_t>(connections));
  std::vector<int> fds;
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    const int fd = connect_to(port);
    if (fd < 0) {
      std::fprintf(stderr, "cannot connect to port %u: %s\n", port, std::strerror(errno));
      return 1;
    }
    fds.push_back(fd);
    threads.emplace_back([fd, chunk, &window] {  // writer
      std::vector<char> bytes(chunk, 'x');
      while (!window.done && ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) > 0) {
      }
      ::shutdown(fd, SHUT_WR);
    });
    threads.emplace_back([fd, &window, &mine = echoed[static_cast<std::size_t>(i)]] {  // reader
      std::vector<char> bytes(256 * 1024);
      for (ssize_t n; (n = ::recv(fd, bytes.data(), bytes.size(), 0)) > 0;) {
        if (window.counting) mine += static_cast<std::uint64_t>(n);
      }
    });
  }
  window.run(seconds);
  for (auto& thread : threads) thread.join();
  for (const int fd : fds) ::close(fd);
  // In all, and the slowest and fastest connection's share: a proxy that served one connection
  // while the others waited could post a fine total.
  std::uint64_t total = 0, slowest = UINT64_MAX, fastest = 0;
  for (const auto& bytes : echoed) {
    total += bytes;
    slowest = std::min<std::uint64_t>(slowest, bytes);
    fastest = std::max<std::uint64_t>(fastest, bytes);
  }
  const auto mib_per_s = [seconds](std::uint64_t bytes) {
    return static_cast<double>(bytes) / seconds / (1 << 20);
  };
  std::printf("throughput connections=%d chunk=%zu MiB/s=%.0f slowest_connection=%.0f "
              "fastest_connection=%.0f\n",
              connections, chunk, mib_per_s(total), mib_per_s(slowest), mib_per_s(fastest));
  return 0;
}

int run_connections(std::uint16_t port, int thread_count, double seconds) {
  run_window window;
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < thread_count; ++i) {
    threads.emplace_back([port, &window, &completed, &failed] {
      char byte = 'x';
      while (!window.done) {
        const int fd = connect_to(port);
        bool ok = fd >= 0 && ::send(fd, &byte, 1, MSG_NOSIGNAL) == 1;
        if (ok) ::shutdown(fd, SHUT_WR);
        std::size_t got = 0;
        for (ssize_t n; ok && (n = ::recv(fd, &byte, 1, 0)) > 0;)
          got += static_cast<std::size_t>(n);
        ok = ok && got == 1;
        if (fd >= 0) ::close(fd);
        if (window.counting) (ok ? completed : failed) += 1;
      }
    });
  }
  window.run(seconds);
  for (auto& thread : threads) thread.join();
  std::printf("connections threads=%d per_second=%.0f failed=%llu\n", thread_count,
              static_cast<double>(completed) / seconds,
              static_cast<unsigned long long>(failed.load()));
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"Lesson 05's load tool: an echo backend and two load clients.", "proxy_bench"};
  app.require_subcommand(1);
  workshop::listen_address address{.host = "127.0.0.1", .port = 0};
  auto* echo_command = app.add_subcommand("echo", "an echo server");
  workshop::add_listen_flags(*echo_command, address);

  std::uint16_t port = 0;
  int connections = 1;
  int thread_count = 4;
  double seconds = 3;
  std::size_t chunk = 64 * 1024;
  auto* throughput = app.add_subcommand("throughput", "bulk bytes through, echoed back");
  throughput->add_option("--port", port, "where to connect")->required();
  throughput->add_option("--connections", connections)->capture_default_str();
  throughput->add_option("--seconds", seconds)->capture_default_str();
  throughput->add_option("--chunk", chunk, "bytes per send")->capture_default_str();
  std::uint16_t backend_port = 0;
  workshop::listen_address splice_address{.host = "127.0.0.1", .port = 0};
  auto* splice_proxy = app.add_subcommand("splice-proxy", "the proxy's pipe() with splice(2)");
  workshop::add_listen_flags(*splice_proxy, splice_address);
  splice_proxy->add_option("--backend-port", backend_port, "the backend on 127.0.0.1")->required();
  auto* short_connections = app.add_subcommand("connections", "short connections per second");
  short_connections->add_option("--port", port, "where to connect")->required();
  short_connections->add_option("--threads", thread_count)->capture_default_str();
  short_connections->add_option("--seconds", seconds)->capture_default_str();
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  if (*echo_command) return run_echo(address);
  if (*splice_proxy) return run_splice_proxy(splice_address, backend_port);
  if (*throughput) return run_throughput(port, connections, seconds, chunk);
  return run_connections(port, thread_count, seconds);
}
