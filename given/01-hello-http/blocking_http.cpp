// Given in lesson 01, to read, not to write: the same answer as hello_http, written the blocking way with the
// plain Unix C API. One thread serves one client at a time. While it sleeps between Hello and
// World (blocked), every other client waits in the kernel's accept queue: ten clients at once
// need ten delays, where hello_http needs one.
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include "hello_flags.hpp"
#include "http_head.hpp"
#include "workshop/program.hpp"

using std::chrono::milliseconds;

// The plain Unix C API's socket work, at the end of this file.
int listen_socket(const workshop::listen_address& address);  // socket(), bind(), listen()
void announce_listening(int fd);                              // the ready line
bool write_all(int fd, std::string_view bytes);
http::head_result read_head(int fd);

// One client, start to finish: this thread does nothing else until it is done.
void serve_one(int fd, milliseconds delay) {
  const auto result = read_head(fd);
  if (result.status == http::head_status::bad) {
    write_all(fd, http::error_response("400 Bad Request"));
  } else if (result.status == http::head_status::too_large) {
    write_all(fd, http::error_response("431 Request Header Fields Too Large"));
  } else if (result.status == http::head_status::complete) {
    // One request per connection. HTTP/1.0 knows no chunks: a raw body that ends at the close.
    const bool chunked = result.head.minor_version >= 1;
    const std::string head = std::string{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"} +
                             (chunked ? "Transfer-Encoding: chunked\r\n" : "") +
                             "Connection: close\r\n\r\n";
    if (!write_all(fd, head + (chunked ? "6\r\nHello\n\r\n" : "Hello\n"))) return;
    if (result.head.method == "HEAD") return;
    std::this_thread::sleep_for(delay);  // blocked: nobody else is served meanwhile
    write_all(fd, chunked ? "6\r\nWorld\n\r\n0\r\n\r\n" : "World\n");
  }
  // Our FIN first, then throw away what the client sent and we never read: closing with unread
  // bytes sends a reset, which can destroy the answer before the client reads it. (Waiting for
  // the client to close would be better, but would block everyone else meanwhile.)
  shutdown(fd, SHUT_WR);
  char unread[4096];
  while (recv(fd, unread, sizeof unread, MSG_DONTWAIT) > 0) {
  }
}

int main(int argc, char** argv) {
  workshop::listen_address address;
  const hello_settings settings =
      parse_hello_flags(argc, argv, "Lesson 01, blocking: the same answer, one client at a time.",
                        "blocking_http", address, /*many_at_once=*/false);

  const int listener = listen_socket(address);
  // SIGINT/SIGTERM: exit at once, wherever we are blocked; the kernel closes our sockets.
  std::signal(SIGINT, [](int) { _exit(0); });
  std::signal(SIGTERM, [](int) { _exit(0); });
  announce_listening(listener);

  const long idle_ms = settings.idle_timeout.count();
  const timeval idle{idle_ms / 1000, (idle_ms % 1000) * 1000};
  while (true) {
    const int client = accept(listener, nullptr, nullptr);  // blocked until someone connects
    if (client < 0) {
      workshop::log("accept failed: ", std::strerror(errno));
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(milliseconds{100});
      continue;
    }
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);  // read() gives up after it
    serve_one(client, settings.delay);
    close(client);
  }
}

// socket(), bind(), listen(): a listening socket on host:port. Exits 1 if that fails.
int listen_socket(const workshop::listen_address& address) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (const int error = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found)) {
    workshop::log("cannot listen on ", address.host, ":", port, ": ", gai_strerror(error));
    std::exit(1);
  }
  const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (fd < 0 || bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
    workshop::log("cannot listen on ", address.host, ":", port, ": ", std::strerror(errno));
    std::exit(1);
  }
  freeaddrinfo(found);
  return fd;
}

// The ready line, `listening on HOST:PORT`, with the port the kernel chose for --port 0.
void announce_listening(int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  getnameinfo(reinterpret_cast<sockaddr*>(&local), length, host, sizeof host, port, sizeof port,
              NI_NUMERICHOST | NI_NUMERICSERV);
  std::printf("listening on %s:%s\n", host, port);
  std::fflush(stdout);
}

// write() until every byte is out; false if the client is gone.
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// read() until the bytes hold a whole request head (or it is bad, or too large). A client
// that closes, or sends nothing for the idle timeout (SO_RCVTIMEO), leaves it need_more.
http::head_result read_head(int fd) {
  std::string received;
  char bytes[4096];
  while (true) {
    auto result = http::parse_request_head(received);
    if (result.status != http::head_status::need_more) return result;
    const ssize_t size = read(fd, bytes, sizeof bytes);  // blocked until bytes arrive
    if (size < 0 && errno == EINTR) continue;
    if (size <= 0) return result;
    received.append(bytes, static_cast<std::size_t>(size));
  }
}
