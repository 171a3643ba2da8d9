#pragma once
// What every workshop program does the same way (docs/programs.md, "Shared by all five").
// The test cases are written once (src/convention_cases.cpp) and linked into every lesson's test
// executable; a lesson's test file says what is particular to its program by defining
// this_program_conventions().
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace testing {

// `--help` prints usage on stdout and exits 0.
void check_help_exits_zero();
// An unknown flag and a bad value each print an error on stderr and exit 2.
void check_bad_flags_exit_two();
// SIGINT and SIGTERM each make a running server exit 0 within a second, also with a client
// connected. `args` are extra flags the program needs to start.
void check_stops_on_signals(const std::vector<std::string>& args = {});

// What one lesson's program adds to the shared [conventions] cases.
struct program_conventions {
  struct bad_flags {
    std::vector<std::string> args;  // e.g. {"--max-backlog", "lots"}: must exit 2 as well
    std::string why;                // the hint if it does not
  };
  std::vector<bad_flags> more_bad_flags;
  // Starts what the program needs beside it (Redis, a backend), kept alive in `peers`, and
  // returns the flags that point the program at it. Empty: the program needs nothing.
  std::function<std::vector<std::string>(std::shared_ptr<void>& peers)> start_peers;
};

// Each lesson's test file defines it.
program_conventions this_program_conventions();

}  // namespace testing
