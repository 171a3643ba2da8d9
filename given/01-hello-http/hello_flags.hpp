#pragma once
// Provided: you do not edit this. The settings both lesson-01 servers take from their command
// line (hello_http and, for comparison, blocking_http), with one parser for both.
#include <chrono>
#include <cstddef>

#include "workshop/program.hpp"

struct hello_settings {
  std::chrono::milliseconds delay{1000};          // --delay-ms: from Hello to World
  std::chrono::milliseconds idle_timeout{10000};  // --idle-timeout-ms: how long a client may take
  std::size_t max_clients = workshop::default_max_clients;  // --max-clients: past it, 503
};

// --host, --port, --delay-ms, --idle-timeout-ms (and --max-clients when `many_at_once`): the
// settings, or an exit after --help or a bad flag (workshop::parse_flags_or_exit).
inline hello_settings parse_hello_flags(int argc, char** argv, const std::string& about,
                                        const std::string& name, workshop::listen_address& address,
                                        bool many_at_once) {
  CLI::App app{about, name};
  workshop::add_listen_flags(app, address);
  hello_settings settings;
  long delay_ms = settings.delay.count();
  long idle_timeout_ms = settings.idle_timeout.count();
  app.add_option("--delay-ms", delay_ms, "Milliseconds from Hello to World")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--idle-timeout-ms", idle_timeout_ms,
                 "Drop a client that takes longer than this to send its request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  if (many_at_once) workshop::add_max_clients_flag(app, settings.max_clients);
  workshop::parse_flags_or_exit(app, argc, argv);
  settings.delay = std::chrono::milliseconds{delay_ms};
  settings.idle_timeout = std::chrono::milliseconds{idle_timeout_ms};
  return settings;
}
