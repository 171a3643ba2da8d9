#include "testing/conventions.hpp"

#include <csignal>

#include "testing/catch.hpp"
#include "testing/workshop_test.hpp"

namespace testing {

void check_help_exits_zero() {
  const auto result = run_to_exit({"--help"});
  if (result.exit_code != 0 || result.out.find("--port") == std::string::npos) {
    fail("`--help` to print usage naming --port on stdout and exit 0",
         "exit code " + std::to_string(result.exit_code) + ", stdout " + show(result.out, 300),
         "flags come from workshop::add_listen_flags and workshop::parse_flags_or_exit");
  }
}

void check_bad_flags_exit_two() {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--no-such-flag"},
        std::vector<std::string>{"--port", "not-a-number"}}) {
    const auto result = run_to_exit(args);
    if (result.exit_code != 2 || result.err.empty() || !result.out.empty()) {
      fail("`" + args[0] + "` to print an error on stderr (nothing on stdout) and exit 2",
           "exit code " + std::to_string(result.exit_code) + ", stderr " + show(result.err, 200) +
               ", stdout " + show(result.out, 200),
           "workshop::parse_flags_or_exit maps CLI11's errors to exit code 2");
    }
  }
}

void check_stops_on_signals(const std::vector<std::string>& args) {
  for (const int signal : {SIGTERM, SIGINT}) {
    auto program = server::start(args);
    auto visitor = client::connect(program.port(), "visitor");
    const auto before = std::chrono::steady_clock::now();
    const int code = program.stop(signal, 1000ms);
    const auto took = std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - before);
    note(std::string{"sent "} + (signal == SIGTERM ? "SIGTERM" : "SIGINT") + ", exit code " +
         std::to_string(code) + " after " + std::to_string(took.count()) + " ms");
    if (code != 0) {
      fail("exit code 0 within 1000 ms of the signal",
           code == -1 ? std::string{"still running (killed)"} : "exit code " + std::to_string(code),
           "workshop::on_stop_signal calls you back: stop accepting and let io.run() return");
    }
  }
}

}  // namespace testing
