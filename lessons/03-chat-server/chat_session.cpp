#include "chat_session.hpp"

#include <utility>

namespace chat {

using asio::use_awaitable;
using workshop::use_tuple;

namespace {

std::string peer_of(const asio::ip::tcp::socket& socket) {
  std::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  return error ? std::string{"(gone)"} : workshop::to_string(endpoint);
}

}  // namespace

chat_session::chat_session(asio::ip::tcp::socket socket, chat_room& room, std::string user_id,
                           session_limits limits, line_handler on_line)
    : socket_{std::move(socket)},
      wake_writer_{socket_.get_executor()},
      room_{room},
      user_id_{std::move(user_id)},
      peer_{peer_of(socket_)},
      limits_{limits},
      on_line_{std::move(on_line)},
      framer_{limits.max_line},
      outbox_{limits.max_backlog} {
  wake_writer_.expires_at(asio::steady_timer::time_point::max());  // sleeps until cancelled
}

void chat_session::start(const message& welcome) {
  // TODO step 1: socket.write("welcome ...\n"): deliver the welcome, then start the writer
  //              coroutine so that it keeps the session alive (README: the Asio pieces, a member
  //              coroutine). (test: "each client first gets a line starting with welcome")
  // TODO step 2: sockets.push(socket): join the room, then start the reader the same way.
  //              (test: "a line from A reaches B and C byte for byte, and never comes back to A")
  (void)welcome;
}

void chat_session::deliver(const message& line) {
  if (!socket_.is_open()) return;  // already dropped: the reader leaves the room soon
  // TODO step 1: queue `line` in the outbox, for the writer. (test: "each client first gets a line starting with welcome")
  // TODO step 2: a line may now arrive while the writer sleeps: wake it, when the outbox was
  //              empty before this line. (test: "a line from A reaches B and C byte for byte, and never comes back to A")
  // TODO step 5: Node's socket.write buffers without limit. When the outbox refuses the line,
  //              drop this client: log why, make the close a reset (the kernel then frees what
  //              it still holds for it), and stop(). Never leave the room from here: the
  //              reader does. (test: "a client that never reads is dropped past --max-backlog,
  //              the others go on")
  (void)line;
}

void chat_session::stop() {
  std::error_code ignored;
  socket_.close(ignored);  // the reader's read fails, so it leaves the room
  wake_writer_.cancel();
}

// socket.on('data'): TCP delivers bytes, not lines. A chunk can hold half a line or three;
// keep what has arrived and hand on only complete lines.
asio::awaitable<void> chat_session::reader() {
  // TODO step 2: socket.on('data'): read what arrives into a 16 KiB buffer until an error
  //              (any error ends the session), and hand each chunk to on_line_ as a message:
  //              the Node.js way, one chunk at a time. (tests: "a line from A reaches B and C byte for byte, and never comes back to A",
  //              "1,000 lines from one sender arrive in order", "200 clients sending 10 lines
  //              each: each gets exactly the others' lines")
  // TODO step 3: socket.on('close'): after the loop, whatever ended it, leave the room, stop(),
  //              and log that the client left. (tests: "a client that hangs up is closed and
  //              forgotten", "clients that disconnect during traffic do not disturb the
  //              others", "clients that come and go are forgotten: memory does not grow with
  //              them")
  // TODO step 4: hand each chunk to framer_ instead (line_framer.cpp), which passes on whole
  //              lines only; when it refuses (a line over --max-line), log it and end the loop.
  //              (tests: "two senders' long lines sent in tiny fragments never interleave", "a
  //              line over --max-line drops only its sender")
  co_return;
}

// One outstanding write per socket: the writer alone writes, and sends everything queued
// since its last write in one gather write.
asio::awaitable<void> chat_session::writer() {
  // TODO step 1: one outstanding write per socket. While the socket is open: sleep on
  //              wake_writer_ while the outbox is empty; else take everything queued, send it in
  //              one gather write, and tell the outbox it was written. A write error ends the
  //              loop; then stop(). (test: "each client first gets a line starting with welcome")
  co_return;
}

}  // namespace chat
