#pragma once
// A small Redis client for the workshop: hiredis (0.14) parses the replies and formats the
// commands, Asio owns the socket, so Redis runs on the same io_context as the chat's clients.
// Provided: students use it like Node's redis client, with coroutines, and never edit it.
// lessons/04-distributed-chat/distributed_chat.cpp shows every call it offers.
//
// Each connection connects, and whenever it is lost reconnects with a growing delay
// (100 ms doubling up to 1 s), logging every transition on stderr ("redis: connected ...",
// "redis: lost (...), retrying in N ms"). A subscriber subscribes again after each reconnection.
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "workshop/host_port.hpp"

struct redisReader;

namespace redis {

// Where Redis listens: "HOST:PORT", read by workshop::parse_host_port.
using address = workshop::host_port;

// One reply, as Redis sent it.
struct reply {
  enum class kind { nil, status, error, integer, string, array };
  kind type = kind::nil;
  std::string text;             // a status, an error or a string
  long long integer = 0;        // an integer
  std::vector<reply> elements;  // an array's elements
};

// A command and its arguments: {"PUBLISH", "chat channel", "{...}"}. Binary-safe.
using command = std::vector<std::string>;

// The command in Redis's wire protocol (RESP), through hiredis's formatter.
std::string format(const command& words);

// Why a command got no reply.
enum class error {
  not_connected = 1,  // Redis is away right now: nothing was sent
  connection_lost,    // the connection broke before the reply came: it may or may not have run
  protocol,           // Redis sent bytes hiredis could not parse
};
std::error_code make_error_code(error value);

// The part both kinds of connection share: connect, read replies, reconnect with backoff.
class connection : public std::enable_shared_from_this<connection> {
 public:
  virtual ~connection();
  void start();                                  // connects now, and again whenever lost
  bool ready() const { return ready_; }          // connected (and resubscribed) right now
  asio::awaitable<void> wait_ready();            // returns once connected (at once if it is)
  void on_lost(std::function<void()> callback);  // called each time the connection is lost
  // Names the connection in Redis's CLIENT LIST (CLIENT SETNAME, no spaces), from the next
  // connection on: tests and operators can see who is connected.
  void set_name(std::string name) { name_ = std::move(name); }

 protected:
  connection(asio::any_io_executor executor, address where, std::string role);
  void send(std::string bytes);  // queues bytes for Redis (written in order, one write at a time)
  virtual void handle_connected() = 0;      // just connected: resubscribe, etc.
  virtual void handle_reply(reply) = 0;     // one complete reply
  virtual void handle_lost(error why) = 0;  // the connection is gone
  void become_ready();                      // derived classes call it once the connection is usable
  bool connected() const { return connected_; }
  const std::string& role() const { return role_; }

 private:
  asio::awaitable<void> keep_connected();
  asio::awaitable<std::error_code> serve_connection();  // from connected until it breaks
  asio::awaitable<std::error_code> connect_once();
  asio::awaitable<std::error_code> read_replies();
  asio::awaitable<void> write_outgoing(std::uint64_t generation);

  asio::any_io_executor executor_;
  address where_;
  std::string role_;  // "publisher" or "subscriber", for the logs
  asio::ip::tcp::socket socket_;
  asio::steady_timer retry_timer_;
  asio::steady_timer write_wakeup_;  // the writer sleeps on it until there is something to send
  asio::steady_timer ready_signal_;  // wait_ready() sleeps on it until the next connection
  std::unique_ptr<redisReader, void (*)(redisReader*)> parser_;
  std::string outgoing_;
  std::string name_;
  std::size_t replies_to_skip_ = 0;  // the reply to our own CLIENT SETNAME
  std::uint64_t generation_ = 0;     // one per connection: a writer from an old one stops
  bool connected_ = false;
  bool ready_ = false;
  std::vector<std::function<void()>> lost_callbacks_;
};

// A connection for commands: they are pipelined, and each caller gets its own replies.
class client : public connection {
 public:
  static std::shared_ptr<client> create(asio::any_io_executor executor, address where,
                                        std::string role = "publisher");
  // Sends `commands` in one write and waits for their replies, in order. Fails at once with
  // error::not_connected while Redis is away: the caller decides whether to keep and retry.
  asio::awaitable<std::pair<std::error_code, std::vector<reply>>> execute(
      std::vector<command> commands);

 private:
  using connection::connection;
  struct waiter;
  void handle_connected() override;
  void handle_reply(reply answer) override;
  void handle_lost(error why) override;
  std::deque<std::shared_ptr<waiter>> waiting_;  // callers waiting for replies, oldest first
};

// A connection that only listens: a subscribed connection may not run other commands.
class subscriber : public connection {
 public:
  using message_handler = std::function<void(const std::string& message)>;
  static std::shared_ptr<subscriber> create(asio::any_io_executor executor, address where,
                                            std::string role = "subscriber");
  // subClient.subscribe(channel); subClient.on('message', ...): calls `on_message` with each
  // message published on `channel`, from now on and again after every reconnection.
  void subscribe(std::string channel, message_handler on_message);

 private:
  using connection::connection;
  void handle_connected() override;
  void handle_reply(reply answer) override;
  void handle_lost(error) override { confirmations_due_ = 0; }
  std::vector<std::pair<std::string, message_handler>> channels_;
  std::size_t confirmations_due_ = 0;  // SUBSCRIBE replies still to come before we are ready
};

}  // namespace redis

template <>
struct std::is_error_code_enum<redis::error> : std::true_type {};
