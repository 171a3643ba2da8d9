#pragma once
// Where a backend listens, and how to read one from the command line ("127.0.0.1:9999").
// Free of Asio on purpose: a fuzz target or a unit test can call parse_backend on its own.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct backend_address {
  std::string host;        // a name or an address: "127.0.0.1", "localhost", "::1"
  std::uint16_t port = 0;  // 1 to 65535
};

// "HOST:PORT", or "[IPV6]:PORT"; nothing when the text is not one of those.
std::optional<backend_address> parse_backend(std::string_view text);

// The seed's eight backends: 127.0.0.1, ports 9999 down to 9992.
std::vector<backend_address> default_backends();

// "HOST:PORT" again (brackets around an IPv6 host), for logs and messages.
std::string to_string(const backend_address& backend);
