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

#include "http_session.hpp"

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using std::chrono::milliseconds;

// Steps 4 and 5: the head and Hello at once; World after the delay, from a timer.
awaitable<void> http_session::answer(const http::request_head& request) {
  drop_after(settings_.delay + settings_.idle_timeout);  // a client that stops reading is dropped

  const bool head_only = request.method == "HEAD";  // a HEAD request gets the head alone
  // TODO step 4: res.writeHead(...); res.write("Hello\n"): the head and (unless head_only)
  //              the Hello part, in one write, from a string that lives until it completes.
  //              (tests: "Hello comes at once as the first chunk", "HEAD gets the head and no
  //              body")
  if (head_only) co_return;

  // TODO step 5: setTimeout(function(){ res.end("World\n"); }, 1000): wait settings_.delay
  //              without blocking the thread, then write the World part and the last chunk.
  //              With --delay-ms 0 nothing waits between them: put World in Hello's write
  //              instead (one system call, not two). (tests: "World comes about one delay after
  //              Hello", "50 clients at once all get World within about one delay")
  // TODO step 7: the last chunk only when the request uses chunks. (test: "HTTP/1.0 gets a raw
  //              body without chunks and then the server closes")
}

// Request after request on one connection (keep-alive), until one says it is the last.
awaitable<void> http_session::serve() {
  try {
    while (true) {
      const auto request = co_await read_request();
      if (!request) break;
      // TODO step 7: first take the request's body (content_length bytes) out of the way with
      //              skip_body(), and leave the loop if the client closed meanwhile. (test: "a
      //              request body is skipped by its Content-Length")
      co_await answer(*request);
      // TODO step 6: keep-alive: go round again for the next request on this connection,
      //              unless this request does not keep it alive (HTTP/1.0, or Connection:
      //              close). (tests: "a second request on the same connection is answered",
      //              "pipelined requests are answered in order", "Connection close gets the
      //              answer and then the server closes")
      break;
    }
    co_await close_gracefully();
  } catch (const std::system_error& error) {
    // eof/reset: the client left; operation_aborted: the deadline dropped it (and said so).
    if (error.code() != asio::error::operation_aborted && error.code() != asio::error::eof &&
        error.code() != asio::error::connection_reset && error.code() != asio::error::broken_pipe) {
      workshop::log("client lost: ", error.code().message());
    }
  }
  deadline_.cancel();  // lets go of the session: its last handler holds a reference
}

// Steps 2 and 3: reads until the bytes hold a whole request head, and returns it. A malformed or
// oversized head is answered 400 or 431 here, and nothing is returned: the connection closes.
awaitable<std::optional<http::request_head>> http_session::read_request() {
  // TODO step 3: arm the idle deadline first (drop_after, --idle-timeout-ms): the whole head
  //              must arrive in time. (tests: "a client that sends nothing is dropped after the
  //              idle timeout", "a client that stalls in the middle of a head is dropped after
  //              the idle timeout")
  // TODO step 2: what Node's http module does before it calls you: ask the parser
  //              (http::parse_request_head) about all the bytes received so far, and act on its
  //              answer: need more (receive more; nothing if the client has closed), bad (refuse
  //              it: 400 Bad Request), too large (431 Request Header Fields Too Large), or
  //              complete (take the head out of received_ and return it). (tests: "garbage gets
  //              400 Bad Request and the connection closes", "bytes that cannot start a request
  //              get 400 without waiting for a line end", "a request head over 8 KiB gets 431
  //              and the connection closes")
  // Until then, this swallows whatever the client sends and never answers.
  while (true) {
    auto [error, bytes] = co_await workshop::read_some_shared(socket_);
    if (error) co_return std::nullopt;
  }
}

// socket.on('data'): waits for the next bytes and keeps them; false at end-of-file.
awaitable<bool> http_session::receive_more() {
  // TODO step 2: socket.on('data'): wait for the next bytes (one workshop::read_some_shared)
  //              and append them to received_. False once the client has closed (end-of-file);
  //              any other error is thrown. (test: "garbage gets 400 Bad Request and the
  //              connection closes")
  co_return false;
}

// Step 7: throws away a request's body (Content-Length bytes); false if the client left.
awaitable<bool> http_session::skip_body(std::size_t length) {
  // TODO step 7: drop `length` bytes from the front of received_, receiving more while some
  //              are still missing; false if the client closes first. (test: "a request body
  //              is skipped by its Content-Length")
  (void)length;
  co_return true;
}

// The whole answer to a request we refuse (400, 431): the status, a short body, Connection: close.
awaitable<void> http_session::refuse(std::string_view status) {
  const std::string answer = http::error_response(status);
  co_await asio::async_write(socket_, asio::buffer(answer), use_awaitable);
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
  // TODO step 4: res.writeHead(200, {'content-type': 'text/plain'}): the status line
  //              HTTP/1.1 200 OK, then the headers Content-Type (text/plain) and
  //              Transfer-Encoding (chunked), each line ending in \r\n, then an empty line.
  //              (test: "the answer has the exact status line and headers")
  // TODO step 6: add Connection: close when the request does not keep the connection alive.
  //              (test: "Connection close gets the answer and then the server closes")
  // TODO step 7: no Transfer-Encoding for HTTP/1.0 (see uses_chunks). (test: "HTTP/1.0 gets a
  //              raw body without chunks and then the server closes")
  (void)request;
  return "";
}

// One piece of the body, framed as a chunk when the request allows chunks.
std::string body_part(std::string_view text, const http::request_head& request) {
  // TODO step 4: frame `text` as one chunk: its size in hexadecimal (std::to_chars, base 16),
  //              \r\n, the text, \r\n. (test: "Hello comes at once as the first chunk")
  // TODO step 7: for HTTP/1.0 (no chunks), the text as it is. (test: "HTTP/1.0 gets a raw body
  //              without chunks and then the server closes")
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
    // TODO step 1: http.createServer(function(req,res){...}) calls you once per client: give
    //              this client an http_session of its own (owned by a std::shared_ptr, since it
    //              calls shared_from_this) and start it, so this loop goes straight back to
    //              accepting. A socket left here is closed at the end of this block. (test: "a
    //              connection is accepted and stays open while the client is quiet")
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
