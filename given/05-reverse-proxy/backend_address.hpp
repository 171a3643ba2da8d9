#pragma once
// Where a backend listens, and how to read one from the command line ("127.0.0.1:9999"): the
// one HOST:PORT parser every workshop program uses (workshop/host_port.hpp), Asio-free.
#include <optional>
#include <string_view>
#include <vector>

#include "workshop/host_port.hpp"

using backend_address = workshop::host_port;

// "HOST:PORT", or "[IPV6]:PORT"; nothing when the text is not one of those.
inline std::optional<backend_address> parse_backend(std::string_view text) {
  return workshop::parse_host_port(text);
}

// reference/node/reverse_proxy.js's eight backends: 127.0.0.1, ports 9999 down to 9992.
std::vector<backend_address> default_backends();
