// hello_load: opens N connections at once to a running hello_http, sends one request on each,
// and measures how long each client waits, from its request to the whole answer. Prints one
// JSON line: {"clients":N,"ok":...,"p50_ms":...,"p99_ms":...,"max_ms":...,"wall_ms":...}.
//
// If the server serves everyone at once, every client waits about one --delay-ms; a blocking
// server would make the last one wait N delays.
#include <algorithm>
#include <vector>

#include "workshop/program.hpp"

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct client_result {
  bool ok = false;        // a whole 200 answer with Hello and World, then end-of-file
  double connect_ms = 0;  // from the start of the run to the connection
  double answer_ms = 0;   // from the request to the end of the answer
};

bool whole_answer(const std::string& bytes) {
  return bytes.starts_with("HTTP/1.1 200 OK\r\n") && bytes.find("Hello\n") != std::string::npos &&
         bytes.ends_with("6\r\nWorld\n\r\n0\r\n\r\n");
}

double ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// One client: connect, ask, read until the server closes. Its result lands in `result`.
awaitable<void> one_client(tcp::endpoint server, clock_type::time_point run_start,
                           client_result& result) {
  tcp::socket socket{co_await asio::this_coro::executor};
  auto [connect_error] = co_await socket.async_connect(server, workshop::use_tuple);
  if (connect_error) co_return;
  const auto asked = clock_type::now();
  result.connect_ms = ms_between(run_start, asked);

  static const std::string request = "GET / HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n";
  auto [write_error, written] =
      co_await asio::async_write(socket, asio::buffer(request), workshop::use_tuple);
  if (write_error) co_return;

  std::string answer;
  auto [read_error, read] =
      co_await asio::async_read(socket, asio::dynamic_buffer(answer), workshop::use_tuple);
  if (read_error != asio::error::eof) co_return;  // async_read ends only at end-of-file here
  result.answer_ms = ms_between(asked, clock_type::now());
  result.ok = whole_answer(answer);
}

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
  return values[index];
}

int main(int argc, char** argv) {
  workshop::listen_address address;  // here: where the server listens
  int clients = 10000;
  long timeout_ms = 60000;
  CLI::App app{"Opens N clients at once to hello_http and reports the wait of each.", "hello_load"};
  workshop::add_listen_flags(app, address);
  app.add_option("--clients", clients, "Connections opened at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms, "Give up on the clients still waiting after this")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();  // one descriptor per client

  asio::io_context io;
  const tcp::endpoint server{asio::ip::make_address(address.host), address.port};
  std::vector<client_result> results(static_cast<std::size_t>(clients));
  const auto start = clock_type::now();
  for (auto& result : results) {
    asio::co_spawn(io, one_client(server, start, result), asio::detached);
  }
  io.run_for(std::chrono::milliseconds{timeout_ms});
  const double wall_ms = ms_between(start, clock_type::now());

  std::vector<double> waits;
  std::vector<double> connects;
  for (const auto& result : results) {
    if (!result.ok) continue;
    waits.push_back(result.answer_ms);
    connects.push_back(result.connect_ms);
  }
  std::printf(
      "{\"clients\":%d,\"ok\":%zu,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,"
      "\"wall_ms\":%.1f,\"connect_p99_ms\":%.1f}\n",
      clients, waits.size(), percentile(waits, 0.50), percentile(waits, 0.99),
      percentile(waits, 1.0), wall_ms, percentile(connects, 0.99));
  return waits.size() == results.size() ? 0 : 1;
}
