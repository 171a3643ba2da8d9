#pragma once
// TCP delivers bytes, not lines: one read can hold half a line, or three. A line framer keeps
// the bytes that have arrived and hands on only complete lines. No sockets, no Asio: a fuzz
// target (fuzz/line_framer.cpp) can feed it anything.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace chat {

class line_framer {
 public:
  explicit line_framer(std::size_t max_line) : max_line_{max_line} {}  // --max-line

  // Adds `bytes` and hands each line they complete (with its '\n') to `on_line`, in order.
  // False when a line is longer than max_line (its sender is to be dropped): it stops there.
  bool push(std::string_view bytes, const std::function<void(std::string line)>& on_line);
  const std::string& pending() const { return received_; }  // the unfinished line so far

 private:
  std::size_t max_line_;
  std::string received_;  // bytes read but not yet cut into lines
};

}  // namespace chat
