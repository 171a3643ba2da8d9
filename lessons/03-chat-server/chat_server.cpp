// Lesson 03: the talk's single-node chat server. Every line a client sends goes to every
// other client; a client that leaves is forgotten; one that stops reading is dropped.
// Follow lessons/03-chat-server/README.md; check your work with `./workshop check 03`.
//
//   var sockets = [];
//   require("net").createServer(function(socket){
//     sockets.push(socket);
//     socket.write("welcome to node's tcp chat server\n");
//     socket.on('data', function(data){
//       for (var i = 0; i < sockets.length; i++) {
//         if (sockets[i] == socket) continue;
//         sockets[i].write(data);
//       }
//     });
//     socket.on('close', function(){ sockets.splice(sockets.indexOf(socket), 1); });
//   }).listen(9999);
#include <cstdint>

#include "chat_room.hpp"
#include "chat_session.hpp"
#include "session_flags.hpp"
#include "workshop/program.hpp"

using asio::awaitable;
using asio::ip::tcp;

// socket.on('data'): every complete line goes to everyone in the room but its author.
chat::line_handler broadcast_to_others(chat::chat_room& room) {
  return [&room](chat::chat_session& author, const chat::message& line) {
    // TODO step 2: each line reaches everyone in the room except its author (Node's loop with
    //              its continue). (test: "a line from A reaches B and C byte for byte, and never
    //              comes back to A")
    (void)room;
    (void)author;
    (void)line;
  };
}

// net.createServer(function(socket){ ... }): a session per connection, all in one room.
awaitable<void> listener(tcp::acceptor acceptor, chat::chat_room& room, chat::session_limits limits,
                         std::size_t max_clients) {
  const auto welcome = chat::make_message("welcome to the C++ tcp chat server\n");
  std::uint64_t next_user_id = 1;
  workshop::client_gate clients{max_clients, "the room is full, try again later\n"};
  while (auto socket = co_await clients.accept(acceptor)) {
    // TODO step 1: createServer(function(socket){...}): each accepted client becomes a session
    //              kept alive by its own coroutines, in this room, with an id no other client
    //              has, whose lines go to everyone else; its first line is the welcome. (test:
    //              "each client first gets a line starting with welcome")
    (void)room;
    (void)limits;
    (void)welcome;
    (void)next_user_id;
  }
}

int main(int argc, char** argv) {
  workshop::listen_address address;
  chat::session_limits limits;
  CLI::App app{"Lesson 03: a chat server; each line a client sends goes to all the others.",
               "chat_server"};
  workshop::add_listen_flags(app, address);
  chat::add_session_flags(app, limits);  // --max-line, --max-backlog, --soft-backlog...
  std::size_t max_clients = workshop::default_max_clients;
  workshop::add_max_clients_flag(app, max_clients);
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  asio::io_context io;
  chat::chat_room room;  // after io: it lets go of its sessions before their sockets' loop ends
  auto acceptor = workshop::listen_on(io, address);
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);  // last: once it is out, anyone may connect or signal
  asio::co_spawn(io, listener(std::move(acceptor), room, limits, max_clients), asio::detached);
  io.run();  // the event loop: runs until a signal stops it
}
