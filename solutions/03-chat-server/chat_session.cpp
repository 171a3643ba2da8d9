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
  deliver(welcome);                // socket.write("welcome ...\n")
  room_.join(shared_from_this());  // sockets.push(socket)
  workshop::log("client ", peer_, " joined (", room_.size(), " in the room)");
  asio::co_spawn(
      socket_.get_executor(), [self = shared_from_this()] { return self->reader(); },
      asio::detached);
  asio::co_spawn(
      socket_.get_executor(), [self = shared_from_this()] { return self->writer(); },
      asio::detached);
}

void chat_session::deliver(const message& line) {
  if (!socket_.is_open()) return;  // already dropped: the reader leaves the room soon
  const bool writer_sleeps = outbox_.empty();
  if (!outbox_.push(line)) {
    workshop::log("dropping client ", peer_, ": it is not reading (", outbox_.bytes(),
                  " bytes queued, --max-backlog ", limits_.max_backlog, ")");
    // socket.destroy(), not end(): a reset also frees what the kernel still holds for this
    // client (up to megabytes), where a plain close would go on trying to deliver it.
    std::error_code ignored;
    socket_.set_option(asio::socket_base::linger{true, 0}, ignored);
    stop();
    return;
  }
  if (writer_sleeps) wake_writer_.cancel_one();
}

void chat_session::stop() {
  std::error_code ignored;
  socket_.close(ignored);  // the reader's read fails, so it leaves the room
  wake_writer_.cancel();
}

// socket.on('data'): TCP delivers bytes, not lines. A chunk can hold half a line or three;
// keep what has arrived and hand on only complete lines.
asio::awaitable<void> chat_session::reader() {
  std::vector<char> chunk(16 * 1024);  // on the heap: coroutine frames stay small
  const auto hand_on = [this](std::string line) { on_line_(*this, make_message(std::move(line))); };
  while (true) {
    auto [error, count] =
        co_await socket_.async_read_some(asio::buffer(chunk), use_tuple);
    if (error) break;  // end-of-file, a reset, or stop() closed the socket
    if (!framer_.push({chunk.data(), count}, hand_on)) {
      workshop::log("dropping client ", peer_, ": a line over --max-line ", limits_.max_line,
                    " bytes");
      break;
    }
  }
  room_.leave(shared_from_this());  // socket.on('close'): sockets.splice(...)
  stop();
  workshop::log("client ", peer_, " left (", room_.size(), " in the room)");
}

// One outstanding write per socket: the writer alone writes, and sends everything queued
// since its last write in one gather write.
asio::awaitable<void> chat_session::writer() {
  while (socket_.is_open()) {
    if (outbox_.empty()) {
      co_await wake_writer_.async_wait(use_tuple);  // deliver() or stop() wakes it
      continue;
    }
    const std::vector<message> batch = outbox_.take_all();
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch.size());
    for (const auto& line : batch) buffers.push_back(asio::buffer(*line));
    auto [error, sent] = co_await asio::async_write(socket_, buffers, use_tuple);
    if (error) break;
    outbox_.written(batch);
  }
  stop();
}

}  // namespace chat
