// chat_load: R receivers and S senders on running chat servers; each sender sends N lines of
// B bytes. Prints one JSON line: delivered lines per second and send-to-receive latency.
//
//   chat_load --server 127.0.0.1:9999 --senders 1 --receivers 100 --lines 2000 --bytes 64
//
// --server can be repeated (or given as a comma-separated list): receivers and senders are
// spread over the servers round robin, so lesson 04 can load a room spread over several nodes.
// Each line carries its send time (steady clock, shared by every process on the machine). With
// --rate 0 (the default) each sender sends as fast as the server takes it, --per-write lines a
// write, each stamped just before its write: 0 (the default) writes the whole burst in one
// write; 1 is what a chat client does (a line a write, as it is typed or produced), so the
// server sees whatever its reads happen to catch; 16 is a client that batches a little. With
// --rate R each sender writes one line R times a second. Each sender writes from a thread of
// its own, with blocking writes, so that its pace is the server's (or the rate) and its own,
// not this loop's (which reads for every receiver).
//
// With --phases it also prints {"phase":"connected"} once every client has joined, then waits
// for a line on its stdin before it sends the first line, and after its result line waits until
// its stdin closes: so whoever runs it can read the servers' CPU between the two, over the load
// alone (a burst lasts milliseconds: without the wait, a reader that wakes late would miss part
// of it). Receivers stay connected until then (or, without --phases, until the result line).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

#include "workshop/program.hpp"

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

struct options {
  std::vector<std::string> servers{"127.0.0.1:9999"};
  int senders = 1;
  int receivers = 100;
  int lines = 2000;        // per sender
  std::size_t bytes = 64;  // per line, with its '\n'
  double rate = 0;         // lines per second per sender; 0: as fast as the server takes them
  int per_write = 0;       // lines per write of a burst (rate 0); 0: the whole burst in one
  double timeout_s = 60;   // give up waiting for deliveries after this long
  bool phases = false;     // print {"phase":"connected"} before the first line is sent
};

struct results {
  std::int64_t expected = 0;
  std::int64_t delivered = 0;
  std::int64_t corrupt = 0;  // lines that did not parse
  std::vector<std::uint32_t> latencies_us;
  steady_clock::time_point first_send, last_delivery;
};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             steady_clock::now().time_since_epoch())
      .count();
}

tcp::endpoint endpoint_of(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("not HOST:PORT: " + host_port);
  return {asio::ip::make_address(host_port.substr(0, colon)),
          static_cast<std::uint16_t>(std::stoi(host_port.substr(colon + 1)))};
}

// Connects and reads the welcome line; whatever came after it stays in `pending`.
awaitable<tcp::socket> join(tcp::endpoint server, std::string& pending) {
  tcp::socket socket{co_await asio::this_coro::executor};
  co_await socket.async_connect(server, use_awaitable);
  socket.set_option(tcp::no_delay{true});
  const auto length =
      co_await asio::async_read_until(socket, asio::dynamic_buffer(pending), '\n', use_awaitable);
  pending.erase(0, length);
  co_return socket;
}

// "<send time in ns> <sender>:<seq> xxx...\n", exactly `bytes` long.
std::string make_line(int sender, int seq, std::size_t bytes) {
  std::string line =
      std::to_string(now_ns()) + ' ' + std::to_string(sender) + ':' + std::to_string(seq) + ' ';
  if (line.size() + 1 < bytes) line.append(bytes - 1 - line.size(), 'x');
  return line + '\n';
}

