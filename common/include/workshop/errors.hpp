#pragma once
// The workshop's one error policy, and the completion token that carries it.
#include <asio.hpp>
#if __has_include(<asio/as_tuple.hpp>)  // Asio 1.24 on: as_tuple left experimental/
#include <asio/as_tuple.hpp>
#else  // Asio 1.22 (Debian 12)
#include <asio/experimental/as_tuple.hpp>
#endif

namespace workshop {

// The error policy of every workshop program, from lesson 01 on: errors are values. An error a
// peer causes (it hangs up, resets, refuses, is too slow) is part of the story, not an exception
// to it: co_await hands it back beside the result, and the next line says what it means for that
// one client. End-of-file: the client closed its side; a reset or a broken pipe: it left without
// closing; operation_aborted: we closed the socket ourselves (a deadline, a stop). Any of them
// ends that client's session, and the server goes on:
//   auto [error, size] = co_await socket.async_read_some(buffer, workshop::use_tuple);
//   if (error) break;  // this client is done; the server goes on
// Nothing a client does throws; what throws is a bug, or a failure at start-up.
#if __has_include(<asio/as_tuple.hpp>)
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
#else
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
#endif

}  // namespace workshop
