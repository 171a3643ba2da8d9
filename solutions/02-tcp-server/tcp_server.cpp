// Lesson 02: a TCP server that greets each client with two lines, then closes its side.
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
  auto [error, sent] = co_await asio::async_write(socket, asio::buffer("Hello\n", 6), use_tuple);
  if (!error) {
    std::tie(error, sent) =
        co_await asio::async_write(socket, asio::buffer("world\n", 6), use_tuple);
  }
  // end(): the data is written (the co_await above finished), now send our FIN.
  // The client reads both lines and then end-of-file.
  if (!error) socket.shutdown(tcp::socket::shutdown_send, error);
  if (error) workshop::log("client lost: ", error.message());  // it hung up first: nothing to do
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