// A sender, from a thread of its own: a burst (--rate 0) --per-write lines a write (0: all of
// them in one), or one line a write `rate` times a second; each write blocking until the kernel
// took it all, as a client's plain write() does. The socket is also read by this loop
// (discard_incoming), which may have made it non-blocking: then poll() waits for room.
void send_lines(int fd, int sender, const options& opts) {
  const int per_write = opts.rate > 0 ? 1 : opts.per_write > 0 ? opts.per_write : opts.lines;
  const auto gap = std::chrono::nanoseconds{
      opts.rate > 0 ? static_cast<std::int64_t>(1e9 / opts.rate) : std::int64_t{0}};
  auto next = steady_clock::now();
  std::string chunk;
  for (int seq = 0; seq < opts.lines;) {
    if (gap.count() > 0) {
      std::this_thread::sleep_until(next);
      next += gap;
    }
    chunk.clear();
    for (const int end = std::min(opts.lines, seq + per_write); seq < end; ++seq)
      chunk += make_line(sender, seq, opts.bytes);
    for (std::size_t sent = 0; sent < chunk.size();) {
      const auto count = ::send(fd, chunk.data() + sent, chunk.size() - sent, MSG_NOSIGNAL);
      if (count >= 0) {
        sent += static_cast<std::size_t>(count);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd room{fd, POLLOUT, 0};
        ::poll(&room, 1, -1);
      } else if (errno != EINTR) {
        workshop::log("chat_load: sender ", sender, ": ", std::strerror(errno));
        return;
      }
    }
  }
}

// Reads lines until `expected` have come, recording each one's latency.
awaitable<void> receive_lines(tcp::socket& socket, std::string pending, std::int64_t expected,
                              results& totals) {
  std::vector<char> chunk(64 * 1024);
  std::int64_t got = 0;
  while (got < expected) {
    std::size_t start = 0;
    for (auto end = pending.find('\n'); end != std::string::npos && got < expected;
         end = pending.find('\n', start)) {
      std::int64_t sent_ns = 0;
      const auto parsed = std::from_chars(pending.data() + start, pending.data() + end, sent_ns);
      const auto arrived = steady_clock::now();
      if (parsed.ec != std::errc{}) {
        ++totals.corrupt;
      } else {
        const auto latency_ns = arrived.time_since_epoch().count() - sent_ns;
        totals.latencies_us.push_back(
            static_cast<std::uint32_t>(std::max<std::int64_t>(0, latency_ns / 1000)));
      }
      ++got;
      ++totals.delivered;
      totals.last_delivery = arrived;
      start = end + 1;
    }
    pending.erase(0, start);
    if (got >= expected) break;
    const auto count = co_await socket.async_read_some(asio::buffer(chunk), use_awaitable);
    pending.append(chunk.data(), count);
  }
}

// Senders are in the room too: they must read what others send, or be dropped as slow.
awaitable<void> discard_incoming(tcp::socket& socket) {
  std::vector<char> chunk(64 * 1024);
  while (true) {
    auto [error, count] = co_await socket.async_read_some(
        asio::buffer(chunk), workshop::use_tuple);
    if (error) co_return;
  }
}

