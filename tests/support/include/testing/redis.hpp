#pragma once
// A real Redis for tests (lesson 04): a redis-server of its own on a free loopback port, no
// persistence, that a test can kill and start again on the same port; and a raw connection
// that speaks Redis's protocol (RESP) over a plain socket, to publish and to listen in.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "testing/workshop_test.hpp"

namespace testing {

class redis_server {
 public:
  // Starts `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no` on a free port
  // and waits until it answers PING. Fails the test (saying how to install it) if it is missing.
  static redis_server start();
  // The same with `requirepass`: clients must AUTH with `password` first.
  static redis_server start_with_password(std::string password);
  redis_server(redis_server&& other) noexcept;
  redis_server& operator=(redis_server&&) = delete;
  ~redis_server();  // stops it

  std::uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT", for --redis
  void kill();                  // SIGKILL, as if it crashed; waits until it is gone
  void restart();               // starts it again on the same port, empty
  // SIGSTOP: it still holds its port and the kernel still accepts and acknowledges, but it
  // answers nothing, as a Redis behind a partition or on a hung host. resume() is SIGCONT.
  void pause();
  void resume();

 private:
  redis_server() = default;
  void launch();
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_path_;
  std::string password_;
};

// One reply in RESP.
struct resp {
  char type = '_';             // '+' status, '-' error, ':' integer, '$' string, '*' array
  bool nil = false;            // a nil string or array
  std::string text;            // status, error, string
  long long integer = 0;       // integer
  std::vector<resp> elements;  // array
};

// A plain TCP connection to Redis that speaks RESP (no hiredis in the tests).
class redis_connection {
 public:
  static redis_connection connect(std::uint16_t port, std::string name = "redis client");
  // Sends one command and reads its reply. Fails the test if none comes within `timeout`.
  resp command(const std::vector<std::string>& words, ms timeout = 3000ms);
  long long publish(const std::string& channel, const std::string& payload);
  // SUBSCRIBE channel, and waits for Redis to confirm it.
  void subscribe(const std::string& channel);
  // The payload of the next message on a subscribed channel; nothing before the deadline.
  std::optional<std::string> next_message(ms timeout);

 private:
  explicit redis_connection(client connection) : connection_{std::move(connection)} {}
  std::optional<resp> read_reply(ms timeout);
  client connection_;
};

// RESP bytes for a command: *N\r\n$len\r\nword\r\n...
std::string resp_command(const std::vector<std::string>& words);

// Polls Redis (up to `within`) until `channel` has at least `count` subscribers; fails with
// `hint` otherwise.
void wait_for_subscribers(std::uint16_t redis_port, const std::string& channel, int count,
                          ms within, const std::string& hint);
// Polls CLIENT LIST (up to `within`) until a connection named `name` is there.
void wait_for_client_named(std::uint16_t redis_port, const std::string& name, ms within,
                           const std::string& hint);

}  // namespace testing
