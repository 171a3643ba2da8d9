#include "backend_address.hpp"

std::vector<backend_address> default_backends() {
  std::vector<backend_address> backends;
  for (std::uint16_t port = 9999; port >= 9992; --port) backends.push_back({"127.0.0.1", port});
  return backends;
}
