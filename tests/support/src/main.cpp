// The test executables' main: Catch2's, plus the options that name what is under test, and the
// one results format every tool reads (--results: a JSON line per test case), on Catch2 2 and 3.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_session.hpp>
#include <catch2/catch_test_case_info.hpp>
#include <catch2/internal/catch_test_case_registry_impl.hpp>
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>
using listener_base = Catch::EventListenerBase;
namespace cli = Catch::Clara;
#else
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_CONSOLE_WIDTH 160  // transcripts read better unwrapped (Catch2 3: fixed at 80)
#include <catch2/catch.hpp>
using listener_base = Catch::TestEventListenerBase;
namespace cli = Catch::clara;
#endif

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/workshop_test.hpp"

namespace {

struct options_t {
  std::string results;  // --results FILE: a JSON line per test case
  std::string expect;   // --expect pass|fail|caught: the exit code says whether that held
  bool list_cases = false;  // --list-cases: a JSON line per case (name, tags) on stdout
};
options_t& options() {
  static options_t instance;
  return instance;
}

std::vector<std::string> tags_of(const Catch::TestCaseInfo& info) {
  std::vector<std::string> tags;
  for (const auto& tag : info.tags) {
#if __has_include(<catch2/catch_test_macros.hpp>)
    tags.emplace_back(tag.original.data(), tag.original.size());
#else
    tags.push_back(tag);
#endif
  }
  return tags;
}

// What one failed assertion says: a story's message as it is; an expression with its expansion,
// an exception's text, a crash, each with the test's file and line.
std::string failure_text(const Catch::AssertionResult& result) {
  const auto where = std::string{result.getSourceInfo().file} + ":" +
                     std::to_string(result.getSourceInfo().line);
  const auto message = static_cast<std::string>(result.getMessage());
  switch (result.getResultType()) {
    case Catch::ResultWas::ExplicitFailure:
      if (where.find("support/src/story.cpp") != std::string::npos) return message;
      return "the test: " + where + "\nfailed: " + message;
    case Catch::ResultWas::ThrewException:
      return "the test: " + where + "\nan exception: " + message;
    case Catch::ResultWas::FatalErrorCondition:
      return "the test: " + where + "\na fatal error: " + message;
    default: {
      std::string text = "the test: " + where + "\n" + std::string{result.getExpressionInMacro()};
      const auto expanded = result.getExpandedExpression();
      if (!expanded.empty() && expanded != result.getExpression())
        text += "\nwith expansion:\n  " + expanded;
      return text;
    }
  }
}

// Counts each case's outcome for --expect, writes it for --results, restarts the story.
struct case_recorder : listener_base {
  using listener_base::listener_base;
  struct outcome {
    std::string name;
    bool passed;
  };
  static inline std::vector<outcome> outcomes;
  static inline std::ofstream results;

  nlohmann::json current;
  std::chrono::steady_clock::time_point started;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    testing::restart_story();
    started = std::chrono::steady_clock::now();
    current = {{"name", info.name},
               {"tags", tags_of(info)},
               {"where", std::string{info.lineInfo.file} + ":" + std::to_string(info.lineInfo.line)},
               {"passed", nullptr},  // stays null in the file if the executable dies mid-case
               {"failures", nlohmann::json::array()}};
    write(current);
  }
#if __has_include(<catch2/catch_test_macros.hpp>)
  void assertionEnded(const Catch::AssertionStats& stats) override { note(stats); }
#else
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    note(stats);
    return true;
  }
#endif
  void note(const Catch::AssertionStats& stats) {
    if (!stats.assertionResult.isOk())
      current["failures"].push_back(failure_text(stats.assertionResult));
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    const bool passed = stats.totals.assertions.failed == 0 && stats.totals.testCases.failed == 0;
    current["passed"] = passed;
    current["seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    write(current);
    outcomes.push_back({current["name"].get<std::string>(), passed});
  }
  static void write(const nlohmann::json& line) {
    if (results.is_open()) results << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  }
};

