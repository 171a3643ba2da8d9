#pragma once
// Provided: you do not edit this. distributed_chat's flags (docs/programs.md), written into a
// node_settings: --redis, --redis-ping-ms, --redis-timeout-ms, --channel, --history,
// --max-queued, lesson 03's session flags (--max-line, --max-backlog, --soft-backlog,
// --soft-backlog-ms) and --max-clients. The program adds its listen flags itself.
#include <chrono>
#include <cstdint>
#include <string>

#include "chat_node.hpp"
#include "redis_client.hpp"
#include "session_flags.hpp"
#include "workshop/program.hpp"

// Adds the flags to `app`; each one, when given, overwrites its part of `settings` (which
// holds the defaults the help shows).
inline void add_node_flags(CLI::App& app, node_settings& settings) {
  const std::string default_redis = "127.0.0.1:6379";
  settings.redis = *redis::parse_address(default_redis);
  app.add_option_function<std::string>(
         "--redis",
         [&settings](const std::string& text) { settings.redis = *redis::parse_address(text); },
         "Redis to meet the other servers at: HOST:PORT or redis://[USER:PASSWORD@]HOST:PORT")
      ->default_str(default_redis)
      ->check([](const std::string& text) {
        return redis::parse_address(text) ? std::string{}
                                          : std::string{"expected HOST:PORT or redis://..."};
      });
  // A duration flag in milliseconds, written into `field` when given.
  const auto add_milliseconds = [&app](const char* name, std::chrono::milliseconds& field,
                                       const char* what) {
    app.add_option_function<std::int64_t>(
           name, [&field](std::int64_t ms) { field = std::chrono::milliseconds{ms}; }, what)
        ->default_str(std::to_string(field.count()))
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400'000}));  // a day at most
  };
  add_milliseconds("--redis-ping-ms", settings.redis_check.interval,
                   "PING Redis after this long without a word from it");
  add_milliseconds("--redis-timeout-ms", settings.redis_check.deadline,
                   "No reply to that PING within this: the connection is dropped and made again");
  app.add_option("--channel", settings.channel, "Redis channel the servers share")
      ->capture_default_str();
  app.add_option("--history", settings.history, "Lines a newcomer gets first (0: none)")
      ->capture_default_str();
  app.add_option(
         "--max-queued", settings.max_queued,
         "Lines waiting for Redis (away or busy); past it a sender is told its line was lost")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  chat::add_session_flags(app, settings.limits);  // --max-line, --max-backlog, --soft-backlog...
  workshop::add_max_clients_flag(app, settings.max_clients);
}
