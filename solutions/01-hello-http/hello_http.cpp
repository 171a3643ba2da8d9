// Lesson 01: an HTTP server that answers "Hello" at once and "World" a moment later, to every
// client at the same time: one thread, one event loop, and no client waits for another.
//
//   require("http").createServer(function(req,res){
//       res.writeHead(200,{'content-type':'text/plain'});
//       res.write("Hello\n");
//       setTimeout(function(){ res.end("World\n");},1000);
//   }).listen(9999);
//
// given/01-hello-http/http_session.hpp declares the session whose functions follow.
#include <charconv>
#include <memory>
#include <string>
#include <tuple>

#include "http_session.hpp"

using asio::awaitable;
using asio::ip::tcp;
using std::chrono::milliseconds;
using workshop::use_tuple;  // co_await returns (error, results...): errors are values

// Steps 4 and 5: the head and Hello at once; World after the delay, from a timer. False if the
// client is gone.
awaitable<bool> http_session::answer(const http::request_head& request) {
  drop_after(settings_.delay + settings_.idle_timeout);  // a client that stops reading is dropped

  // res.writeHead(200, {'content-type': 'text/plain'}); res.write("Hello\n");
  const bool head_only = request.method == "HEAD";  // a HEAD request gets the head alone
  std::string hello = response_head(request) + (head_only ? "" : body_part("Hello\n", request));
  std::string world = body_part("World\n", request);
  if (uses_chunks(request)) world += last_chunk;
  // With --delay-ms 0 nothing waits between them: World goes in Hello's write (one system call).
  const bool world_too = !head_only && settings_.delay == milliseconds{0};
  if (world_too) hello += world;
  auto [error, sent] = co_await asio::async_write(socket_, asio::buffer(hello), use_tuple);
  if (error) co_return false;  // the client left (a reset), or our deadline closed its socket
  if (head_only || world_too) co_return true;  // nothing is left to send

  // setTimeout(function(){ res.end("World\n"); }, 1000): this coroutine sleeps, the thread
  // does not. The event loop serves everyone else until the timer rings.
  asio::steady_timer timer{socket_.get_executor(), settings_.delay};
  co_await timer.async_wait(use_tuple);  // nothing cancels it: it rings
  std::tie(error, sent) = co_await asio::async_write(socket_, asio::buffer(world), use_tuple);
  co_return !error;
}

// Request after request on one connection (keep-alive), until one says it is the last.
awaitable<void> http_session::serve() {
  while (true) {
    const auto request = co_await read_request();
    if (!request || !co_await skip_body(request->content_length)) break;
    if (!co_await answer(*request) || !request->keep_alive) break;
  }
  co_await close_gracefully();
  deadline_.cancel();  // lets go of the session: its last handler holds a reference
}

// Steps 2 and 3: reads until the bytes hold a whole request head, and returns it. A malformed or
// oversized head is answered 400 or 431 here, and nothing is returned: the connection closes.
awaitable<std::optional<http::request_head>> http_session::read_request() {
  drop_after(settings_.idle_timeout);
  while (true) {
    const auto result = http::parse_request_head(received_);
    switch (result.status) {
      case http::head_status::complete:
        received_.erase(0, result.head_length);  // what follows is the body or the next request
        co_return result.head;
      case http::head_status::bad:
        workshop::log("bad request: ", result.problem);
        co_await refuse("400 Bad Request");
        co_return std::nullopt;
      case http::head_status::too_large:
        workshop::log("request head over ", http::max_head_bytes, " bytes");
        co_await refuse("431 Request Header Fields Too Large");
        co_return std::nullopt;
      case http::head_status::need_more:
        break;
    }
    if (!co_await receive_more()) co_return std::nullopt;  // the client has closed
  }
}

// socket.on('data'): waits for the next bytes and keeps them; false once the client is gone.
awaitable<bool> http_session::receive_more() {
  auto [error, bytes] = co_await workshop::read_some_shared(socket_);
  // End-of-file: the client closed its side; a reset: it left without closing; operation_aborted:
  // our deadline closed the socket (and said so). For this session each means the same: it ends.
  if (error) co_return false;
  received_.append(bytes);
  co_return true;
}

// Step 7: throws away a request's body (Content-Length bytes); false if the client left.
awaitable<bool> http_session::skip_body(std::size_t length) {
  while (true) {
    const std::size_t here = std::min(length, received_.size());
    received_.erase(0, here);
    length -= here;
    if (length == 0) co_return true;
    if (!co_await receive_more()) co_return false;
  }
}

