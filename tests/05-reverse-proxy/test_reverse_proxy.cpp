// Lesson 05: reverse_proxy connects each client to the next backend in turn and pipes bytes both
// ways, unchanged, with backpressure, half-close, and dead backends skipped.
// The backends are small servers inside the test (test_backends.hpp).
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "testing/catch.hpp"
#include "testing/backends.hpp"
#include "testing/conventions.hpp"
#include "testing/redis.hpp"
#include "testing/workshop_test.hpp"

using namespace testing;

namespace {

// --backend A --backend B ... plus any extra flags.
std::vector<std::string> proxy_args(const std::vector<std::string>& backends,
                                    std::vector<std::string> extra = {}) {
  std::vector<std::string> args;
  for (const auto& backend : backends) {
    args.push_back("--backend");
    args.push_back(backend);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 generator{seed};
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

// Every proxied connection holds a few descriptors; 300 of them need more than 1024.
void raise_fd_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// Waits up to `timeout` for `text` to appear in the server's stderr.
bool wait_for_log(const server& program, const std::string& text, ms timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (program.log_tail(50).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE("a client's connection reaches the backend, and the log names it", "[step1]") {
  auto backend = test_backend::start(behaviour::named, "A");
  auto proxy = server::start(proxy_args({backend->address()}));
  auto visitor = client::connect(proxy.port(), "client");
  if (!backend->wait_connections(1, 3000ms)) {
    fail("backend A to see a connection from the proxy within 3000 ms", "no connection",
         "step 1: connect_within connects the backend socket; connect_to_a_backend returns it");
  }
  note("backend A accepted a connection");
  if (!wait_for_log(proxy, backend->address(), 3000ms)) {
    fail("a log line on stderr naming the backend " + backend->address(),
         "its stderr:\n" + proxy.log_tail(), "step 1: serve() logs the backend it chose");
  }
}

TEST_CASE("bytes flow both ways: the backend's greeting, then an echo", "[step2]") {
  auto backend = test_backend::start(behaviour::named, "A");
  auto proxy = server::start(proxy_args({backend->address()}));
  auto visitor = client::connect(proxy.port(), "client");
  visitor.expect_line("A\n", 3000ms, "step 2: pipe(backend, client) copies the backend's bytes");
  visitor.send("hello through the proxy\n");
  visitor.expect_line("hello through the proxy\n", 3000ms,
                      "step 2: pipe(client, backend) copies the client's bytes to the backend");
}

TEST_CASE("8 MiB of random bytes come back from an echo backend intact", "[step2]") {
  auto backend = test_backend::start(behaviour::echo, "echo");
  auto proxy = server::start(proxy_args({backend->address()}));
  auto visitor = client::connect(proxy.port(), "client", true);
  const std::string bytes = random_bytes(8 << 20, 5);
  note("client sends 8 MiB of random bytes while it reads the echo");
  // Sending and reading at once: an echo of 8 MiB does not fit in the sockets' buffers.
  std::thread sender{[&] { visitor.try_send(bytes); }};
  const std::string echoed = visitor.read_exactly(bytes.size(), 30000ms);
  sender.join();
  if (echoed != bytes) {
    fail("the same 8 MiB back, byte for byte", first_difference(bytes, echoed),
         "step 2: write exactly the bytes you read (asio::buffer(buffer, length)), all of them "
         "(asio::async_write), before reading again");
  }
  note("client got all 8 MiB back intact");
}

TEST_CASE("300 connections at once each echo 64 KiB intact", "[step2]") {
  raise_fd_limit();
  auto backend = test_backend::start(behaviour::echo, "echo");
  auto proxy = server::start(proxy_args({backend->address()}));
  constexpr int count = 300;
  std::vector<client> clients;
  std::vector<std::string> payloads;
  for (int i = 0; i < count; ++i) {
    clients.push_back(client::connect(proxy.port(), "client " + std::to_string(i + 1), true));
    payloads.push_back(random_bytes(64 << 10, static_cast<unsigned>(i)));
  }
  note("300 clients connected; each sends its own 64 KiB");
  for (int i = 0; i < count; ++i) clients[i].try_send(payloads[i]);
  // One deadline for all 300: a proxy that echoes nothing must fail this in 10 s, not in 300
  // times the wait of one client.
  const auto deadline = std::chrono::steady_clock::now() + 10000ms;
  int intact = 0;
  for (int i = 0; i < count; ++i) {
    const auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    const std::string echoed = clients[i].read_exactly(payloads[i].size(), std::max(left, ms{1}));
    if (echoed == payloads[i]) {
      ++intact;
    } else {
      note(clients[i].name() + ": " + first_difference(payloads[i], echoed));
    }
  }
  if (intact != count) {
    fail("all 300 clients to get their own 64 KiB back", std::to_string(intact) + " did",
         "step 2: each client's session has its own sockets and buffers; none waits for another");
  }
  CHECK(proxy.running());
}

TEST_CASE("a client that does not read holds the backend back, and proxy memory stays bounded",
          "[step2]") {
  auto backend = test_backend::start(behaviour::flood, "flood");
  auto proxy = server::start(proxy_args({backend->address()}));
  const std::size_t before_kib = proxy.memory_kib();
  auto reader = client::connect(proxy.port(), "slow client");
  note("the backend floods 64 MiB; the client reads nothing for 2 s");
  std::this_thread::sleep_for(2000ms);
  const std::size_t after_kib = proxy.memory_kib();
  const std::size_t sent = backend->flood_sent();
  note("proxy memory " + std::to_string(before_kib) + " KiB before, " + std::to_string(after_kib) +
       " KiB after; the backend got " + std::to_string(sent >> 20) + " MiB out");
  if (sent == 0) {
    fail("the backend to send at least some bytes through the proxy", "none",
         "step 2: pipe(backend, client) reads from the backend");
  }
  if (after_kib > before_kib + 16 * 1024) {
    fail("the proxy's memory to grow by less than 16 MiB while its client does not read",
         "it grew by " + std::to_string((after_kib - before_kib) >> 10) + " MiB",
         "step 2: one buffer per direction; do not read again before async_write has finished");
  }
  if (sent >= backend->flood_bytes) {
    fail("the backend to be held back (its sends blocked) while the client does not read",
         "it sent all " + std::to_string(sent >> 20) + " MiB",
         "step 2: do not read from the backend while the write to the client is pending");
  }
  note("now the client reads everything");
  const std::string got = reader.read_exactly(backend->flood_bytes, 60000ms);
  std::size_t at = 0;
  while (at < got.size() && got[at] == flood_byte(at)) ++at;
  if (got.size() != backend->flood_bytes || at != got.size()) {
    fail("all 64 MiB of the pattern, in order, once the client reads",
         "got " + std::to_string(got.size()) + " bytes, the first wrong one at " +
             std::to_string(at),
         "step 2: backpressure delays bytes; it must never drop or reorder them");
  }
}

TEST_CASE("clients go to the backends in turn, starting with the first", "[step3]") {
  auto a = test_backend::start(behaviour::named, "A");
  auto b = test_backend::start(behaviour::named, "B");
  auto c = test_backend::start(behaviour::named, "C");
  auto proxy = server::start(proxy_args({a->address(), b->address(), c->address()}));
  const std::vector<std::string> expected{"A\n", "B\n", "C\n", "A\n", "B\n", "C\n"};
  std::vector<client> clients;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    clients.push_back(client::connect(proxy.port(), "client " + std::to_string(i + 1)));
    clients.back().expect_line(expected[i], 3000ms,
                               "step 3: round robin, A B C A B C: use the counter, then move it "
                               "on (the Node.js original moves it first and starts at B)");
  }
}

TEST_CASE("a client's half-close reaches the backend, and its answer still comes back", "[step4]") {
  auto backend = test_backend::start(behaviour::named, "A");
  auto proxy = server::start(proxy_args({backend->address()}));
  auto visitor = client::connect(proxy.port(), "client");
  visitor.expect_line("A\n", 3000ms, "step 2 pipes the backend's greeting");
  visitor.send("last words\n");
  visitor.shutdown_write();
  visitor.expect_line("last words\n", 3000ms,
                      "step 4: after the client's FIN the other direction keeps flowing");
  visitor.expect_line("A: bye\n", 3000ms,
                      "step 4: on end-of-file, shutdown(send) the other socket, do not close "
                      "it: the backend answers the FIN with \"A: bye\" (the Node.js original "
                      "destroys the backend socket here and loses it)");
  visitor.expect_closed(3000ms, "step 4: the backend's FIN is passed on to the client");
}

TEST_CASE("a backend's half-close reaches the client, who can still send", "[step4]") {
  auto backend = test_backend::start(behaviour::greet_then_fin, "B");
  auto proxy = server::start(proxy_args({backend->address()}));
  auto visitor = client::connect(proxy.port(), "client");
  visitor.expect_line("B\n", 3000ms, "step 2 pipes the backend's greeting");
  visitor.expect_closed(3000ms,
                        "step 4: end-of-file from the backend becomes shutdown(send) on the "
                        "client socket: the client sees end-of-file");
  visitor.send("still here\n");
  if (!backend->wait_received("still here\n", 3000ms)) {
    fail("the backend to receive \"still here\\n\" after its own FIN",
         "it received " + show(backend->received()),
         "step 4: a half-close ends one direction only; keep piping the other");
  }
  note("backend B received \"still here\\n\"");
}

TEST_CASE("a reset on either side closes both", "[step4]") {
  auto echo = test_backend::start(behaviour::echo, "echo");
  auto proxy = server::start(proxy_args({echo->address()}));
  auto visitor = client::connect(proxy.port(), "client");
  visitor.send("ping\n");
  visitor.expect_line("ping\n", 3000ms, "step 2 pipes both ways");
  visitor.reset();
  if (!echo->wait_ended(1, 3000ms)) {
    fail("the backend's connection to end within 3000 ms of the client's reset", "it is still open",
         "step 4: an error on one side closes both sockets");
  }
  note("the backend's connection ended");

  auto resetting = test_backend::start(behaviour::greet_then_reset, "R");
  auto proxy2 = server::start(proxy_args({resetting->address()}));
  auto second = client::connect(proxy2.port(), "second client");
  second.expect_line("R\n", 3000ms, "step 2 pipes the backend's greeting");
  second.expect_closed(3000ms, "step 4: the backend reset its connection: close the client's");
}

TEST_CASE("a backend that refuses is skipped for the next one", "[step5]") {
  const std::uint16_t dead = free_port();
  auto a = test_backend::start(behaviour::named, "A");
  auto b = test_backend::start(behaviour::named, "B");
  auto proxy =
      server::start(proxy_args({"127.0.0.1:" + std::to_string(dead), a->address(), b->address()}));
  note("the first backend, port " + std::to_string(dead) + ", is down");
  auto first = client::connect(proxy.port(), "client 1");
  first.expect_line("A\n", 3000ms,
                    "step 5: when a backend refuses, try the next one for the same client "
                    "(the Node.js original crashes here)");
  auto second = client::connect(proxy.port(), "client 2");
  second.expect_line("A\n", 3000ms, "step 3: the second client's turn is the second backend");
  auto third = client::connect(proxy.port(), "client 3");
  third.expect_line("B\n", 3000ms, "step 3: the third client's turn is the third backend");
  auto fourth = client::connect(proxy.port(), "client 4");
  fourth.expect_line("A\n", 3000ms, "step 5: the dead backend rests; its turn goes to the next");
  CHECK(proxy.running());
}

TEST_CASE("a backend that does not answer is skipped after --connect-timeout-ms", "[step6]") {
  silent_backend silent;
  auto a = test_backend::start(behaviour::named, "A");
  auto proxy =
      server::start(proxy_args({silent.address(), a->address()}, {"--connect-timeout-ms", "300"}));
  auto first = client::connect(proxy.port(), "client 1");
  first.expect_line("A\n", 5000ms,
                    "step 6: race the connect against a timer (connect_within) and try the next "
                    "backend when the timer wins");
  auto second = client::connect(proxy.port(), "client 2");
  second.expect_line("A\n", 5000ms, "step 6: the silent backend is skipped again");
}

TEST_CASE("with every backend down the client is closed at once, and the proxy goes on",
          "[step5]") {
  const std::uint16_t first_port = free_port();
  const std::uint16_t second_port = free_port();
  auto proxy = server::start(proxy_args(
      {"127.0.0.1:" + std::to_string(first_port), "127.0.0.1:" + std::to_string(second_port)}));
  auto early = client::connect(proxy.port(), "client 1");
  early.expect_closed(2000ms, "step 5: when no backend answers, close the client");
  if (!proxy.running()) {
    fail("the proxy to keep running with every backend down", "it exited:\n" + proxy.log_tail(),
         "step 5: a failed connect is an error code to handle, not an exception to die of");
  }
  auto backend = test_backend::start(behaviour::named, "A", first_port);
  note("backend A is up now, on the first backend's port");
  auto late = client::connect(proxy.port(), "client 2");
  late.expect_line("A\n", 3000ms,
                   "step 5: once a backend is back the next client reaches it (when every "
                   "backend is resting, try them all anyway)");
}

program_conventions testing::this_program_conventions() {
  return {.more_bad_flags = {{{"--backend", "127.0.0.1"}, "--backend takes HOST:PORT"},
                             {{"--backend", "127.0.0.1:0"}, "--backend takes HOST:PORT"},
                             {{"--backend", "127.0.0.1:70000"}, "--backend takes HOST:PORT"},
                             {{"--backend", ":9999"}, "--backend takes HOST:PORT"},
                             {{"--backend", "::1:9999"}, "--backend takes HOST:PORT"}},
          .start_peers = [](std::shared_ptr<void>& peers) {
            std::shared_ptr<test_backend> backend = test_backend::start(behaviour::echo, "echo");
            peers = backend;
            return proxy_args({backend->address()});
          }};
}
TEST_CASE("it listens on port 8000 unless told otherwise", "[conventions]") {
  const auto result = run_to_exit({"--help"});
  if (result.out.find("8000") == std::string::npos) {
    fail("`--help` to show the default port 8000", show(result.out, 400),
         "workshop::listen_address{.port = 8000}");
  }
}

// ---- the whole system: the proxy in front of lesson 04's servers, and ./workshop demo ----
// Not step tests: they need lesson 04's reference distributed_chat, a redis-server and, for the
// demo, the workshop script. They take these from the build the program under test comes from.

namespace {

// The build folder of the program under test: BUILD/{solutions,lessons}/05-reverse-proxy/PROG.
std::filesystem::path build_dir() {
  return std::filesystem::absolute(settings().program).parent_path().parent_path().parent_path();
}

std::string distributed_chat() {
  const auto path = build_dir() / "solutions/04-distributed-chat/distributed_chat";
  if (!std::filesystem::exists(path)) {
    fail("lesson 04's reference server at " + path.string(), "no such file",
         "build it: cmake --build build --target solutions_04_distributed_chat");
  }
  return path.string();
}

// Reads lines (others may chat too) until one equals `expected`; fails after `within`.
void expect_line_among_others(client& reader, const std::string& expected, ms within,
                              const std::string& hint) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    const auto line = reader.read_line(left);
    if (line && *line == expected) return;
    if (!line && reader.at_eof()) break;
  }
  fail(reader.name() + " to receive " + show(expected) + " within " +
           std::to_string(within.count()) + " ms",
       reader.at_eof() ? reader.ending() : "other lines, or nothing", hint);
}

// Sends `line` from `writer` every 500 ms until `reader` gets it: the servers subscribe to Redis
// a moment after they start, and a line published before that reaches no one.
void send_until_heard(client& writer, client& reader, const std::string& line, ms within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    writer.send(line);
    const auto heard = reader.read_line(500ms);
    if (heard && *heard == line) return;
    if (heard) continue;  // someone else's line: listen again
  }
  fail(reader.name() + " to receive " + show(line) + " from " + writer.name(),
       "not within " + std::to_string(within.count()) + " ms",
       "the chat servers share lines through Redis");
}

std::string welcome_node(client& visitor) {
  const std::string welcome = visitor.expect_line_starting(
      "", 5000ms, "a distributed_chat server greets each client with \"NODE : welcome ...\"");
  return welcome.substr(0, welcome.find(" : "));
}

}  // namespace

TEST_CASE("a client through the proxy chats with a client on another server, through Redis",
          "[system]") {
  const std::string chat = distributed_chat();
  auto redis = redis_server::start();
  auto first = server::start({"--redis", redis.address()}, chat);
  auto second = server::start({"--redis", redis.address()}, chat);
  wait_for_subscribers(redis.port(), "chat channel", 2, 5000ms,
                       "both distributed_chat servers subscribe when they start");
  auto proxy = server::start(proxy_args(
      {"127.0.0.1:" + std::to_string(first.port()), "127.0.0.1:" + std::to_string(second.port())}));

  auto alice = client::connect(proxy.port(), "alice (through the proxy)");
  const std::string alice_node = welcome_node(alice);
  auto bob = client::connect(second.port(), "bob (straight to the second server)");
  const std::string bob_node = welcome_node(bob);
  if (alice_node == bob_node) {
    fail("alice on the first server (the proxy's first turn), bob on the second",
         "both on " + alice_node, "step 3: the first client goes to the first backend");
  }
  alice.send("hello bob, from behind the proxy\n");
  bob.expect_line("hello bob, from behind the proxy\n", 5000ms,
                  "proxy -> first server -> Redis -> second server -> bob");
  bob.send("hello alice\n");
  alice.expect_line("hello alice\n", 5000ms,
                    "second server -> Redis -> first server -> proxy -> alice");
}

TEST_CASE("./workshop demo starts the whole system, a line crosses it, and Ctrl-C ends it all",
          "[demo]") {
  distributed_chat();  // fails early, and clearly, when lesson 04 is not built
  const std::string workshop = std::string{WORKSHOP_SOURCE_DIR} + "/workshop";
  setenv("WORKSHOP_BUILD", build_dir().c_str(), 1);  // the demo runs this build's programs
  auto demo = server::start({"demo", "--no-build", "--bots", "2"}, workshop);  // adds --port 0
  unsetenv("WORKSHOP_BUILD");

  auto alice = client::connect(demo.port(), "alice");
  const std::string alice_node = welcome_node(alice);
  auto bob = client::connect(demo.port(), "bob");
  const std::string bob_node = welcome_node(bob);
  note("alice is on server " + alice_node + ", bob on " + bob_node);
  send_until_heard(alice, bob, "hello from alice\n", 10000ms);
  bob.send("hello alice\n");
  expect_line_among_others(alice, "hello alice\n", 5000ms,
                           "the bots chat too: alice reads past their lines to bob's");

  // The demo lists what it started ("127.0.0.1:PORT" on each line): all must be gone after.
  std::vector<std::uint16_t> ports;
  std::istringstream listing{demo.log_tail(40)};
  for (std::string line; std::getline(listing, line);) {
    const auto at = line.find("127.0.0.1:");
    if (at != std::string::npos && line.find("nc ") == std::string::npos &&
        line.find(" -> ") == std::string::npos) {
      ports.push_back(static_cast<std::uint16_t>(std::stoi(line.substr(at + 10))));
    }
  }
  if (ports.size() < 5) {
    fail("the demo to list redis, three chat servers and the proxy with their ports",
         "its stderr:\n" + demo.log_tail(40), "demo/demo.py lists what it started");
  }
  const int code = demo.stop(SIGINT, 5000ms);
  note("sent SIGINT to the demo: exit code " + std::to_string(code));
  for (const auto port : ports) {
    if (client::try_connect(port, "check of port " + std::to_string(port))) {
      fail("nothing left listening after the demo stopped",
           "port " + std::to_string(port) + " still accepts connections",
           "demo/demo.py stops every pid it started");
    }
  }
}
