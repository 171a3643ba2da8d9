// A real redis-server per test, and a raw RESP connection to it.
#include "testing/redis.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace testing {
namespace {

using clock = std::chrono::steady_clock;

// The redis-server on PATH, or nothing.
std::optional<std::string> find_redis_server() {
  const char* path = std::getenv("PATH");
  std::istringstream folders{path ? path : "/usr/bin:/usr/sbin"};
  for (std::string folder; std::getline(folders, folder, ':');) {
    const std::string candidate = folder + "/redis-server";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::string tail_of(const std::string& path) {
  std::ifstream in{path};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
  return text;
}

// True once something on `port` answers PING with +PONG.
bool answers_ping(std::uint16_t port) {
  auto connection = client::try_connect(port, "ping", true);
  if (!connection || !connection->try_send("PING\r\n")) return false;
  const auto line = connection->read_line(500ms);
  return line && (*line == "+PONG\r\n" || line->rfind("-NOAUTH", 0) == 0);
}

}  // namespace

std::string resp_command(const std::vector<std::string>& words) {
  std::string bytes = "*" + std::to_string(words.size()) + "\r\n";
  for (const auto& word : words)
    bytes += "$" + std::to_string(word.size()) + "\r\n" + word + "\r\n";
  return bytes;
}

// ---- redis_server ----

redis_server redis_server::start() {
  return start_with_password("");
}

redis_server redis_server::start_with_password(std::string password) {
  redis_server started;
  started.password_ = std::move(password);
  for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken meanwhile
    started.port_ = free_port();
    started.launch();
    if (started.pid_ > 0) return started;
  }
  fail("redis-server to start on a free port",
       "it did not answer PING:\n" + tail_of(started.log_path_),
       "is another redis-server in the way?");
}

void redis_server::launch() {
  const auto program = find_redis_server();
  if (!program) {
    fail("redis-server on PATH (these tests start their own Redis)", "no redis-server found",
         "run ./workshop test, which installs it (Debian package redis-server)");
  }
  log_path_ =
      "/tmp/workshop-test-" + std::to_string(getpid()) + "-redis-" + std::to_string(port_) + ".log";
  std::vector<std::string> args{*program, "--port",       std::to_string(port_),
                                "--bind", "127.0.0.1",    "--save",
                                "",       "--appendonly", "no",
                                "--dir",  "/tmp",         "--protected-mode",
                                "no"};
  if (!password_.empty()) args.insert(args.end(), {"--requirepass", password_});
  const pid_t pid = fork();
  if (pid == 0) {
    const int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = clock::now() + 5000ms;
  while (clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) break;  // it exited: port taken?
    if (answers_ping(port_)) {
      pid_ = pid;
      note("started redis-server on port " + std::to_string(port_) + " (pid " +
           std::to_string(pid) + ")");
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid_ = -1;
}

redis_server::redis_server(redis_server&& other) noexcept
    : pid_{std::exchange(other.pid_, -1)},
      port_{other.port_},
      log_path_{std::move(other.log_path_)},
      password_{std::move(other.password_)} {}

redis_server::~redis_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (!log_path_.empty()) unlink(log_path_.c_str());
}

std::string redis_server::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void redis_server::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  note("killed redis-server on port " + std::to_string(port_));
}

void redis_server::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
  note("paused redis-server on port " + std::to_string(port_) + " (SIGSTOP): it answers nothing");
}

void redis_server::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
  note("resumed redis-server on port " + std::to_string(port_) + " (SIGCONT)");
}

void redis_server::restart() {
  kill();
  const auto deadline = clock::now() + 5000ms;
  while (pid_ <= 0 && clock::now() < deadline) {
    launch();
    if (pid_ <= 0) std::this_thread::sleep_for(100ms);
  }
  if (pid_ <= 0) {
    fail("redis-server to start again on port " + std::to_string(port_),
         "it did not answer PING:\n" + tail_of(log_path_), "");
  }
}

// ---- redis_connection ----

redis_connection redis_connection::connect(std::uint16_t port, std::string name) {
  return redis_connection{client::connect(port, std::move(name), true)};
}

