// Lesson 01: an HTTP server that answers "Hello" at once and "World" a moment later, to every
// client at the same time: one thread, one event loop, and no client waits for another.
// Follow lessons/01-hello-http/README.md; check your work with `./workshop check 01`.
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

// Steps 4 and 5: the head and Hello at once; World one delay later. False if the client is gone.
awaitable<bool> http_session::answer(const http::request_head& request) {
  drop_after(settings_.delay + settings_.idle_timeout);  // a client that stops reading is dropped

  const bool head_only = request.method == "HEAD";  // a HEAD request gets the head alone
  // TODO step 4: res.writeHead(...); res.write("Hello\n"): the client receives the answer's
  //              head and the Hello part at once, in one piece; a HEAD request gets the head
  //              alone. A client that is gone (the write fails) gets nothing more, and the
  //              session ends. (tests: "Hello comes at once as the first chunk", "HEAD gets the
  //              head and no body"; README: Coroutines: the same thing, written top to bottom;
  //              Errors are values)
  if (head_only) co_return true;

  // TODO step 5: setTimeout(function(){ res.end("World\n"); }, 1000): one --delay-ms after
  //              Hello, the client receives the World part and the end of the body, while every
  //              other client is served meanwhile. (tests: "World comes about one delay after
  //              Hello", "the whole answer is framed exactly as two chunks and the last chunk",
  //              "50 clients at once all get World within about one delay"; README: Step 5)
  //              With --delay-ms 0, World leaves with Hello, in the same piece: one system call
  //              saved. No test can see it (TCP may join or split pieces on the way); the
  //              keep-alive row of `./workshop compare` measures it.
  // TODO step 7: an HTTP/1.0 body has no end marker: the close ends it. (test: "HTTP/1.0 gets a
  //              raw body without chunks and then the server closes"; README: HTTP in five lines)
  co_return true;
}

// Request after request on one connection (keep-alive), until one says it is the last.
awaitable<void> http_session::serve() {
  while (true) {
    const auto request = co_await read_request();
    if (!request) break;
    // TODO step 7: a request's body is not answered, and its bytes are not mistaken for the
    //              next request; a client that leaves in the middle of one ends the session.
    //              (test: "a request body is skipped by its Content-Length"; README: Step 7)
    if (!co_await answer(*request)) break;  // the client is gone
    // TODO step 6: keep-alive: a connection carries request after request, answered in the
    //              order they came, until one says it is the last (HTTP/1.0, or Connection:
    //              close). (tests: "a second request on the same connection is answered",
    //              "pipelined requests are answered in order", "Connection close gets the
    //              answer and then the server closes"; README: HTTP in five lines)
    break;
  }
  co_await close_gracefully();
  deadline_.cancel();  // lets go of the session: its last handler holds a reference
}

// Steps 2 and 3: reads until the bytes hold a whole request head, and returns it. A malformed or
// oversized head is answered 400 or 431 here, and nothing is returned: the connection closes.
awaitable<std::optional<http::request_head>> http_session::read_request() {
  // TODO step 3: the http module's timeout: a client has --idle-timeout-ms to send a whole
  //              request head, however it spreads the bytes. (tests: "a client that sends nothing
  //              is dropped after the idle timeout", "a client that stalls in the middle of a
  //              head is dropped after the idle timeout"; README: A deadline for slow clients)
  // TODO step 2: what Node's http module does before it calls you: a whole request head comes
  //              back, however the bytes were split; a malformed one is answered 400 Bad Request
  //              and one over 8 KiB 431 Request Header Fields Too Large, as soon as that is
  //              clear, and nothing comes back; nor when the client closes first. What follows
  //              the head is kept for later. (tests: "garbage gets 400 Bad Request and the
  //              connection closes", "bytes that cannot start a request get 400 without waiting
  //              for a line end", "a request head over 8 KiB gets 431 and the connection closes";
  //              README: Reading: bytes as they come, What the skeleton gives you)
  // Until then, the client's bytes are swallowed (given, http_session.hpp) and never answered.
  co_await ignore_until_gone(socket_);
  co_return std::nullopt;
}

// socket.on('data'): waits for the next bytes and keeps them; false once the client is gone.
awaitable<bool> http_session::receive_more() {
  // TODO step 2: socket.on('data'): the next bytes the client sends are kept with those not
  //              used yet; false once the client is gone, whatever the error says it did.
  //              (test: "garbage gets 400 Bad Request and the connection closes"; README:
  //              Reading: bytes as they come, Errors are values)
  co_return false;
}

// Step 7: throws away a request's body (Content-Length bytes); false if the client left.
awaitable<bool> http_session::skip_body(std::size_t length) {
  // TODO step 7: the next `length` bytes from the client are thrown away, those already
  //              received and those still to come; false if the client closes first. (test: "a
  //              request body is skipped by its Content-Length"; README: Step 7)
  (void)length;
  co_return true;
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
  // TODO step 4: res.writeHead(200, {'content-type': 'text/plain'}): the exact head of a chunked
  //              text/plain answer. (test: "the answer has the exact status line and headers";
  //              README: HTTP in five lines)
  // TODO step 6: when the connection closes after this answer, its head carries
  //              `Connection: close`, as Node's does. (test: "Connection close gets the answer
  //              and then the server closes"; README: Step 6)
  // TODO step 7: HTTP/1.0 knows no chunks, and must not be told of them. (test: "HTTP/1.0 gets
  //              a raw body without chunks and then the server closes"; README: HTTP in five
  //              lines)
  (void)request;
  return "";
}

// One piece of the body, framed as a chunk when the request allows chunks.
std::string body_part(std::string_view text, const http::request_head& request) {
  // TODO step 4: `text` as one chunk of a chunked body. (test: "Hello comes at once as the
  //              first chunk"; README: HTTP in five lines)
  // TODO step 7: HTTP/1.0 has no chunks: its body is the bytes as they are. (test: "HTTP/1.0
  //              gets a raw body without chunks and then the server closes"; README: HTTP in five
  //              lines)
  (void)request;
  return std::string{text};
}

// ---- the server ----

// Step 1. http.createServer(...): one session per connection, and straight back to accepting.
awaitable<void> accept_clients(tcp::acceptor acceptor, hello_settings settings) {
  workshop::client_gate clients{settings.max_clients, http::error_response("503 Service Unavailable")};
  while (auto socket = co_await clients.accept(acceptor)) {
    std::error_code ignored;
    socket->set_option(tcp::no_delay(true), ignored);  // each piece leaves at once, no batching
    // TODO step 1: http.createServer(function(req,res){...}) calls you once per client: each
    //              client is served on its own, for as long as it needs, while this loop goes
    //              straight back to accepting. A socket left here is closed at the end of this
    //              block. (test: "a connection is accepted and stays open while the client is
    //              quiet"; README: Step 1)
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
