// The [conventions] cases every lesson's program passes, written once: workshop_lesson_tests
// links this file into each lesson's test executable (tests/CMakeLists.txt).

#include "testing/catch.hpp"
#include "testing/conventions.hpp"
#include "testing/workshop_test.hpp"

using namespace testing;

TEST_CASE("the help flag prints usage and exits 0", "[conventions]") {
  check_help_exits_zero();
}

TEST_CASE("a bad flag or value exits 2", "[conventions]") {
  check_bad_flags_exit_two();
  for (const auto& bad : this_program_conventions().more_bad_flags) {
    const auto result = run_to_exit(bad.args);
    if (result.exit_code != 2) {
      std::string shown;
      for (const auto& arg : bad.args) shown += (shown.empty() ? "" : " ") + arg;
      fail("`" + shown + "` to be refused with exit code 2",
           "exit code " + std::to_string(result.exit_code), bad.why);
    }
  }
}

TEST_CASE("SIGINT and SIGTERM stop it with exit 0 within a second", "[conventions]") {
  const auto conventions = this_program_conventions();
  std::shared_ptr<void> peers;
  check_stops_on_signals(conventions.start_peers ? conventions.start_peers(peers)
                                                 : std::vector<std::string>{});
}
