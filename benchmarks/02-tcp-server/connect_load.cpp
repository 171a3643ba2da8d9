// Lesson 02's load tool: short connections per second against a server that greets and hangs up
// (tcp_server, or the talk's Node.js original). Each of T threads connects, reads to end-of-file,
// checks it got exactly the greeting, closes, and again. Plain blocking sockets: the client should
// cost less than the server it measures.
//
//   connect_load --port N [--threads T] [--seconds S] [--expect TEXT]
//   {"connections_per_second":12345,"completed":...,"failed":...,"threads":4,"seconds":3}
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "workshop/program.hpp"

using namespace std::chrono_literals;

namespace {

// Connects to 127.0.0.1:port and reads until the server closes; what it sent, or nothing.
std::optional<std::string> greeting_from(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<std::string> got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string bytes;
    char chunk[256];
    ssize_t n = 0;
    while ((n = ::recv(fd, chunk, sizeof chunk, 0)) > 0) bytes.append(chunk, std::size_t(n));
    if (n == 0) got = std::move(bytes);  // end-of-file, not an error
  }
  ::close(fd);
  return got;
}

struct counters {
  std::atomic<bool> counting{false};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> failed{0};
};

void connect_again_and_again(std::uint16_t port, const std::string& expected, counters& count) {
  while (!count.done) {
    const auto got = greeting_from(port);
    if (!count.counting) continue;
    (got && *got == expected ? count.completed : count.failed) += 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Short connections per second against a greet-and-close server.", "connect_load"};
  std::uint16_t port = 0;
  int threads = 4;
  double seconds = 3;
  std::string expected = "Hello\nworld\n";
  app.add_option("--port", port, "where to connect (127.0.0.1)")->required();
  app.add_option("--threads", threads, "connections in flight at once")->capture_default_str();
  app.add_option("--seconds", seconds, "how long to count, after 0.5 s of warm-up")
      ->capture_default_str();
  app.add_option("--expect", expected, "what each connection must receive before end-of-file");
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  counters count;
  std::vector<std::thread> clients;
  for (int i = 0; i < threads; ++i)
    clients.emplace_back([&] { connect_again_and_again(port, expected, count); });
  std::this_thread::sleep_for(500ms);
  count.counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  count.counting = false;
  count.done = true;
  for (auto& client : clients) client.join();

  std::printf(
      "{\"connections_per_second\":%.0f,\"completed\":%llu,\"failed\":%llu,\"threads\":%d,"
      "\"seconds\":%g}\n",
      static_cast<double>(count.completed) / seconds,
      static_cast<unsigned long long>(count.completed.load()),
      static_cast<unsigned long long>(count.failed.load()), threads, seconds);
  return 0;
}
