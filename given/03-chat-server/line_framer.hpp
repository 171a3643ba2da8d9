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

  // Adds `bytes` and hands every line they complete to `on_lines` as ONE block: whole lines
  // only, each with its '\n', in order; nothing when no line is complete yet. One block per
  // read means one message, one queue push and one write per recipient, however many lines
  // the read held. False when a line has more than max_line bytes before its '\n' (the '\n'
  // does not count), or the unfinished line has more already: its sender is to be dropped. The
  // lines before it are handed on, nothing from it on.
  bool push(std::string_view bytes, const std::function<void(std::string lines)>& on_lines);
  const std::string& pending() const { return received_; }  // the unfinished line so far

 private:
  std::size_t max_line_;
  std::string received_;  // bytes read but not yet cut into lines
};

}  // namespace chat
