#pragma once
// One line of log on stderr per call, written with one write(2).
#include <asio.hpp>
#include <sstream>
#include <string>
#include <string_view>

namespace workshop {

// Writes `line` to stderr with one write(2) (more only if the kernel takes part of it).
void write_log_line(std::string_view line);

// Writes one log line to stderr: log("client ", id, " left"). Parts only, no manipulators
// (std::hex, std::setw...): the stream is reused, so their state would carry into later lines.
template <typename... Parts>
void log(const Parts&... parts) {
  thread_local std::ostringstream line;  // reused: a proxy logs every connection
  line.str({});
  line.clear();
  (line << ... << parts);
  line << '\n';
  write_log_line(line.view());
}

// "HOST:PORT" of a connected or listening endpoint, for logs.
std::string to_string(const asio::ip::tcp::endpoint& endpoint);

}  // namespace workshop
