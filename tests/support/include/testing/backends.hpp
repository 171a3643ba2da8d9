#pragma once
// Small backends the reverse proxy's tests put behind it: plain sockets and threads, started
// and stopped by the test itself, so every test owns its whole little system.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "testing/workshop_test.hpp"

namespace testing {

enum class behaviour {
  echo,              // sends back every byte; at end-of-file, half-closes too
  named,             // "NAME\n" first, then echo; at end-of-file "NAME: bye\n", then closes
  greet_then_fin,    // "NAME\n", then its FIN at once; keeps reading (and recording) to the end
  greet_then_reset,  // "NAME\n", then after 200 ms a reset (RST)
  flood,             // sends flood_bytes of a known pattern as fast as it is let, then closes
};

// The byte at `offset` of the flood pattern (period 251: a prime, so no buffer size hides a
// slip).
inline char flood_byte(std::size_t offset) {
  return static_cast<char>(offset % 251);
}

class test_backend {
 public:
  // Listens on 127.0.0.1:port (0: any free port) and serves each connection on its own thread.
  static std::unique_ptr<test_backend> start(behaviour kind, std::string name = "backend",
                                             std::uint16_t port = 0);
  ~test_backend();  // stops: no more accepts, every connection shut, every thread joined

  std::uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  bool wait_connections(int count, ms timeout);              // until `count` were accepted
  bool wait_ended(int count, ms timeout);                    // until `count` connections ended
  bool wait_received(const std::string& bytes, ms timeout);  // until these bytes came in
  int connections() const { return accepted_; }
  std::string received();                                 // everything read so far
  std::size_t flood_sent() const { return flood_sent_; }  // bytes the flood got out
  std::size_t flood_bytes = 64 << 20;                     // what a flood sends in all

 private:
  test_backend() = default;
  void accept_loop();
  void serve(int fd);
  void echo(int fd);
  void record(const char* bytes, std::size_t length);

  behaviour kind_ = behaviour::echo;
  std::string name_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<std::size_t> flood_sent_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int ended_ = 0;
  std::string received_;
  std::vector<int> open_fds_;
  std::vector<std::thread> workers_;
};

// A listening socket whose accept queue is full: a connection to it gets no answer at all (the
// kernel drops the SYN), which is what a backend behind a dead route looks like.
class silent_backend {
 public:
  silent_backend();
  ~silent_backend();
  std::uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int listener_ = -1;
  std::vector<int> fillers_;
  std::uint16_t port_ = 0;
};

}  // namespace testing
