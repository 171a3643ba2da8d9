// write_floor: what one write(2) to a loopback TCP socket costs in CPU, on this machine.
// A chat server's burst throughput is bounded by its system calls, not by its own code: on
// loopback the kernel does the receiver's TCP work in the sender's time, so even a server that
// does nothing else pays this much per write. Measured for writes of 1, 16, 64 and 256 lines of
// 64 bytes, round robin to --peers sockets (100: a room of 100, each write to the next
// recipient, as a fan-out does), read by one thread on another core (when there are two) that
// waits in epoll like a one-thread client does. With --rate R, paced as a chat at R lines/s: one
// line to every peer, then a sleep until the next 1/R s, so that each write wakes a reader that
// waits, which a write in a burst seldom does (the 1-line case only). Prints one JSON line:
//
//   write_floor [--seconds 0.5] [--rounds 3] [--peers 100] [--nagle] [--rate R]
//   {"writer_cpu":0,"reader_cpu":1,"nodelay":true,"peers":100,"cases":[{"lines":1,"bytes":64,
//    "writes":...,"us_per_write":5.4,"us_per_line":5.4}, ...]}
//
// The CPU time is the writing thread's own (CLOCK_THREAD_CPUTIME_ID), median of the rounds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
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

// `count` connected pairs on 127.0.0.1: the writer's ends and the reader's ends.
std::pair<std::vector<int>, std::vector<int>> loopback_pairs(int count) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) fail("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind");
  if (listen(listener, 128) != 0) fail("listen");
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    fail("getsockname");
  std::vector<int> writers, readers;
  for (int i = 0; i < count; ++i) {
    const int writer = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(writer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      fail("connect");
    const int reader = accept(listener, nullptr, nullptr);
    if (reader < 0) fail("accept");
    writers.push_back(writer);
    readers.push_back(reader);
  }
  close(listener);
  return {writers, readers};
}

// The peers: one thread reads every socket that has data, as a client that keeps up does,
// until each has reached end of file.
void read_all(const std::vector<int>& fds) {
  const int poller = epoll_create1(0);
  if (poller < 0) fail("epoll_create1");
  for (const int fd : fds) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll_ctl");
  }
  std::vector<char> chunk(64 * 1024);
  std::vector<epoll_event> ready(fds.size());
  std::size_t open = fds.size();
  while (open > 0) {
    const int count = epoll_wait(poller, ready.data(), static_cast<int>(ready.size()), -1);
    if (count < 0 && errno != EINTR) fail("epoll_wait");
    for (int i = 0; i < count; ++i) {
      const int fd = ready[static_cast<std::size_t>(i)].data.fd;
      const auto got = read(fd, chunk.data(), chunk.size());
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        epoll_ctl(poller, EPOLL_CTL_DEL, fd, nullptr);
        --open;
      }
    }
  }
  close(poller);
}

struct round_result {
  double cpu_seconds = 0;
  long long calls = 0;   // write(2) calls, partial writes included
  long long writes = 0;  // whole buffers sent
};

// Writes `buffer` to each of `fds` in turn, again and again, for `seconds` of wall time; with
// `rate` > 0, once to every fd `rate` times a second, sleeping in between.
round_result write_for(const std::vector<int>& fds, const std::string& buffer, double seconds,
                       double rate = 0) {
  round_result result;
  std::size_t next = 0;
  const double cpu_start = thread_cpu_seconds();
  const double until = wall_seconds() + seconds;
  timespec tick{};
  clock_gettime(CLOCK_MONOTONIC, &tick);
  const int per_pass = rate > 0 ? static_cast<int>(fds.size()) : 64;
  while (wall_seconds() < until) {
    if (rate > 0) {  // the next tick, then one line to everyone
      const long step = static_cast<long>(1e9 / rate);
      tick.tv_nsec += step;
      while (tick.tv_nsec >= 1000000000L) {
        tick.tv_nsec -= 1000000000L;
        ++tick.tv_sec;
      }
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, nullptr);
    }
    for (int i = 0; i < per_pass; ++i) {  // the clock is read once a pass, not every write
      const int fd = fds[next++ % fds.size()];
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
               "[--peers N sockets written in turn, default 100] "
               "[--nagle: leave Nagle's algorithm on, as a socket starts] "
               "[--rate R: paced, one line to every peer R times a second]\n",
               program);
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.5;
  int rounds = 3;
  int peers = 100;
  bool nodelay = true;
  double rate = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--peers" && i + 1 < argc) {
      peers = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--rate" && i + 1 < argc) {
      rate = std::atof(argv[++i]);
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

  const auto [writers, readers] = loopback_pairs(peers);
  const int on = nodelay ? 1 : 0;
  for (const int writer : writers) setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  std::thread peer{[&readers = readers, reader_cpu] {
    if (reader_cpu >= 0) pin_this_thread(reader_cpu);
    read_all(readers);
  }};

  const std::string line = std::string(line_bytes - 1, 'x') + '\n';
  std::string cases;
  const auto sizes = rate > 0 ? std::vector<int>{1} : std::vector<int>{1, 16, 64, 256};
  for (const int lines : sizes) {
    std::string buffer;
    for (int i = 0; i < lines; ++i) buffer += line;
    write_for(writers, buffer, seconds / 5, rate);  // warm up: buffers, caches
    std::vector<double> per_write;
    long long writes = 0, calls = 0;
    for (int round = 0; round < rounds; ++round) {
      const auto result = write_for(writers, buffer, seconds, rate);
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
  for (const int writer : writers) shutdown(writer, SHUT_WR);
  peer.join();
  for (const int fd : writers) close(fd);
  for (const int fd : readers) close(fd);
  std::printf("{\"writer_cpu\":%d,\"reader_cpu\":%d,\"nodelay\":%s,\"peers\":%d,"
              "\"rate\":%g,\"seconds\":%g,\"rounds\":%d,\"cases\":[%s]}\n",
              writer_cpu, reader_cpu, nodelay ? "true" : "false", peers, rate, seconds, rounds,
              cases.c_str());
}