// The whole answer to a request we refuse (400, 431): the status, a short body, Connection: close.
awaitable<void> http_session::refuse(std::string_view status) {
  const std::string answer = http::error_response(status);
  co_await asio::async_write(socket_, asio::buffer(answer), use_tuple);  // the close comes next
}

// Our side closes first (FIN: the client sees end-of-file after the answer). Then we read until
// the client closes too: closing a socket with unread bytes in it sends a reset, which can
// destroy the answer before the client has read it.
awaitable<void> http_session::close_gracefully() {
  std::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  drop_after(settings_.idle_timeout);
  received_.clear();
  while (co_await receive_more()) received_.clear();
}

// The deadline, in callback form. Each request moves it twice, so moving it only notes the new
// time (no timer is re-armed); the one handler waiting on the timer looks at due_ when it rings.
void http_session::drop_after(milliseconds timeout) {
  const auto now = std::chrono::steady_clock::now();
  due_ = now + timeout;
  const bool waiting = deadline_.expiry() > now;  // a handler waits for the timer to ring
  if (!waiting || deadline_.expiry() > due_) wait_until_due();  // none waits, or it rings too late
}

// If the timer rings before due_ (drop_after moved it since), wait again; else the client was
// too slow (it sent no request, or stopped reading), so close its socket. Whatever the session
// is waiting for then fails with operation_aborted and the session ends.
void http_session::wait_until_due() {
  deadline_.expires_at(due_);  // a handler already waiting is cancelled: this one replaces it
  deadline_.async_wait([self = shared_from_this()](const std::error_code& error) {
    if (error || !self->socket_.is_open()) return;
    if (std::chrono::steady_clock::now() < self->due_) return self->wait_until_due();
    std::error_code ignored;
    workshop::log("client ", workshop::to_string(self->socket_.remote_endpoint(ignored)),
                  " too slow: dropped");
    self->socket_.close(ignored);
  });
}

// ---- the bytes of an answer ----

// HTTP/1.1 sends the body in chunks, each one `SIZE-IN-HEX\r\nBYTES\r\n`, and ends it with an
// empty chunk. HTTP/1.0 knows no chunks: its body is raw and ends when the server closes.
bool uses_chunks(const http::request_head& request) {
  return request.minor_version >= 1;
}

// res.writeHead(200, {'content-type': 'text/plain'})
std::string response_head(const http::request_head& request) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
  if (uses_chunks(request)) head += "Transfer-Encoding: chunked\r\n";
  if (!request.keep_alive) head += "Connection: close\r\n";
  return head + "\r\n";
}

// One piece of the body, framed as a chunk when the request allows chunks.
std::string body_part(std::string_view text, const http::request_head& request) {
  if (!uses_chunks(request)) return std::string{text};
  char size[16];  // the text's size, in hexadecimal
  char* size_end = std::to_chars(size, std::end(size), text.size(), 16).ptr;
  return std::string{size, size_end} + "\r\n" + std::string{text} + "\r\n";
}

// ---- the server ----

// Step 1. http.createServer(...): one session per connection, and straight back to accepting.
awaitable<void> accept_clients(tcp::acceptor acceptor, hello_settings settings) {
  workshop::client_gate clients{settings.max_clients, http::error_response("503 Service Unavailable")};
  while (auto socket = co_await clients.accept(acceptor)) {
    std::error_code ignored;
    socket->set_option(tcp::no_delay(true), ignored);  // each piece leaves at once, no batching
    std::make_shared<http_session>(std::move(*socket), settings)->start();
  }
}

int main(int argc, char** argv) {
  workshop::listen_address address;
  const hello_settings settings = parse_hello_flags(
      argc, argv, "Lesson 01: answers every HTTP request with Hello, then World a moment later.",
      "hello_http", address, /*many_at_once=*/true);
  workshop::raise_fd_limit();  // every client is one file descriptor

  asio::io_context io;
  auto acceptor = workshop::listen_on(io, address);
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);  // last: once it is out, anyone may connect or signal
  asio::co_spawn(io, accept_clients(std::move(acceptor), settings), asio::detached);
  io.run();  // the event loop: one thread runs every client's coroutine, until a signal stops it
}
