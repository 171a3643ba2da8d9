#include "chat_session.hpp"

#include <algorithm>
#include <utility>

namespace chat {

using workshop::use_tuple;

// sockets[i].write(data): the line joins this client's outbox, and leaves after what is
// already there.
void chat_session::deliver(const message& line) {
  if (!socket_.is_open()) return;  // already dropped: the reader leaves the room soon
  const auto verdict = outbox_.push(line);
  if (verdict != outbox::verdict::queued) {
    drop_for_backlog(verdict);
    return;
  }
  if (writing_ || flush_due_) return;  // the line goes with the others already waiting
  // As fast as Node.js: write at the end of this turn of the event loop, not now. The other
  // reads ready in this turn may bring this client more lines, and they all go in one write.
  flush_due_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->flush(); });
}

// One outstanding write per socket: the writer alone writes, and sends everything queued
// since its last write in one gather write; when the outbox is empty it ends.
asio::awaitable<void> chat_session::writer(std::size_t already_sent) {
  while (!outbox_.empty()) {
    const std::vector<message> batch = outbox_.take_all();  // alive until the write completes
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(batch.size());
    for (const auto& lines : batch) buffers.push_back(asio::buffer(*lines));
    for (auto& buffer : buffers) {  // flush() wrote that much already
      const std::size_t skipped = std::min(already_sent, buffer.size());
      buffer += skipped;
      already_sent -= skipped;
    }
    auto [error, sent] = co_await asio::async_write(socket_, buffers, use_tuple);
    if (error) {
      stop();
      break;
    }
    outbox_.written(batch);
  }
  writing_ = false;
}

// The end of the turn: write everything queued at once, without waiting, as Node's
// socket.write() does. Mostly the kernel takes all of it and no writer is needed; what it
// does not take, the writer sends, from where this write stopped.
void chat_session::flush() {
  flush_due_ = false;
  if (!socket_.is_open() || outbox_.empty()) return;
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(outbox_.queued().size());
  for (const auto& lines : outbox_.queued()) buffers.push_back(asio::buffer(*lines));
  std::error_code would_block;  // or a real error: the writer meets it again, and stops
  const std::size_t sent = socket_.write_some(buffers, would_block);
  if (sent == asio::buffer_size(buffers)) {
    outbox_.written(outbox_.take_all());
    return;
  }
  writing_ = true;
  asio::co_spawn(
      socket_.get_executor(), [self = shared_from_this(), sent] { return self->writer(sent); },
      asio::detached);
}

// socket.on('data'): TCP delivers bytes, not lines. A read can hold half a line or three;
// keep what has arrived and hand on the complete lines, all of one read as one message.
asio::awaitable<void> chat_session::reader() {
  const auto hand_on = [this](std::string lines) {
    on_line_(*this, make_message(std::move(lines)));
  };
  // A busy sender (its last three reads within 4 ms) is read at most once a millisecond: what
  // it sends meanwhile gathers in the kernel and goes on in one read, one message, one write per
  // recipient (a write costs a system call however few lines it carries). A sender that was
  // quiet, or sent only a line or two, is read at once.
  using clock = std::chrono::steady_clock;
  constexpr auto busy_gap = std::chrono::milliseconds{1};
  asio::steady_timer gather{socket_.get_executor()};
  clock::time_point reads[3] = {};  // the last three reads' times, oldest first
  while (true) {
    if (reads[2] - reads[0] < 4 * busy_gap && clock::now() - reads[2] < busy_gap) {
      gather.expires_at(reads[2] + busy_gap);
      co_await gather.async_wait(use_tuple);
    }
    auto [error, bytes] = co_await workshop::read_some_shared(socket_);
    if (error) break;  // end-of-file, a reset, or stop() closed the socket
    reads[0] = reads[1];
    reads[1] = reads[2];
    reads[2] = clock::now();
    if (!framer_.push(bytes, hand_on)) {
      workshop::log("dropping client ", peer_, ": a line over --max-line ", limits_.max_line,
                    " bytes");
      break;
    }
  }
  room_.leave(shared_from_this());  // socket.on('close'): sockets.splice(...)
  stop();
  workshop::log("client ", peer_, " left (", room_.size(), " in the room)");
}

// Node's socket.write() buffers without limit; ours does not. The outbox refused a line: the
// client is dropped, and the log says which limit it went past.
void chat_session::drop_for_backlog(outbox::verdict verdict) {
  if (verdict == outbox::verdict::over_hard) {
    workshop::log("dropping client ", peer_, ": a line would take it past --max-backlog ",
                  limits_.max_backlog, " bytes (", outbox_.bytes(), " bytes queued)");
  } else {
    workshop::log("dropping client ", peer_, ": past --soft-backlog ", limits_.soft_backlog,
                  " bytes for --soft-backlog-ms ", limits_.soft_backlog_ms, " (", outbox_.bytes(),
                  " bytes queued)");
  }
  // socket.destroy(), not end(): a reset also frees what the kernel still holds for this
  // client (up to megabytes), where a plain close would go on trying to deliver it.
  std::error_code ignored;
  socket_.set_option(asio::socket_base::linger{true, 0}, ignored);
  stop();  // not leave(): a broadcast may be walking the room; the reader leaves it
}

void chat_session::stop() {
  std::error_code ignored;
  socket_.close(ignored);  // the reader's wait and any write fail: the reader leaves the room
}

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
      room_{room},
      user_id_{std::move(user_id)},
      peer_{peer_of(socket_)},
      limits_{limits},
      on_line_{std::move(on_line)},
      framer_{limits.max_line},
      outbox_{limits.max_backlog, limits.soft_backlog,
              std::chrono::milliseconds{limits.soft_backlog_ms}} {
  // No Nagle: the writer batches already (one gather write per read). Nagle's algorithm would
  // hold a write's last part until the client acknowledges the one before, and a client that
  // only reads acknowledges late (delayed ACK, up to 40 ms): a burst would stall that long.
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay{true}, ignored);
  // Non-blocking: flush() writes at once (step 6), and must return rather than wait.
  socket_.non_blocking(true, ignored);
}

void chat_session::start(const message& welcome) {
  deliver(welcome);                // socket.write("welcome ...\n")
  room_.join(shared_from_this());  // sockets.push(socket)
  workshop::log("client ", peer_, " joined (", room_.size(), " in the room)");
  asio::co_spawn(
      socket_.get_executor(), [self = shared_from_this()] { return self->reader(); },
      asio::detached);
}

}  // namespace chat
