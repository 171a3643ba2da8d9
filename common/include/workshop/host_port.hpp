#pragma once
// A TCP address as a user types it on the command line: "127.0.0.1:9999", "localhost:6379",
// "[::1]:8000". Free of Asio on purpose: fuzz/backend_address.cpp feeds the parser anything.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace workshop {

struct host_port {
  std::string host;        // a name or an address: "127.0.0.1", "localhost", "::1"
  std::uint16_t port = 0;  // 1 to 65535
};

// "HOST:PORT", or "[IPV6]:PORT"; nothing when the text is not one of those.
std::optional<host_port> parse_host_port(std::string_view text);

// "HOST:PORT" again (brackets around an IPv6 host), for logs and messages.
std::string to_string(const host_port& address);

}  // namespace workshop
