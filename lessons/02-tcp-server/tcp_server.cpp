// Lesson 02: a TCP server that greets each client with two lines, then closes its side.
// Follow lessons/02-tcp-server/README.md; check your work with `./workshop check 02`.
//
//   require("net").createServer(function(socket){
//       socket.write("Hello\n");
//       socket.end("world\n");
//   }).listen(9999);
#include "workshop/program.hpp"

using asio::awaitable;
using asio::ip::tcp;
using workshop::use_tuple;  // co_await returns (error, results...): errors are values

// One client's whole conversation: socket.write("Hello\n"); socket.end("world\n");
awaitable<void> greet(tcp::socket socket) {
  // TODO step 1: socket.write("Hello\n"): the client receives exactly the six bytes Hello\n,
  //              and this coroutine goes on only once all of them are handed to the kernel. A
  //              client that hung up first ends its own conversation with a line in the log,
  //              "client lost: " and why; the server goes on. (test: "each client gets Hello";
  //              README: Writing to a socket from a coroutine)
  // TODO step 2: socket.end("world\n"): then world\n, and only once it is written, the client
  //              learns we will send nothing more: it reads end-of-file. Whatever the client
  //              does (nothing, or half-close first), it gets both lines and then end-of-file.
  //              Any failed write ends the conversation with that log line, as in step 1.
  //              (tests: "each client gets Hello, then world", "the server closes its side
  //              after the two lines", "a client that half-closes first still gets both lines",
  //              "500 connections at once each get both lines and end-of-file"; README:
  //              Half-close, Why the write must complete before the close)
  (void)socket;
  co_return;
}  // the socket closes here, when the coroutine ends

// net.createServer(function(socket){ ... }): one coroutine per connection, never waiting on one.
awaitable<void> accept_clients(tcp::acceptor acceptor) {
  while (true) {
    auto [error, socket] =
        co_await acceptor.async_accept(workshop::use_tuple);
    if (error) {
      if (co_await workshop::keep_accepting_after(error)) continue;
      co_return;
    }
    // function(socket){...}, called for each connection: greet runs beside this loop, which
    // goes straight back to accepting (README: Starting a coroutine nobody waits for).
    asio::co_spawn(acceptor.get_executor(), greet(std::move(socket)), asio::detached);
  }
}

int main(int argc, char** argv) {
  workshop::listen_address address;
  CLI::App app{"Lesson 02: greets each client with two lines, then closes.", "tcp_server"};
  workshop::add_listen_flags(app, address);
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  asio::io_context io;
  auto acceptor = workshop::listen_on(io, address);
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);  // last: once it is out, anyone may connect or signal
  asio::co_spawn(io, accept_clients(std::move(acceptor)), asio::detached);
  io.run();  // the event loop: runs until a signal stops it
}
