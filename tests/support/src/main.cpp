// The test executables' main: Catch2's, plus the options that name what is under test.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_CONSOLE_WIDTH 160  // transcripts read better unwrapped
#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>

#include "testing/workshop_test.hpp"

// Catch2 calls this before each test case: a new test, a new story.
struct story_restarter : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    TestEventListenerBase::testCaseStarting(info);
    testing::restart_story();
  }
};
CATCH_REGISTER_LISTENER(story_restarter)

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);  // a server that hangs up must fail a test, not kill it
  Catch::Session session;
  using Catch::clara::Opt;
  auto& settings = testing::settings();
  session.cli(session.cli() | Opt(settings.program, "path")["--program"]("the program under test") |
              Opt(settings.lesson_readme, "path")["--lesson-readme"]("the lesson text for hints"));
  if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
  const bool listing = session.configData().listTests || session.configData().listTestNamesOnly ||
                       session.configData().listTags || session.configData().listReporters;
  if (settings.program.empty() && !listing) {
    std::fprintf(stderr, "usage: %s --program PATH [catch2 options]\n", argv[0]);
    return 2;
  }
  return session.run();
}
