#include "chat_session.hpp"

#include <algorithm>
#include <utility>

namespace chat {

using workshop::use_tuple;

// sockets[i].write(data): the line joins this client's outbox, and leaves after what is
// already there.
void chat_session::deliver(const message& line) {
  if (!socket_.is_open()) return;  // already dropped: the reader leaves the room soon
  // TODO step 1: socket.write(line): the line joins what this client is still to get, and
  //              leaves after it, with one write in flight per socket; a client with nothing to
  //              send runs no coroutine. (tests: "each client first gets a line starting with
  //              welcome", "a line bigger than the socket's buffers arrives whole, and once";
  //              README: One outstanding write per socket)
  // TODO step 5: Node's socket.write buffers without limit; ours does not. A line the outbox
  //              refuses ends this client (what ending it means: drop_for_backlog, below).
  //              (test: "a client that never reads is dropped past --max-backlog, the others
  //              go on")
  // TODO step 6 (measured by the benchmark, no test sees it): a line waits for nothing but the
  //              end of this turn of the event loop, and then leaves by flush() with whatever the
  //              turn's other reads brought this client. (test that must keep passing: "a lone
  //              line in a quiet room arrives at once, not held back for more"; README: Write at
  //              once)
  (void)line;
}

// One outstanding write per socket: the writer alone writes, and sends everything queued
// since its last write in one gather write; when the outbox is empty it ends.
asio::awaitable<void> chat_session::writer(std::size_t already_sent) {
  // TODO step 1: send what the outbox holds, one write in flight per socket, until it is
  //              empty; an idle client runs no coroutine; a client whose write fails is
  //              stopped. (tests: "each client first gets a line starting with welcome", "a line
  //              bigger than the socket's buffers arrives whole, and once"; README: One
  //              outstanding write per socket)
  // TODO step 5: what a write has sent no longer counts against the backlog limits: the outbox
  //              learns of every write that completes. (test: "a reader briefly past
  //              --soft-backlog is kept and gets every line, a stopped one is dropped")
  // TODO step 6: each byte leaves once: the first already_sent bytes of what the outbox holds
  //              left with flush()'s write. (test: "a line bigger than the socket's buffers
  //              arrives whole, and once")
  (void)already_sent;
  co_return;
}

// The end of the turn (step 6): socket.write() as libuv does it, at once when nothing waits.
void chat_session::flush() {
  // TODO step 6 (measured by the benchmark, no test sees it): what the outbox holds leaves now,
  //              without waiting: most of the time the kernel takes all of it and no coroutine
  //              runs; the rest, if any, is the writer's, and no byte leaves twice. (test that
  //              must keep passing: "a line bigger than the socket's buffers arrives whole, and
  //              once"; README: Write at once)
}

// socket.on('data'): TCP delivers bytes, not lines. A read can hold half a line or three;
// keep what has arrived and hand on the complete lines, all of one read as one message.
asio::awaitable<void> chat_session::reader() {
  // TODO step 2: socket.on('data'): every byte the client sends reaches this session's line
  //              handler, a read at a time as Node does; any error ends the session; a silent
  //              client holds no read buffer (README: One message per read). (tests: "a line from A
  //              reaches B and C byte for byte, and never comes back to A", "1,000 lines from one
  //              sender arrive in order", "200 clients sending 10 lines each: each gets exactly the
  //              others' lines", "clients that disconnect during traffic do not disturb the
  //              others")
  // TODO step 3: socket.on('close'): however the reader ends, the client is out of the room, its
  //              socket closed, and the log says it left. (tests: "a client that hangs up is closed
  //              and forgotten", "clients that come and go are forgotten: memory does not grow with
  //              them")
  // TODO step 4: only whole lines reach the handler, however the bytes were cut; a line over
  //              --max-line ends this session with a log line. (tests: "two senders' long lines
  //              sent in tiny fragments never interleave", "a line over --max-line drops only its
  //              sender")
  // TODO step 6: a busy sender (its last three reads within 4 ms) is read at most once a
  //              millisecond, so that what it sends meanwhile gathers in the kernel and leaves
  //              in one read, one message, one write per recipient; a sender that was quiet is
  //              read at once. (tests: "a busy sender's lines reach each reader many to a write,
  //              not one or two a write", "a lone line in a quiet room arrives at once, not held
  //              back for more"; README: As fast as Node.js)
  co_return;
}

// A client whose outbox refused a line is dropped (step 5).
void chat_session::drop_for_backlog(outbox::verdict verdict) {
  // TODO step 5: this client is dropped: stderr names the limit the verdict says it went past,
  //              the close is a reset so the kernel frees what it holds, and the room is left by
  //              the reader, not here (a broadcast may be walking it). (tests: "a client that
  //              never reads is dropped past --max-backlog, the others go on", "a stopped reader
  //              is dropped after --soft-backlog-ms past --soft-backlog, not before"; README: The
  //              slow reader and the stopped one)
  (void)verdict;
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
  // TODO step 1: socket.write("welcome ...\n"): the welcome leaves the way every later line
  //              does. (test: "each client first gets a line starting with welcome")
  // TODO step 2: sockets.push(socket): the client is in the room, and its lines are read by a
  //              coroutine that keeps the session alive. (test: "a line from A
  //              reaches B and C byte for byte, and never comes back to A")
  (void)welcome;
}

}  // namespace chat
