// Lesson 02: a TCP server that greets each client with two lines, then closes its side.
// Follow lessons/02-tcp-server/README.md; check your work with `./workshop check 02`.
//
//   require("net").createServer(function(socket){
//       socket.write("Hello\n");
//       socket.end("world\n");
//   }).listen(9999);
#include "workshop/program.hpp"

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

// One client's whole conversation: socket.write("Hello\n"); socket.end("world\n");
awaitable<void> greet(tcp::socket socket) {
  try {
    // TODO step 1: send the client the six bytes "Hello\n", and wait until all of them are
    //              handed to the kernel. Mirrors socket.write("Hello\n").
    //              (test: "each client gets Hello")
    // TODO step 2: then send "world\n" the same way, and only once that is done tell the client
    //              we will send nothing more (our FIN: it reads end-of-file). Mirrors
    //              socket.end("world\n"). (tests: "each client gets Hello, then world",
    //              "the server closes its side after the two lines", "a client that half-closes
    //              first still gets both lines", "500 connections at once each get both lines
    //              and end-of-file")
    (void)socket;
    co_return;
  } catch (const std::system_error& error) {
    workshop::log("client lost: ", error.code().message());
  }
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
    // TODO step 1: hand the socket to greet(), running as a coroutine of its own that nobody
    //              waits for, so this loop goes straight back to accepting. Mirrors Node calling
    //              function(socket){...} for each connection. (test: "each client gets Hello")
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
