#pragma once
// The workshop's one error policy, and the completion token that carries it.
#include <asio.hpp>
#if __has_include(<asio/as_tuple.hpp>)  // Asio 1.24 on: as_tuple left experimental/
#include <asio/as_tuple.hpp>
#else  // Asio 1.22 (Debian 12)
#include <asio/experimental/as_tuple.hpp>
#endif

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

}  // namespace workshop
