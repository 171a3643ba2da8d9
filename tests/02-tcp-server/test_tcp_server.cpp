// Lesson 02: tcp_server writes "Hello\n", then "world\n", then closes its side.
#include <algorithm>
#include <chrono>
#include <thread>

#include "testing/catch.hpp"
#include "testing/conventions.hpp"
#include "testing/workshop_test.hpp"

using namespace testing;

TEST_CASE("each client gets Hello", "[step1]") {
  auto program = server::start();
  auto visitor = client::connect(program.port(), "client");
  visitor.expect_line("Hello\n", 2000ms,
                      "step 1: greet writes Hello, six bytes, and waits until they are written");
  // What follows Hello, if anything comes soon: world (step 2), or the end; never a NUL byte.
  if (const auto next = visitor.read_exactly(1, 300ms); next == std::string(1, '\0')) {
    fail("after \"Hello\\n\", nothing more, or world", "the byte " + show(next),
         "step 1: exactly six bytes, H e l l o and the newline (a string literal has a seventh, "
         "its terminating NUL)");
  }
}

TEST_CASE("each client gets Hello, then world", "[step2]") {
  auto program = server::start();
  auto visitor = client::connect(program.port(), "client");
  visitor.expect_line("Hello\n", 2000ms, "step 1 writes Hello");
  visitor.expect_line("world\n", 2000ms, "step 2 writes world after Hello");
}

TEST_CASE("the server closes its side after the two lines", "[step2]") {
  auto program = server::start();
  auto visitor = client::connect(program.port(), "client");
  visitor.expect_bytes("Hello\nworld\n", 2000ms, "steps 1 and 2 write the two lines");
  visitor.expect_closed(2000ms, "step 2 ends by sending our FIN, after world is written");
}

TEST_CASE("a client that half-closes first still gets both lines", "[step2]") {
  auto program = server::start();
  auto visitor = client::connect(program.port(), "client");
  visitor.shutdown_write();
  visitor.expect_bytes("Hello\nworld\n", 2000ms, "the server writes whatever the client does");
  visitor.expect_closed(2000ms, "step 2 closes after writing");
}

TEST_CASE("500 connections at once each get both lines and end-of-file", "[step2]") {
  auto program = server::start();
  std::vector<client> clients;
  for (int i = 0; i < 500; ++i) {
    clients.push_back(client::connect(program.port(), "client " + std::to_string(i + 1), true));
  }
  // One deadline for all 500: a server that never closes must fail this in seconds, not in
  // 500 times the wait of one client.
  const auto deadline = std::chrono::steady_clock::now() + 10000ms;
  int complete = 0;
  int greeted = 0;  // got Hello first: step 1 works, whatever went wrong after it
  for (auto& visitor : clients) {
    const auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    bool eof = false;
    const std::string got = visitor.read_until_eof(std::max(left, ms{1}), &eof);
    greeted += got.rfind("Hello\n", 0) == 0 ? 1 : 0;
    if (got == "Hello\nworld\n" && eof) {
      ++complete;
    } else {
      note(visitor.name() + " got " + show(got) +
           (eof ? " then end-of-file" : " and no end-of-file"));
    }
  }
  if (complete != 500) {
    fail("all 500 clients to get \"Hello\\nworld\\n\" then end-of-file",
         std::to_string(complete) + " did (" + std::to_string(greeted) + " got Hello first)",
         greeted == 500 ? "step 2: after Hello, world, then our FIN, for every client"
                        : "step 1: every client is greeted with Hello, without waiting for it");
  }
  CHECK(program.running());
}

program_conventions testing::this_program_conventions() {
  return {};
}
