// write_floor: what one write(2) to a loopback TCP socket costs in CPU, on this machine.
// A chat server's burst throughput is bounded by its system calls, not by its own code: on
// loopback the kernel does the receiver's TCP work in the sender's time, so even a server that
// does nothing else pays this much per write. Measured for writes of 1, 16, 64 and 256 lines of
// 64 bytes, to a peer (another thread, on another core when there are two) that reads all the
// time. Prints one JSON line:
//
//   write_floor [--seconds 0.5] [--rounds 3] [--nagle]
//   {"writer_cpu":0,"reader_cpu":1,"nodelay":true,"cases":[{"lines":1,"bytes":64,
//    "writes":...,"us_per_write":5.4,"us_per_line":5.4}, ...]}
//
// The CPU time is the writing thread's own (CLOCK_THREAD_CPUTIME_ID), median of the rounds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t line_bytes = 64;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "write_floor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double wall_seconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// The CPUs this process may run on, in order (the caller may have pinned it already).
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

void pin_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// A connected pair on 127.0.0.1: {the writer's end, the reader's end}.
std::pair<int, int> loopback_pair() {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind");
  if (listen(listener, 1) != 0) fail("listen");
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    fail("getsockname");
  const int writer = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(writer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("connect");
  const int reader = accept(listener, nullptr, nullptr);
  if (reader < 0) fail("accept");
  close(listener);
  return {writer, reader};
}

// The peer: reads everything, as a client that keeps up does, until end of file.
void read_all(int fd) {
  std::vector<char> chunk(256 * 1024);
  while (true) {
    const auto got = read(fd, chunk.data(), chunk.size());
    if (got == 0 || (got < 0 && errno != EINTR)) return;
  }
}

struct round_result {
  double cpu_seconds = 0;
  long long calls = 0;   // write(2) calls, partial writes included
  long long writes = 0;  // whole buffers sent
};

// Writes `buffer` again and again for `seconds` of wall time.
round_result write_for(int fd, const std::string& buffer, double seconds) {
  round_result result;
  const double cpu_start = thread_cpu_seconds();
  const double until = wall_seconds() + seconds;
  while (wall_seconds() < until) {
    for (int i = 0; i < 64; ++i) {  // the clock is read every 64 writes, not every one
      std::size_t sent = 0;
      while (sent < buffer.size()) {
        const auto n = write(fd, buffer.data() + sent, buffer.size() - sent);
        ++result.calls;
        if (n < 0) {
          if (errno == EINTR) continue;
          fail("write");
        }
        sent += static_cast<std::size_t>(n);
      }
      ++result.writes;
    }
  }
  result.cpu_seconds = thread_cpu_seconds() - cpu_start;
  return result;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void usage_and_exit(const char* program, int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: %s [--seconds S per round and size, default 0.5] [--rounds N, default 3] "
               "[--nagle: leave Nagle's algorithm on, as a socket starts]\n",
               program);
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.5;
  int rounds = 3;
  bool nodelay = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--nagle") {
      nodelay = false;
    } else if (arg == "--help" || arg == "-h") {
      usage_and_exit(argv[0], 0);
    } else {
      usage_and_exit(argv[0], 2);
    }
  }
  if (!(seconds > 0)) usage_and_exit(argv[0], 2);

  const auto cpus = allowed_cpus();
  const int writer_cpu = cpus.empty() ? -1 : cpus[0];
  const int reader_cpu = cpus.size() >= 2 ? cpus[1] : writer_cpu;
  if (writer_cpu >= 0) pin_this_thread(writer_cpu);

  const auto [writer, reader] = loopback_pair();
  const int on = nodelay ? 1 : 0;
  setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  std::thread peer{[reader = reader, reader_cpu] {
    if (reader_cpu >= 0) pin_this_thread(reader_cpu);
    read_all(reader);
  }};

  const std::string line = std::string(line_bytes - 1, 'x') + '\n';
  std::string cases;
  for (const int lines : {1, 16, 64, 256}) {
    std::string buffer;
    for (int i = 0; i < lines; ++i) buffer += line;
    write_for(writer, buffer, seconds / 5);  // warm up: buffers, caches, the peer awake
    std::vector<double> per_write;
    long long writes = 0, calls = 0;
    for (int round = 0; round < rounds; ++round) {
      const auto result = write_for(writer, buffer, seconds);
      per_write.push_back(result.cpu_seconds * 1e6 / static_cast<double>(result.writes));
      writes += result.writes;
      calls += result.calls;
    }
    const double us = median(per_write);
    char entry[256];
    std::snprintf(entry, sizeof entry,
                  "%s{\"lines\":%d,\"bytes\":%zu,\"writes\":%lld,\"calls\":%lld,"
                  "\"us_per_write\":%.3f,\"us_per_line\":%.4f}",
                  cases.empty() ? "" : ",", lines, buffer.size(), writes, calls, us,
                  us / lines);
    cases += entry;
  }
  shutdown(writer, SHUT_WR);
  peer.join();
  close(writer);
  close(reader);
  std::printf("{\"writer_cpu\":%d,\"reader_cpu\":%d,\"nodelay\":%s,\"seconds\":%g,"
              "\"rounds\":%d,\"cases\":[%s]}\n",
              writer_cpu, reader_cpu, nodelay ? "true" : "false", seconds, rounds,
              cases.c_str());
}
