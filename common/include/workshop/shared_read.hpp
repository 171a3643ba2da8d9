#pragma once
// A read into one buffer that every connection of the thread shares.
#include <asio.hpp>
#include <string_view>
#include <system_error>
#include <tuple>

namespace workshop {

// Reads what `socket` has into a buffer that every connection of this thread shares, and
// returns a view of those bytes, valid until the caller's next co_await (a debug build then
// overwrites them with lines "<stale: read before a co_await>"). So a connection that says
// nothing holds no read buffer of its own: it only waits until its socket is readable.
// Each call first lets every other ready handler run, so one busy client cannot starve the
// rest. End-of-file, a reset or a closed socket come back as the error, with no bytes.
//   auto [error, bytes] = co_await workshop::read_some_shared(socket);
asio::awaitable<std::tuple<std::error_code, std::string_view>> read_some_shared(
    asio::ip::tcp::socket& socket);

}  // namespace workshop
