#pragma once
// Command-line flags as every workshop program reads them (CLI11): --host, --port, --help, exit 2.
#include <CLI/CLI.hpp>
#include <cstdint>
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

}  // namespace workshop
