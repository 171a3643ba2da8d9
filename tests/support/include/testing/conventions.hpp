#pragma once
// What every workshop program does the same way (../shared/spec/programs.md, "Shared by all
// five"). Each lesson's tests call these from their own test cases.
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

}  // namespace testing