std::optional<resp> redis_connection::read_reply(ms timeout) {
  const auto deadline = clock::now() + timeout;
  const auto left = [&] {
    return std::max(ms{1}, std::chrono::duration_cast<ms>(deadline - clock::now()));
  };
  const auto header = connection_.read_line(left());
  if (!header || header->size() < 3) return std::nullopt;
  resp reply;
  reply.type = (*header)[0];
  const std::string body = header->substr(1, header->size() - 3);  // without the \r\n
  switch (reply.type) {
    case '+':
    case '-':
      reply.text = body;
      return reply;
    case ':':
      reply.integer = std::stoll(body);
      return reply;
    case '$': {
      const long long length = std::stoll(body);
      if (length < 0) {
        reply.nil = true;
        return reply;
      }
      const std::string bytes =
          connection_.read_exactly(static_cast<std::size_t>(length) + 2, left());
      if (bytes.size() != static_cast<std::size_t>(length) + 2) return std::nullopt;
      reply.text = bytes.substr(0, static_cast<std::size_t>(length));
      return reply;
    }
    case '*': {
      const long long count = std::stoll(body);
      if (count < 0) {
        reply.nil = true;
        return reply;
      }
      for (long long i = 0; i < count; ++i) {
        auto element = read_reply(left());
        if (!element) return std::nullopt;
        reply.elements.push_back(std::move(*element));
      }
      return reply;
    }
  }
  return std::nullopt;
}

resp redis_connection::command(const std::vector<std::string>& words, ms timeout) {
  connection_.send(resp_command(words));
  auto reply = read_reply(timeout);
  if (!reply) {
    fail("Redis to answer " + show(words.empty() ? "" : words[0]),
         "no reply within " + std::to_string(timeout.count()) + " ms", "");
  }
  return *reply;
}

long long redis_connection::publish(const std::string& channel, const std::string& payload) {
  const auto reply = command({"PUBLISH", channel, payload});
  note(connection_.name() + " published " + show(payload) + " on '" + channel + "' (" +
       std::to_string(reply.integer) + " subscribers)");
  return reply.integer;
}

void redis_connection::subscribe(const std::string& channel) {
  const auto reply = command({"SUBSCRIBE", channel});
  if (reply.type != '*' || reply.elements.empty() || reply.elements[0].text != "subscribe") {
    fail("Redis to confirm SUBSCRIBE " + channel, "another reply", "");
  }
  note(connection_.name() + " subscribed to '" + channel + "'");
}

std::optional<std::string> redis_connection::next_message(ms timeout) {
  const auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    auto reply = read_reply(std::chrono::duration_cast<ms>(deadline - clock::now()));
    if (!reply) break;
    if (reply->type == '*' && reply->elements.size() == 3 && reply->elements[0].text == "message") {
      note(connection_.name() + " heard " + show(reply->elements[2].text) + " on '" +
           reply->elements[1].text + "'");
      return reply->elements[2].text;
    }
  }
  note(connection_.name() + " heard nothing within " + std::to_string(timeout.count()) + " ms");
  return std::nullopt;
}

// ---- polling Redis ----

void wait_for_subscribers(std::uint16_t redis_port, const std::string& channel, int count,
                          ms within, const std::string& hint) {
  auto probe = redis_connection::connect(redis_port, "probe");
  const auto deadline = clock::now() + within;
  long long seen = 0;
  while (true) {
    const auto reply = probe.command({"PUBSUB", "NUMSUB", channel});
    seen = reply.elements.size() == 2 ? reply.elements[1].integer : 0;
    if (seen >= count) {
      note("Redis: '" + channel + "' has " + std::to_string(seen) + " subscriber(s)");
      return;
    }
    if (clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  fail(std::to_string(count) + " subscriber(s) on '" + channel + "' within " +
           std::to_string(within.count()) + " ms",
       std::to_string(seen), hint);
}

void wait_for_client_named(std::uint16_t redis_port, const std::string& name, ms within,
                           const std::string& hint) {
  auto probe = redis_connection::connect(redis_port, "probe");
  const auto deadline = clock::now() + within;
  while (true) {
    const auto reply = probe.command({"CLIENT", "LIST"});
    if (reply.text.find("name=" + name + " ") != std::string::npos) {
      note("Redis: " + name + " is connected");
      return;
    }
    if (clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  fail("a Redis connection named " + name + " within " + std::to_string(within.count()) + " ms",
       "none", hint);
}

}  // namespace testing
