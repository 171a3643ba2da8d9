#pragma once
// A small Redis client for the workshop: hiredis (0.14) parses the replies and formats the
// commands, Asio owns the socket, so Redis runs on the same io_context as the chat's clients.
// Provided: students use it like Node's redis client, with coroutines, and never edit it.
// lessons/04-distributed-chat/TOOLBOX.md lists what it offers.
//
// Each connection connects, and whenever it is lost reconnects with a growing delay
// (100 ms doubling up to 1 s), logging every transition on stderr ("redis: connected ...",
// "redis: lost (...), retrying in N ms"). A subscriber subscribes again after each reconnection.
// A connection with a health check (check_health) also counts a Redis that stops answering as
// lost: a partition or a hung host sends no FIN and no reset, only silence.
#include <asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "workshop/host_port.hpp"

struct redisReader;

namespace redis {

// Where Redis listens, and who we are to it.
struct address : workshop::host_port {
  std::string user;      // for AUTH (empty: Redis's "default" user)
  std::string password;  // AUTH after every connect (empty: no AUTH)
};

// "HOST:PORT" or "redis://[USER:PASSWORD@]HOST:PORT" (USER may be empty: "redis://:pw@h:6379");
// nothing when the text is neither.
std::optional<address> parse_address(std::string_view text);

// How a connection notices a Redis that has gone silent. Zero: it does not look.
struct health_check {
  std::chrono::milliseconds interval{0};  // PING after this long without a byte from Redis
  std::chrono::milliseconds deadline{0};  // no reply this long after the PING: the link is dead
};

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
  silent,             // Redis did not answer a PING (or a connect) within the deadline
  auth_refused,       // Redis refused the user and password given in the address
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
  // From the next connection on: PING Redis when it has been quiet for `check.interval`, and
  // count the connection as lost (and connect again) when the reply does not come within
  // `check.deadline`; a connect that takes longer than both is given up too. TCP keepalive
  // probes an idle connection after both as well: it keeps the path's NAT and firewall
  // entries alive, and lets the kernel notice a vanished host by itself.
  void check_health(health_check check) { check_ = check; }

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
  asio::awaitable<void> watch_silence(std::uint64_t generation);  // the health check
  static bool is_pong(const reply& answer);
  void keep_alive();  // TCP keepalive, at the health check's pace when there is one

  asio::any_io_executor executor_;
  address where_;
  std::string role_;  // "publisher" or "subscriber", for the logs
  asio::ip::tcp::socket socket_;
  asio::steady_timer retry_timer_;
  asio::steady_timer write_wakeup_;  // the writer sleeps on it until there is something to send
  asio::steady_timer ready_signal_;  // wait_ready() sleeps on it until the next connection
  asio::steady_timer health_timer_;  // the health check sleeps on it; bytes from Redis wake it
  std::unique_ptr<redisReader, void (*)(redisReader*)> parser_;
  std::string outgoing_;
  std::string name_;
  health_check check_;
  std::chrono::steady_clock::time_point last_heard_;  // the last bytes from Redis
  bool silent_ = false;              // this connection was dropped for not answering
  std::size_t pings_due_ = 0;        // PINGs sent and not answered yet
  std::size_t replies_to_skip_ = 0;  // the replies to our own AUTH and CLIENT SETNAME
  bool auth_pending_ = false;        // the next skipped reply answers AUTH
  std::uint64_t generation_ = 0;     // one per connection: a writer from an old one stops
  bool connected_ = false;
  bool ready_ = false;
  bool answered_ = false;  // Redis sent something on this connection
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
  // One command, its words as arguments: co_await execute_one("SET", key, value).
  // (Spelled as a braced list inside the co_await, the same call trips g++ 12: "error: array
  // used as initializer" at the function's closing brace. This overload builds the list here.)
  template <typename... Words>
  asio::awaitable<std::pair<std::error_code, std::vector<reply>>> execute_one(Words&&... words) {
    return execute(std::vector<command>{command{std::string(std::forward<Words>(words))...}});
  }

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
