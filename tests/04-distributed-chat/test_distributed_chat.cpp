// Lesson 04: distributed_chat servers share one room through Redis publish/subscribe.
// Each test starts its own redis-server (see testing/redis.hpp) and one or two chat servers.
#include <poll.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "testing/catch.hpp"
#include "testing/conventions.hpp"
#include "testing/redis.hpp"
#include "testing/workshop_test.hpp"

using namespace testing;

namespace {

const std::string channel = "chat channel";

server start_chat(const redis_server& redis, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--redis", redis.address()};
  args.insert(args.end(), more.begin(), more.end());
  return server::start(args);
}

// Reads the welcome line `NODE : welcome ...` of a client that just connected.
client welcomed(client visitor) {
  const auto& name = visitor.name();
  const auto line = visitor.read_line(5000ms);
  if (!line || line->find(" : welcome") == std::string::npos || line->rfind(" : ", 0) == 0) {
    fail(name + " to receive the welcome line \"NODE : welcome ...\\n\"",
         line ? "the line " + show(*line) : std::string{"no line"},
         "the welcome names this server (its pid) first; lesson 03's session sends it");
  }
  return visitor;
}

// Connects and reads the welcome line.
client join(const server& chat, const std::string& name) {
  return welcomed(client::connect(chat.port(), name));
}

// The same for a client that will read slowly or not at all: with small kernel buffers, what
// it has not read waits in the server's outbox, not in the kernel.
client join_with_small_buffers(const server& chat, const std::string& name) {
  return welcomed(client::connect_with_small_buffers(chat.port(), name));
}

// True once the server has closed `someone`'s connection, waiting up to `within`; reads nothing.
bool closed_unread(const client& someone, ms within) {
  pollfd watch{someone.fd(), POLLRDHUP, 0};  // hang-ups and errors are always reported
  return poll(&watch, 1, static_cast<int>(within.count())) > 0 &&
         (watch.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0;
}

// A message from outside as the servers put it on the channel.
std::string from_outside(const std::string& lines) {
  return nlohmann::json{{"message", lines}, {"userId", "outsider"}}.dump();
}

// Waits (up to 5 s) until the chat server's publisher is connected to Redis. Our servers name
// their connections; the talk's Node.js server names none and queues while it connects, so
// without a name the test goes on and its next expectation tells.
void wait_for_publisher(const redis_server& redis, const server& chat) {
  const std::string name = "distributed_chat:" + std::to_string(chat.pid()) + ":publisher";
  auto probe = redis_connection::connect(redis.port(), "probe");
  const auto deadline = std::chrono::steady_clock::now() + 5000ms;
  while (std::chrono::steady_clock::now() < deadline) {
    if (probe.command({"CLIENT", "LIST"}).text.find("name=" + name + " ") != std::string::npos) {
      note("Redis: " + name + " is connected");
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  note("Redis: no connection named " + name + " after 5 s; going on");
}

// Waits until `count` servers listen on the channel.
void wait_for_servers(const redis_server& redis, int count, const std::string& hint) {
  wait_for_subscribers(redis.port(), channel, count, 5000ms, hint);
}

}  // namespace

TEST_CASE("each line is published on the channel as the Node.js servers' JSON", "[step1]") {
  auto redis = redis_server::start();
  auto listener = redis_connection::connect(redis.port(), "raw subscriber");
  listener.subscribe(channel);
  auto chat = start_chat(redis);
  auto alice = join(chat, "alice");
  auto bob = join(chat, "bob");
  wait_for_publisher(redis, chat);

  alice.send("hello\n");
  const auto json = listener.next_message(3000ms);
  if (!json) fail("a message on 'chat channel'", "none", "step 1 publishes each complete line");
  const auto parsed = nlohmann::json::parse(*json, nullptr, false);
  if (!parsed.is_object() || parsed.size() != 2 || !parsed.contains("message") ||
      !parsed.contains("userId") || parsed["message"] != "hello\n" ||
      !parsed["userId"].is_string() || parsed["userId"].get<std::string>().empty()) {
    fail(R"(JSON with exactly the keys "message" (the line, with its \n) and "userId" (a string))",
         show(*json), "step 1: encode({line, author.user_id()}) from chat_message.hpp");
  }
  const std::string alice_id = parsed["userId"];
  const std::string exact = R"({"message":"hello\n","userId":")" + alice_id + R"("})";
  if (*json != exact) fail(show(exact), show(*json), "the format of JSON.stringify: no spaces");

  alice.send("again\n");
  bob.send("hi alice\n");
  auto second = listener.next_message(3000ms);
  auto third = listener.next_message(3000ms);
  // Two clients' lines: either may be read first (both are ready in the same turn of the loop).
  if (second && second->find("hi alice") != std::string::npos) std::swap(second, third);
  const std::string again = R"({"message":"again\n","userId":")" + alice_id + R"("})";
  if (!second || *second != again) {
    fail(show(again) + " (the same userId for the same client)", second ? show(*second) : "nothing",
         "step 1: the userId belongs to the connection");
  }
  const auto bobs = nlohmann::json::parse(third.value_or(""), nullptr, false);
  if (!bobs.is_object() || bobs.value("message", "") != "hi alice\n" ||
      bobs.value("userId", alice_id) == alice_id) {
    fail("bob's line with a userId of its own", third ? show(*third) : "nothing",
         "each connection gets its own userId");
  }
}

TEST_CASE("a line split over several sends is published once, whole", "[step1]") {
  auto redis = redis_server::start();
  auto listener = redis_connection::connect(redis.port(), "raw subscriber");
  listener.subscribe(channel);
  auto chat = start_chat(redis);
  auto alice = join(chat, "alice");
  wait_for_publisher(redis, chat);
  alice.send("hel");
  alice.send("lo\nsecond ");
  alice.send("line\n");
  // Lines of one read may travel in one message, but only whole lines: what arrives on the
  // channel, message after message, is the two lines, each once.
  const std::string expected = "hello\nsecond line\n";
  std::string heard;
  while (heard.size() < expected.size()) {
    const auto json = listener.next_message(3000ms);
    const auto parsed = nlohmann::json::parse(json.value_or(""), nullptr, false);
    const std::string message = parsed.is_object() ? parsed.value("message", "") : "";
    if (message.empty() || message.back() != '\n' || expected.compare(heard.size(), message.size(), message) != 0) {
      fail("messages carrying whole lines: " + show(expected) + " in all",
           json ? show(*json) + " after " + show(heard) : "nothing after " + show(heard),
           "lesson 03's session hands on complete lines only; step 1 publishes them");
    }
    heard += message;
  }
}

TEST_CASE("a message published from outside reaches every client", "[step2]") {
  auto redis = redis_server::start();
  auto chat = start_chat(redis);
  auto alice = join(chat, "alice");
  auto bob = join(chat, "bob");
  wait_for_servers(redis, 1, "step 2 subscribes to the channel (subscriber_->subscribe)");
  auto outsider = redis_connection::connect(redis.port(), "raw publisher");
  outsider.publish(channel, R"({"message":"from outside\n","userId":"outsider"})");
  alice.expect_line("from outside\n", 3000ms,
                    "step 2 delivers each message's \"message\" to the room");
  bob.expect_line("from outside\n", 3000ms, "step 2 delivers to every client of this server");
}

TEST_CASE("a password in --redis is sent as AUTH, and a wrong one is reported", "[step2]") {
  auto redis = redis_server::start_with_password("open sesame");
  const std::string where = "redis://:open sesame@" + redis.address();
  auto chat = server::start({"--redis", where});
  auto alice = join(chat, "alice");
  auto bob = join(chat, "bob");
  auto probe = redis_connection::connect(redis.port(), "probe");
  probe.command({"AUTH", "open sesame"});
  const std::string publisher = "distributed_chat:" + std::to_string(chat.pid()) + ":publisher";
  const auto deadline = std::chrono::steady_clock::now() + 5000ms;
  while ((probe.command({"PUBSUB", "NUMSUB", channel}).elements.at(1).integer < 1 ||
          probe.command({"CLIENT", "LIST"}).text.find(publisher) == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  alice.send("behind a password\n");
  bob.expect_line("behind a password\n", 5000ms,
                  "the given Redis client sends AUTH first when --redis is redis://:PASSWORD@...");

  auto locked_out = server::start({"--redis", "redis://:wrong@" + redis.address()});
  if (!locked_out.wait_for_log("AUTH refused", 3000ms)) {
    fail("the server to say on stderr that Redis refused its AUTH", "\n" + locked_out.log_tail(),
         "the given Redis client logs it; is --redis read with redis::parse_address?");
  }
  auto carol = join(locked_out, "carol (wrong password)");
  REQUIRE(locked_out.running());
}

TEST_CASE("malformed messages on the channel are skipped, the next good one delivered", "[step2]") {
  auto redis = redis_server::start();
  auto chat = start_chat(redis);
  auto alice = join(chat, "alice");
  wait_for_servers(redis, 1, "step 2 subscribes to the channel");
  auto outsider = redis_connection::connect(redis.port(), "raw publisher");
  for (const std::string bad :
       {"not json at all", R"({"message": "no userId\n"})", R"({"message": 42, "userId": "x"})",
        R"(["message", "userId"])", R"({"message":"cut off)"}) {
    outsider.publish(channel, bad);
  }
  outsider.publish(channel, R"({"message":"still here\n","userId":"outsider"})");
  alice.expect_line("still here\n", 3000ms,
                    "decode() returns nothing for a malformed message: log it and go on");
  REQUIRE(chat.running());
}

TEST_CASE("a stopped reader is dropped after --soft-backlog-ms past --soft-backlog, not before",
          "[step2]") {
  auto redis = redis_server::start();
  auto chat = start_chat(
      redis, {"--soft-backlog", "65536", "--soft-backlog-ms", "2000", "--max-backlog", "1048576"});
  auto reader = join(chat, "reader");
  auto sleeper = join_with_small_buffers(chat, "sleeper");
  wait_for_servers(redis, 1, "step 2 subscribes to the channel");
  auto outsider = redis_connection::connect(redis.port(), "raw publisher");
  note(
      "a message of 512 KiB from outside (sleeper, who reads nothing, is then past "
      "--soft-backlog 64 KiB), then a short one every 50 ms; reader reads everything");
  std::string burst;
  for (int i = 0; i < 512; ++i)
    burst += "line " + std::to_string(i) + ' ' + std::string(1000, 'x') + '\n';
  const auto start = std::chrono::steady_clock::now();
  outsider.publish(channel, from_outside(burst));
  reader.expect_bytes(burst, 5000ms, "step 2 delivers each message to every client");
  const auto since_start = [&start] {
    return std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - start);
  };
  bool closed = false;
  for (int i = 0; !closed && since_start() < 6000ms; ++i) {
    const std::string line = "short line " + std::to_string(i) + "\n";
    outsider.publish(channel, from_outside(line));
    reader.expect_line(line, 3000ms, "a client that keeps up is never dropped");
    closed = closed_unread(sleeper, 50ms);
    if (closed && since_start() < 1000ms) {
      fail("sleeper to stay connected for --soft-backlog-ms (2 s) past --soft-backlog",
           "dropped after " + std::to_string(since_start().count()) + " ms",
           "lesson 03's session drops a client only once it has stayed past --soft-backlog "
           "for --soft-backlog-ms; main() hands the flags to it (session_limits)");
    }
  }
  if (!closed) {
    fail("the server to drop sleeper about 2 s (--soft-backlog-ms) after it fell 512 KiB behind",
         "still connected after " + std::to_string(since_start().count()) + " ms",
         "step 2 delivers each message to every client; lesson 03's session then drops one "
         "that stays behind");
  }
  note("sleeper was dropped after " + std::to_string(since_start().count()) + " ms");
}

TEST_CASE("two servers: a line reaches every client of both, except its author", "[step3]") {
  auto redis = redis_server::start();
  auto first = start_chat(redis);
  auto second = start_chat(redis);
  auto alice = join(first, "alice (server 1)");
  auto amy = join(first, "amy (server 1)");
  auto bob = join(second, "bob (server 2)");
  auto ben = join(second, "ben (server 2)");
  wait_for_servers(redis, 2, "step 2 subscribes each server to the channel");
  wait_for_publisher(redis, first);
  wait_for_publisher(redis, second);

  alice.send("hello from 1\n");
  for (auto* other : {&amy, &bob, &ben}) {
    other->expect_line("hello from 1\n", 3000ms,
                       "steps 1 and 2: publish, and deliver what you hear");
  }
  bob.send("hello from 2\n");
  for (auto* other : {&alice, &amy, &ben}) {
    other->expect_line("hello from 2\n", 3000ms,
                       "steps 1 and 2: publish, and deliver what you hear");
  }
  alice.expect_nothing(300ms, "step 3: a message never comes back to its author (skip its userId)");
  bob.expect_nothing(300ms, "step 3: a message never comes back to its author (skip its userId)");
}

TEST_CASE("a sender's lines arrive in order, and its own never come back", "[step3]") {
  auto redis = redis_server::start();
  auto chat = start_chat(redis);
  auto alice = join(chat, "alice");
  auto bob = join(chat, "bob");
  wait_for_servers(redis, 1, "step 2 subscribes to the channel");
  wait_for_publisher(redis, chat);
  std::string burst;
  for (int i = 1; i <= 50; ++i) burst += "line " + std::to_string(i) + "\n";
  alice.send(burst);
  bob.expect_bytes(burst, 5000ms, "lines are published and delivered in the order they were said");
  alice.expect_nothing(300ms, "step 3: skip the author (compare userIds)");
}

TEST_CASE("Redis killed and restarted: traffic resumes, a line said meanwhile arrives after",
          "[step4]") {
  auto redis = redis_server::start();
  auto first = start_chat(redis);
  auto second = start_chat(redis);
  auto alice = join(first, "alice (server 1)");
  auto amy = join(first, "amy (server 1)");
  auto bob = join(second, "bob (server 2)");
  wait_for_servers(redis, 2, "step 2 subscribes each server to the channel");
  alice.send("before\n");
  amy.expect_line("before\n", 3000ms, "steps 1 and 2");
  bob.expect_line("before\n", 3000ms, "steps 1 and 2");

  redis.kill();
  alice.send("during the outage\n");
  std::this_thread::sleep_for(300ms);
  if (!first.running() || !second.running()) {
    fail("both servers to keep running while Redis is away", "one exited:\n" + first.log_tail(),
         "step 4: a lost Redis connection is not fatal");
  }
  redis.restart();
  amy.expect_line("during the outage\n", 8000ms,
                  "step 4: keep lines said while Redis is away, publish them once it is back");
  wait_for_servers(redis, 2, "step 4: the redis client subscribes again after reconnecting");
  wait_for_publisher(redis, second);
  bob.send("after\n");
  alice.expect_line("after\n", 3000ms, "step 4: traffic resumes without restarting the servers");
  amy.expect_line("after\n", 3000ms, "step 4: traffic resumes without restarting the servers");
  alice.send("after, too\n");
  // Server 2 hears "during the outage" only if it had subscribed again before server 1
  // published it: pub/sub keeps nothing for absent subscribers (see the README).
  auto heard = bob.read_line(3000ms);
  if (heard == "during the outage\n") heard = bob.read_line(3000ms);
  if (heard != "after, too\n") {
    fail("bob (server 2) to receive \"after, too\\n\" within 3000 ms",
         heard ? "the line " + show(*heard) : std::string{"no line"},
         "step 4: the publisher reconnects as well");
  }
}

TEST_CASE("Redis down at start: clients are welcome, lines flow once Redis comes", "[step4]") {
  auto redis = redis_server::start();
  redis.kill();
  auto chat = start_chat(redis);
  auto alice = join(chat, "alice");
  auto bob = join(chat, "bob");
  alice.send("said before Redis came\n");
  redis.restart();
  bob.expect_line("said before Redis came\n", 8000ms,
                  "step 4: the queue is published once Redis is there");
  alice.send("and after\n");
  bob.expect_line("and after\n", 3000ms, "step 4: traffic flows once Redis is there");
  REQUIRE(chat.running());
}

TEST_CASE("while Redis is away the queue is bounded, and the sender is told", "[step5]") {
  auto redis = redis_server::start();
  auto chat = start_chat(redis, {"--max-queued", "2"});
  auto alice = join(chat, "alice");
  auto bob = join(chat, "bob");
  wait_for_servers(redis, 1, "step 2 subscribes to the channel");
  redis.kill();
  alice.send("one\ntwo\nthree\n");
  const std::string notice =
      alice.expect_line_starting(std::to_string(chat.pid()) + " : ", 3000ms,
                                 "step 5: past --max-queued, tell the sender its line was lost");
  if (notice.find("not delivered") == std::string::npos) {
    fail("a line saying \"not delivered\"", show(notice), "step 5: say what happened");
  }
  redis.restart();
  bob.expect_line("one\n", 8000ms, "step 4: the queued lines are published after reconnection");
  bob.expect_line("two\n", 3000ms, "step 4: the queued lines are published in order");
  bob.expect_nothing(300ms, "the line that did not fit was dropped (and its sender told)");
}

TEST_CASE("a newcomer gets the last lines first, then live ones", "[step6]") {
  auto redis = redis_server::start();
  auto first = start_chat(redis, {"--history", "3"});
  auto second = start_chat(redis, {"--history", "3"});
  auto alice = join(first, "alice (server 1)");
  auto bob = join(second, "bob (server 2)");
  wait_for_servers(redis, 2, "step 2 subscribes each server to the channel");
  alice.send("one\ntwo\nthree\nfour\nfive\n");
  bob.expect_bytes("one\ntwo\nthree\nfour\nfive\n", 3000ms, "steps 1 and 2");

  auto newcomer = join(second, "newcomer (server 2)");
  newcomer.expect_bytes("three\nfour\nfive\n", 3000ms,
                        "step 6: a newcomer first gets the last --history lines, oldest first");
  alice.send("six\n");
  newcomer.expect_line("six\n", 3000ms, "step 6: after the history, live lines");
  newcomer.expect_nothing(300ms, "step 6: no line twice");
}

TEST_CASE("a newcomer joining mid-conversation misses nothing and sees nothing twice", "[step6]") {
  auto redis = redis_server::start();
  auto first = start_chat(redis, {"--history", "1000"});
  auto second = start_chat(redis, {"--history", "1000"});
  auto talker = join(first, "talker (server 1)");
  wait_for_servers(redis, 2, "step 2 subscribes each server to the channel");
  wait_for_publisher(redis, first);
  auto numbered = [](int from, int to) {
    std::string lines;
    for (int i = from; i <= to; ++i) lines += std::to_string(i) + "\n";
    return lines;
  };
  auto witness = join(second, "witness (server 2)");
  talker.send(numbered(1, 100));
  witness.expect_bytes(numbered(1, 100), 3000ms, "steps 1 and 2");  // said before the join
  talker.send(numbered(101, 300));
  auto newcomer = join(second, "newcomer (server 2)");  // while those lines are on their way
  talker.send(numbered(301, 600));
  const std::string got = newcomer.read_exactly(numbered(1, 600).size(), 8000ms);
  if (got != numbered(1, 600)) {
    fail("the newcomer to see 1..600 in order, each once (history, then live)",
         show(got, 200) + " (" + std::to_string(got.size()) + " bytes)",
         "step 6: deliver the history, then the lines heard after the cut; see room_history.hpp");
  }
  newcomer.expect_nothing(300ms, "step 6: no line twice");
}

TEST_CASE("Redis silent: each server says so within its deadline, keeps its clients, and lines "
          "said meanwhile arrive after",
          "[step7]") {
  auto redis = redis_server::start();
  const std::vector<std::string> quick{"--redis-ping-ms", "300", "--redis-timeout-ms", "500"};
  auto first = start_chat(redis, quick);
  auto second = start_chat(redis, quick);
  auto alice = join(first, "alice (server 1)");
  auto amy = join(first, "amy (server 1)");
  auto bob = join(second, "bob (server 2)");
  wait_for_servers(redis, 2, "step 2 subscribes each server to the channel");
  wait_for_publisher(redis, first);
  alice.send("before\n");
  amy.expect_line("before\n", 3000ms, "steps 1 and 2");
  bob.expect_line("before\n", 3000ms, "steps 1 and 2");

  redis.pause();  // no FIN, no reset: Redis just stops answering, as behind a partition
  for (const server* chat : {&first, &second}) {
    // 300 ms of quiet, a PING, 500 ms without its reply: 800 ms, and slack for a busy machine
    if (!chat->wait_for_log("redis: no answer", 2500ms, 2)) {
      fail("each server to say within 2500 ms, for its publisher and its subscriber, that Redis "
           "stopped answering (\"redis: no answer ...\")",
           "\n" + chat->log_tail(),
           "step 7: TCP alone says nothing for minutes; let both connections check Redis");
    }
  }
  alice.send("during the silence, one\n");
  alice.send("during the silence, two\n");
  std::this_thread::sleep_for(300ms);
  if (!first.running() || !second.running()) {
    fail("both servers to keep running while Redis is silent", "one exited:\n" + first.log_tail(),
         "a silent Redis is a lost Redis: not fatal");
  }
  redis.resume();
  amy.expect_line("during the silence, one\n", 5000ms,
                  "step 4 keeps the lines; step 7 lets the server start over once Redis answers");
  amy.expect_line("during the silence, two\n", 1000ms, "the queue is published in order");
  // Server 2 hears them only if it had subscribed again before server 1 published them (see the
  // restart test); what it hears comes in order.
  auto heard = bob.read_line(3000ms);
  if (heard == "during the silence, one\n") heard = bob.read_line(3000ms);
  if (heard == "during the silence, two\n") heard = std::nullopt;
  if (heard) {
    fail("bob (server 2) to receive the lines said during the silence, in order, or none",
         "the line " + show(*heard), "the queue is published in order");
  }
  bob.send("after\n");
  alice.expect_line("after\n", 5000ms, "server 2 is back too, and kept its clients");
  amy.expect_line("after\n", 3000ms, "server 1 kept its clients");
}

program_conventions testing::this_program_conventions() {
  return {.more_bad_flags = {{{"--redis", "no-port-here"}, "--redis takes HOST:PORT"},
                             {{"--soft-backlog", "2000", "--max-backlog", "1000"},
                              "--soft-backlog must not be more than --max-backlog"}},
          .start_peers = [](std::shared_ptr<void>& peers) {
            auto redis = std::make_shared<redis_server>(redis_server::start());
            peers = redis;
            return std::vector<std::string>{"--redis", redis->address()};
          }};
}
TEST_CASE("with Redis away it still stops on a signal", "[conventions]") {
  auto redis = redis_server::start();
  redis.kill();
  check_stops_on_signals({"--redis", redis.address()});
}
