// Fuzz target: lesson 05's --backend parser (parse_backend), on any text. What it accepts is a
// real HOST:PORT that prints back as text parse_backend reads the same way.
#include "backend_address.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  const auto backend = parse_backend(text);
  if (!backend) return 0;
  require(backend->port >= 1, "the port is 1 to 65535");
  require(!backend->host.empty() && backend->host.size() <= 253, "a host of 1 to 253 bytes");
  require(backend->host.find_first_of(" \t\r\n/[]@") == std::string::npos,
          "no spaces, slashes, brackets or @ in a host");
  require(text.find(backend->host) != std::string_view::npos, "the host comes from the text");
  const auto printed = to_string(*backend);
  const auto again = parse_backend(printed);
  require(again && again->host == backend->host && again->port == backend->port,
          "parse_backend(to_string(b)) == b");
  return 0;
}
