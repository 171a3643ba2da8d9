#pragma once
// The listening socket, its ready line, signals, and accepting clients with a limit.
#include <asio.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "workshop/flags.hpp"

namespace workshop {

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

}  // namespace workshop
