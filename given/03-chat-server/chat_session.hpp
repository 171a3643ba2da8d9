#pragma once
// One connected client: a reader that cuts the byte stream into lines, and a writer that
// sends its outbox with one outstanding write at a time, and runs only while there is
// something to send (an idle client costs a socket and a few hundred bytes, no coroutine).
//
//   socket.write("welcome ...\n");                 // start(welcome)
//   socket.on('data', function(data){ ... });      // reader(): complete lines -> on_line
//   sockets[i].write(data);                        // deliver(): queue it for the writer
//   socket.on('close', ...)                        // the reader ends: leave the room
#include <cstddef>
#include <functional>
#include <string>

#include "chat_room.hpp"
#include "line_framer.hpp"
#include "outbox.hpp"
#include "workshop/program.hpp"

namespace chat {

// A client may fall behind by up to soft_backlog bytes for as long as it likes, and further, up
// to max_backlog, for soft_backlog_ms (outbox.hpp). So a burst many times the soft limit passes
// a client that reads, while a client that stopped holds at most max_backlog, and more than
// soft_backlog only until the first line after soft_backlog_ms. 8 MiB is twice what the kernel
// may already hold for one socket (up to 4 MiB of send buffer). The worst case is --max-clients
// stopped clients at once: lower the limits on a small machine.
struct session_limits {
  std::size_t max_line = 64 * 1024;           // --max-line: more before a '\n' drops the sender
  std::size_t max_backlog = 8 * 1024 * 1024;  // --max-backlog: more queued output drops at once
  std::size_t soft_backlog = 1024 * 1024;     // --soft-backlog: more, for too long, drops too
  std::size_t soft_backlog_ms = 5000;         // --soft-backlog-ms: how long is too long
};

class chat_session;

// What a session does with the complete lines (each with its '\n') of one read from its
// client, as one message. Lesson 03 broadcasts it to the room; lesson 04 publishes it.
using line_handler = std::function<void(chat_session& author, const message& line)>;

class chat_session : public participant, public std::enable_shared_from_this<chat_session> {
 public:
  // A session for a connected socket; it does nothing until start().
  chat_session(asio::ip::tcp::socket socket, chat_room& room, std::string user_id,
               session_limits limits, line_handler on_line);

  // Once it returns: `welcome` is on its way to the client, ahead of every other line for it;
  // the client is in the room (every later broadcast reaches it); and what it sends is read.
  void start(const message& welcome);
  const std::string& user_id() const override { return user_id_; }  // this client's id
  // Never waits for the client. Once it returns, either `line` is on its way, to arrive whole
  // and once after every line delivered before it; or the outbox refused it (past
  // --max-backlog, or past --soft-backlog for too long), the log says which limit, and the
  // client is being dropped (its reader leaves the room, not this call).
  void deliver(const message& line) override;
  // Ends the session: closes the socket, so the reader's wait and any write fail; the reader
  // then leaves the room.
  void stop();
  const std::string& peer() const { return peer_; }  // "HOST:PORT" of the client, for logs

 private:
  asio::awaitable<void> reader();  // lines in, handed to on_line_ a read at a time
  // The outbox out, one gather write at a time, until it is empty; its first `already_sent`
  // bytes are not sent again (flush() wrote them; 0 when nothing was written yet).
  asio::awaitable<void> writer(std::size_t already_sent);
  // At the end of a turn of the event loop: writes what the outbox holds at once, and starts
  // the writer only for what the kernel did not take (the lesson's last step).
  void flush();
  // Drops this client, whose outbox refused a line: logs which limit, resets the connection.
  void drop_for_backlog(outbox::verdict verdict);

  asio::ip::tcp::socket socket_;
  chat_room& room_;
  std::string user_id_;
  std::string peer_;
  session_limits limits_;
  line_handler on_line_;
  line_framer framer_;  // the bytes read so far, cut into complete lines
  outbox outbox_;
  bool writing_ = false;    // a writer runs: deliver() only queues, the writer takes it too
  bool flush_due_ = false;  // flush() runs at the end of this turn: deliver() only queues
};

}  // namespace chat
