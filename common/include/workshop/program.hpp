#pragma once
// The plumbing every workshop program shares, so a lesson's code can be about the lesson:
// command-line flags, the listening socket and its ready line, signals, logging.
// Students use these; they never need to edit them.

#include <CLI/CLI.hpp>
#include <asio.hpp>
#if __has_include(<asio/as_tuple.hpp>)  // Asio 1.24 on: as_tuple left experimental/
#include <asio/as_tuple.hpp>
#else  // Asio 1.22 (Debian 12)
#include <asio/experimental/as_tuple.hpp>
#endif
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace workshop {

// The error policy of every workshop program. An error a peer causes (it hangs up, resets,
// refuses, is too slow) is part of the story, not an exception to it: co_await hands it back
// beside the result, and the next line says what happens to that one client:
//   auto [error, size] = co_await socket.async_read_some(buffer, workshop::use_tuple);
//   if (error) break;  // this client is done; the server goes on
// Lessons 01 and 02 start with plain asio::use_awaitable, which throws std::system_error, and
// catch it once at the top of the client's coroutine; from the first read on they use this.
#if __has_include(<asio/as_tuple.hpp>)
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
#else
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
#endif

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

// Reads what `socket` has into a buffer that every connection of this thread shares, and
// returns a view of those bytes, valid until the caller's next co_await. So a connection that
// says nothing holds no read buffer of its own: it only waits until its socket is readable.
// Each call first lets every other ready handler run, so one busy client cannot starve the
// rest. End-of-file, a reset or a closed socket come back as the error, with no bytes.
//   auto [error, bytes] = co_await workshop::read_some_shared(socket);
asio::awaitable<std::tuple<std::error_code, std::string_view>> read_some_shared(
    asio::ip::tcp::socket& socket);

// Raises this process's open-file limit to its hard limit: every client is one descriptor.
void raise_fd_limit();

// ---- --max-clients: a server full of clients turns the next one away, the others go on ----

inline constexpr std::size_t default_max_clients = 10000;

// Adds --max-clients to `app`, writing into `max_clients` (default: default_max_clients).
void add_max_clients_flag(CLI::App& app, std::size_t& max_clients);

// The accept loop's one call, with --max-clients built in:
//   while (auto socket = co_await clients.accept(acceptor)) { ... serve *socket ... }
// Each call returns the next client there is room for. A client past the limit is turned away
// (sent `farewell` if its socket takes it at once, logged, closed) and the caller never sees it.
// Accept errors are handled as keep_accepting_after says; nothing once the acceptor is closed.
// A client counts for as long as its socket is open, whoever closes it: the gate remembers each
// admitted socket (its descriptor and inode) and asks the kernel whether it is still open, so the
// code that serves a client holds nothing for the count. One thread (the event loop) uses it.
class client_gate {
 public:
  client_gate(std::size_t max_clients, std::string farewell)
      : max_{max_clients}, farewell_{std::move(farewell)} {}
  asio::awaitable<std::optional<asio::ip::tcp::socket>> accept(asio::ip::tcp::acceptor& acceptor);
  std::size_t connected();  // admitted clients whose socket is still open

 private:
  struct admitted {
    int descriptor;
    unsigned long inode;  // a closed descriptor's number is reused; a socket's inode is not
  };
  bool has_room();
  std::size_t max_;
  std::string farewell_;  // one short line, an HTTP answer, or "" (a proxy adds no bytes)
  std::vector<admitted> admitted_;
};

// Writes `line` to stderr with one write(2) (more only if the kernel takes part of it).
void write_log_line(std::string_view line);

// Writes one log line to stderr: log("client ", id, " left"). Parts only, no manipulators
// (std::hex, std::setw...): the stream is reused, so their state would carry into later lines.
template <typename... Parts>
void log(const Parts&... parts) {
  thread_local std::ostringstream line;  // reused: a proxy logs every connection
  line.str({});
  line.clear();
  (line << ... << parts);
  line << '\n';
  write_log_line(line.view());
}

// "HOST:PORT" of a connected or listening endpoint, for logs.
std::string to_string(const asio::ip::tcp::endpoint& endpoint);

}  // namespace workshop