std::uint32_t percentile(std::vector<std::uint32_t>& values, double p) {
  if (values.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

void print_json(const options& opts, results& totals, bool timed_out) {
  const double seconds =
      std::chrono::duration<double>(totals.last_delivery - totals.first_send).count();
  const double lines_per_s = seconds > 0 ? static_cast<double>(totals.delivered) / seconds : 0;
  std::string servers;
  for (const auto& server : opts.servers)
    servers += (servers.empty() ? "\"" : ",\"") + server + '"';
  const auto p50 = percentile(totals.latencies_us, 0.50);
  const auto p99 = percentile(totals.latencies_us, 0.99);
  const auto max = percentile(totals.latencies_us, 1.0);
  std::printf(
      "{\"servers\":[%s],\"senders\":%d,\"receivers\":%d,\"lines\":%d,\"bytes\":%zu,"
      "\"rate\":%g,\"per_write\":%d,\"expected\":%lld,\"delivered\":%lld,\"corrupt\":%lld,\"timed_out\":%s,"
      "\"seconds\":%.3f,\"lines_per_s\":%.0f,\"mib_per_s\":%.1f,\"p50_us\":%u,\"p99_us\":%u,"
      "\"max_us\":%u}\n",
      servers.c_str(), opts.senders, opts.receivers, opts.lines, opts.bytes, opts.rate,
      opts.per_write, static_cast<long long>(totals.expected), static_cast<long long>(totals.delivered),
      static_cast<long long>(totals.corrupt), timed_out ? "true" : "false", seconds, lines_per_s,
      lines_per_s * static_cast<double>(opts.bytes) / (1024.0 * 1024.0), p50, p99, max);
  std::fflush(stdout);
}

awaitable<void> run(const options& opts, results& totals, asio::io_context& io) {
  std::vector<tcp::endpoint> servers;
  for (const auto& server : opts.servers) servers.push_back(endpoint_of(server));
  const std::int64_t per_receiver = static_cast<std::int64_t>(opts.senders) * opts.lines;
  totals.expected = per_receiver * opts.receivers;
  totals.latencies_us.reserve(static_cast<std::size_t>(totals.expected));

  // The receivers' sockets live here, so that one that has all its lines stays connected (its
  // leaving would be the servers' work too) until the result is printed.
  std::vector<tcp::socket> receivers;
  receivers.reserve(static_cast<std::size_t>(opts.receivers));
  for (int i = 0; i < opts.receivers; ++i) {
    std::string pending;
    receivers.push_back(
        co_await join(servers[static_cast<std::size_t>(i) % servers.size()], pending));
    asio::co_spawn(io, receive_lines(receivers.back(), std::move(pending), per_receiver, totals),
                   asio::detached);
  }
  std::vector<tcp::socket> senders;
  for (int i = 0; i < opts.senders; ++i) {
    std::string ignored;
    senders.push_back(
        co_await join(servers[static_cast<std::size_t>(i) % servers.size()], ignored));
  }
  // On several servers a join reaches the others' rooms only through Redis: let it settle.
  if (servers.size() > 1) {
    asio::steady_timer settle{io, std::chrono::milliseconds{500}};
    co_await settle.async_wait(use_awaitable);
  }

  if (opts.phases) {
    std::printf("{\"phase\":\"connected\"}\n");
    std::fflush(stdout);
    // Blocks the loop, which has nothing to do until the first line is sent anyway.
    for (int c = std::getchar(); c != '\n' && c != EOF;) c = std::getchar();
  }
  // The senders' sockets stay here too (and so their places in the room) until the run ends.
  totals.first_send = totals.last_delivery = steady_clock::now();
  std::vector<std::thread> sending;
  for (int i = 0; i < opts.senders; ++i) {
    auto& socket = senders[static_cast<std::size_t>(i)];
    asio::co_spawn(io, discard_incoming(socket), asio::detached);
    sending.emplace_back(send_lines, socket.native_handle(), i, std::cref(opts));
  }

  const auto deadline = steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(
                                                  std::chrono::duration<double>(opts.timeout_s));
  asio::steady_timer tick{io};
  while (totals.delivered < totals.expected && steady_clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds{5});
    co_await tick.async_wait(use_awaitable);
  }
  if (totals.delivered < totals.expected) {  // a sender may still wait for room: end its wait
    for (auto& socket : senders) ::shutdown(socket.native_handle(), SHUT_RDWR);
  }
  for (auto& sender : sending) sender.join();
  print_json(opts, totals, totals.delivered < totals.expected);
  if (opts.phases) {  // every client still connected until whoever runs us has measured
    while (std::getchar() != EOF) {
    }
  }
  io.stop();
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  CLI::App app{"Load for chat servers: R receivers, S senders, N lines of B bytes each.",
               "chat_load"};
  app.add_option("--server", opts.servers, "HOST:PORT of a chat server (repeat, or a,b,c)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--senders,-s", opts.senders, "Clients that send")->capture_default_str();
  app.add_option("--receivers,-r", opts.receivers, "Clients that only read")->capture_default_str();
  app.add_option("--lines,-n", opts.lines, "Lines each sender sends")->capture_default_str();
  app.add_option("--bytes,-b", opts.bytes, "Bytes per line, with its newline (at least 32)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{32}, std::size_t{1} << 20));
  app.add_option("--rate", opts.rate, "Lines per second per sender (0: as fast as possible)")
      ->capture_default_str();
  app.add_option("--per-write", opts.per_write,
                 "Lines a sender writes at a time in a burst (--rate 0); 0: all in one write")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--timeout", opts.timeout_s, "Seconds to wait for every delivery")
      ->capture_default_str();
  app.add_flag("--phases", opts.phases,
               "Print {\"phase\":\"connected\"} when every client has joined, wait for a line on "
               "stdin before the load, and for the end of stdin after the result before "
               "disconnecting");
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  asio::io_context io{1};
  results totals;
  asio::co_spawn(io, run(opts, totals, io), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      workshop::log("chat_load: ", e.what());
      std::exit(1);
    }
  });
  io.run();
}
