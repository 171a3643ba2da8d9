#pragma once
// The plumbing every workshop program shares, so a lesson's code can be about the lesson:
// command-line flags, the listening socket and its ready line, signals, logging.
// Students use these; they never need to edit them.

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace workshop {

struct listen_address {
  std::string host = "127.0.0.1";  // --host: 0.0.0.0 opens it to the class
  std::uint16_t port = 9999;       // --port: 0 lets the OS pick a free one
};

// Adds --host and --port to `app`, writing into `address`.
void add_listen_flags(CLI::App& app, listen_address& address);

// Parses the command line the way every workshop program does: --help prints usage on
// stdout and exits 0; a bad flag or value prints one line and the usage on stderr, exits 2.
void parse_flags_or_exit(CLI::App& app, int argc, char** argv);

// Opens a listening TCP socket on `address`; on failure prints why and exits 1.
asio::ip::tcp::acceptor listen_on(asio::io_context& io, const listen_address& address);

// Prints the ready line `listening on HOST:PORT` (the real port) on stdout and flushes it.
// Call it last, after on_stop_signal: tests connect and send signals as soon as they see it.
void announce_listening(const asio::ip::tcp::acceptor& acceptor);

// Calls `on_stop` once when SIGINT or SIGTERM arrives (Ctrl-C, `kill`).
void on_stop_signal(asio::io_context& io, std::function<void()> on_stop);

// For an accept loop: true if accepting should go on after `error`. When the process is out
// of file descriptors (EMFILE, ENFILE, ENOBUFS) it first waits a moment instead of spinning.
asio::awaitable<bool> keep_accepting_after(const std::error_code& error);

// Raises this process's open-file limit to its hard limit: every client is one descriptor.
void raise_fd_limit();

// ---- --max-clients: a server full of clients turns the next one away, the others go on ----

inline constexpr std::size_t default_max_clients = 10000;

// Adds --max-clients to `app`, writing into `max_clients` (default: default_max_clients).
void add_max_clients_flag(CLI::App& app, std::size_t& max_clients);

// Counts one connected client for as long as it lives (a member of the session, or a parameter
// of the client's coroutine); the count goes down when the ticket is destroyed.
class client_ticket {
 public:
  explicit client_ticket(std::shared_ptr<std::size_t> count) : count_{std::move(count)} {}
  client_ticket(client_ticket&& other) noexcept = default;
  client_ticket& operator=(client_ticket&&) = delete;
  ~client_ticket() {
    if (count_) --*count_;
  }

 private:
  std::shared_ptr<std::size_t> count_;  // shared: a ticket may outlive the counter at shutdown
};

// How many clients are connected, against --max-clients. One thread (the event loop) uses it.
class client_counter {
 public:
  explicit client_counter(std::size_t max_clients) : max_{max_clients} {}
  // A ticket for one more client, or nothing when max_clients are already connected.
  std::optional<client_ticket> admit();
  std::size_t count() const { return *count_; }  // clients connected now

 private:
  std::size_t max_;
  std::shared_ptr<std::size_t> count_ = std::make_shared<std::size_t>(0);
};

// Turns away a client the server has no room for: writes `farewell` (one short line, or an
// HTTP answer) if the socket takes it at once, logs it, and closes. It never waits on the client.
void turn_away(asio::ip::tcp::socket& socket, std::string_view farewell);

// Writes one log line to stderr: log("client ", id, " left").
template <typename... Parts>
void log(const Parts&... parts) {
  std::ostringstream line;
  (line << ... << parts);
  line << '\n';
  std::cerr << line.str() << std::flush;
}

// "HOST:PORT" of a connected or listening endpoint, for logs.
std::string to_string(const asio::ip::tcp::endpoint& endpoint);

}  // namespace workshop
