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
#include <sstream>
#include <string>

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
