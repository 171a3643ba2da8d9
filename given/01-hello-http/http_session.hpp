#pragma once
// Provided: you do not edit this. One client's connection to hello_http, declared here so that
// hello_http.cpp can begin with the lesson's idea: you write these functions there.
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hello_flags.hpp"
#include "http_head.hpp"
#include "workshop/program.hpp"

// Serves one client: its requests one after another, each answered Hello, then World.
class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(asio::ip::tcp::socket socket, const hello_settings& settings)
      : socket_{std::move(socket)}, settings_{settings}, deadline_{socket_.get_executor()} {}

  // Serves the client in a coroutine of its own, beside everyone else's.
  void start() {
    asio::co_spawn(
        socket_.get_executor(), [self = shared_from_this()] { return self->serve(); },
        asio::detached);
  }

 private:
  asio::awaitable<bool> answer(const http::request_head& request);    // steps 4, 5; false: gone
  asio::awaitable<void> serve();                                      // steps 6 and 7
  asio::awaitable<std::optional<http::request_head>> read_request();  // steps 2, 3
  asio::awaitable<bool> receive_more();                               // step 2; false: gone
  asio::awaitable<bool> skip_body(std::size_t length);                // step 7
  asio::awaitable<void> refuse(std::string_view status);  // 400, 431: the answer, then close
  asio::awaitable<void> close_gracefully();
  void drop_after(std::chrono::milliseconds timeout);
  void wait_until_due();

  asio::ip::tcp::socket socket_;
  hello_settings settings_;
  std::chrono::steady_clock::time_point due_;  // past it, the client is too slow and is dropped
  asio::steady_timer deadline_;                // rings at due_, or before it when due_ has moved
  std::string received_;  // bytes read but not used yet: the rest of a request, or the next one
};

// The bytes of an answer: hello_http.cpp writes them (steps 4 and 7).
bool uses_chunks(const http::request_head& request);
std::string response_head(const http::request_head& request);  // res.writeHead(200, ...)
std::string body_part(std::string_view text, const http::request_head& request);  // one piece
constexpr std::string_view last_chunk = "0\r\n\r\n";  // the end of a chunked body

// For the untouched skeleton only: reads and forgets whatever the client sends, until it leaves.
// The skeleton's read_request() waits in it, so that step 1 can be tested before step 2 exists.
inline asio::awaitable<void> ignore_until_gone(asio::ip::tcp::socket& socket) {
  std::array<char, 256> scratch;
  while (true) {
    auto [error, count] =
        co_await socket.async_read_some(asio::buffer(scratch), workshop::use_tuple);
    if (error) co_return;
  }
}
