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
  // TODO step 1: socket.write("welcome ...\n"): deliver(welcome), then start the writer:
  //   asio::co_spawn(socket_.get_executor(),
  //                  [self = shared_from_this()] { return self->writer(); }, asio::detached);
  // TODO step 2: sockets.push(socket): join the room (room_.join(shared_from_this())), then
  //              start the reader the same way as the writer.
  (void)welcome;
}

void chat_session::deliver(const message& line) {
  if (!socket_.is_open()) return;  // already dropped: the reader leaves the room soon
  // TODO step 1: push `line` into outbox_; if the outbox was empty before, the writer may be
  //              asleep on wake_writer_: wake it with wake_writer_.cancel_one().
  // TODO step 5: when outbox_.push refuses the line, log why (workshop::log), set the socket
  //              to reset on close (socket_.set_option(asio::socket_base::linger{true, 0},
  //              error): the kernel then frees what it still holds for this client), and stop().
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
  // TODO step 2: loop: read a chunk with
  //   auto [error, count] = co_await socket_.async_read_some(asio::buffer(chunk),
  //                                                          use_tuple);
  //   (chunk: a std::vector<char> of 16 KiB), stop on error, and hand the chunk to
  //   on_line_(*this, make_message(...)): the Node.js way, one chunk at a time.
  // TODO step 3: after the loop (end-of-file, reset, or stop()): leave the room
  //              (room_.leave(shared_from_this())), stop(), and log that the client left.
  // TODO step 4: hand each chunk to framer_.push(...) instead (line_framer.cpp), which passes
  //              on whole lines only; when it returns false, log it and end the loop.
  co_return;
}

// One outstanding write per socket: the writer alone writes, and sends everything queued
// since its last write in one gather write.
asio::awaitable<void> chat_session::writer() {
  // TODO step 1: while the socket is open: if outbox_ is empty, sleep until deliver() wakes
  //   you: co_await wake_writer_.async_wait(use_tuple); otherwise take_all()
  //   from the outbox, make one asio::const_buffer per line (asio::buffer(*line)), send them
  //   all with one co_await asio::async_write(socket_, buffers, use_tuple),
  //   and tell the outbox they were written(). On a write error, leave the loop and stop().
  co_return;
}

}  // namespace chat
