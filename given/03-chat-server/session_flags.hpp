#pragma once
// Provided: you do not edit this. The flags of a chat session's limits, shared by lesson 03's
// chat_server and lesson 04's distributed_chat: --max-line, --max-backlog, --soft-backlog and
// --soft-backlog-ms (docs/programs.md).
#include <algorithm>
#include <string>

#include "chat_session.hpp"
#include "workshop/program.hpp"

namespace chat {

// Adds the four flags to `app`, writing into `limits`. Once every flag is read: a --soft-backlog
// above --max-backlog is a bad flag (exit 2); left out, the soft limit is its default or the
// hard one, whichever is smaller, so `--max-backlog N` alone always works.
inline void add_session_flags(CLI::App& app, session_limits& limits) {
  app.add_option("--max-line", limits.max_line, "Longest line in bytes; longer drops its sender")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-backlog", limits.max_backlog,
                 "Most bytes queued for one client; past it that client is dropped at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto* soft = app.add_option(
                      "--soft-backlog", limits.soft_backlog,
                      "Bytes queued for one client it may stay above for --soft-backlog-ms only "
                      "(default: this or --max-backlog, whichever is smaller)")
                   ->capture_default_str()
                   ->check(CLI::PositiveNumber);
  app.add_option("--soft-backlog-ms", limits.soft_backlog_ms,
                 "How long a client may stay above --soft-backlog before it is dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.callback([&limits, soft] {
    if (soft->count() == 0) limits.soft_backlog = std::min(limits.soft_backlog, limits.max_backlog);
    if (limits.soft_backlog > limits.max_backlog) {
      throw CLI::ValidationError{
          "--soft-backlog " + std::to_string(limits.soft_backlog),
          "must not be more than --max-backlog " + std::to_string(limits.max_backlog)};
    }
  });
}

}  // namespace chat