// --expect: pass (every selected case passes), fail (every one fails: a step not done yet),
// caught (at least one fails: a known-bad variant). At least one case must have run.
int judge(const std::string& expect, const std::string& spec) {
  const auto& outcomes = case_recorder::outcomes;
  std::size_t failed = 0;
  for (const auto& outcome : outcomes) failed += outcome.passed ? 0 : 1;
  if (outcomes.empty()) {
    std::cout << "no test case matches " << spec << ": the check proves nothing\n";
    return 1;
  }
  auto list = [&](bool passed) {
    for (const auto& outcome : outcomes)
      if (outcome.passed == passed) std::cout << "  - " << outcome.name << '\n';
  };
  if (expect == "caught") {
    if (failed == 0) {
      std::cout << "HOLE: all " << outcomes.size()
                << " test cases pass against this mistake. Add a test that catches it.\n";
      return 1;
    }
    std::cout << "caught by " << failed << " of " << outcomes.size() << " test cases:\n";
    list(false);
    return 0;
  }
  const bool want_pass = expect == "pass";
  const std::size_t wrong = want_pass ? failed : outcomes.size() - failed;
  if (wrong > 0) {
    std::cout << "expected every case of " << spec << " to " << expect << "; these did not:\n";
    list(!want_pass);
    return 1;
  }
  std::cout << "all " << outcomes.size() << " case(s) of " << spec << " " << expect
            << ", as they should:\n";
  list(want_pass);
  return 0;
}

int list_cases(Catch::Session& session) {
  const auto& config = session.config();
  for (const auto& test : Catch::filterTests(Catch::getAllTestCasesSorted(config),
                                             config.testSpec(), config)) {
#if __has_include(<catch2/catch_test_macros.hpp>)
    const auto& info = test.getTestCaseInfo();
#else
    const auto& info = test;
#endif
    std::cout << nlohmann::json{{"name", info.name}, {"tags", tags_of(info)}}.dump() << '\n';
  }
  return 0;
}

}  // namespace

CATCH_REGISTER_LISTENER(case_recorder)

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);  // a server that hangs up must fail a test, not kill it
  Catch::Session session;
  auto& settings = testing::settings();
  auto& opts = options();
  session.cli(session.cli() |
              cli::Opt(settings.program, "path")["--program"]("the program under test") |
              cli::Opt(settings.lesson_readme, "path")["--lesson-readme"]("the lesson text for hints") |
              cli::Opt(opts.results, "file")["--results"]("write a JSON line per test case") |
              cli::Opt(opts.expect, "pass|fail|caught")["--expect"]("exit 0 only if that held") |
              cli::Opt(opts.list_cases)["--list-cases"]("a JSON line per test case, then exit"));
  if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
  if (opts.list_cases) return list_cases(session);
  const auto& config = session.configData();
#if __has_include(<catch2/catch_test_macros.hpp>)
  const bool listing = config.listTests || config.listTags || config.listReporters;
#else
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters;
#endif
  if (settings.program.empty() && !listing) {
    std::fprintf(stderr, "usage: %s --program PATH [catch2 options]\n", argv[0]);
    return 2;
  }
  if (!settings.program.empty() && access(settings.program.c_str(), X_OK) != 0) {
    // Else every case would fail to start it, and a known-bad variant would look caught.
    std::fprintf(stderr, "%s is not built: build it first (cmake --build build)\n",
                 settings.program.c_str());
    return 2;
  }
  if (!opts.expect.empty() && opts.expect != "pass" && opts.expect != "fail" &&
      opts.expect != "caught") {
    std::fprintf(stderr, "--expect takes pass, fail or caught, not %s\n", opts.expect.c_str());
    return 2;
  }
  if (!opts.results.empty()) {
    case_recorder::results.open(opts.results, std::ios::trunc);
    if (!case_recorder::results) {
      std::fprintf(stderr, "cannot write %s\n", opts.results.c_str());
      return 2;
    }
  }
  const int status = session.run();
  if (opts.expect.empty()) return status;
  std::string spec;
  for (const auto& part : config.testsOrTags) spec += (spec.empty() ? "" : " ") + part;
  return judge(opts.expect, spec.empty() ? "the lesson's tests" : spec);
}
