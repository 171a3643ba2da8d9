// The story of a test: a numbered transcript of its steps, printed when it fails.
#include <algorithm>
#include <mutex>
#include <sstream>

#include "testing/catch.hpp"
#include "testing/workshop_test.hpp"

namespace testing {
namespace {

struct story_t {
  std::mutex mutex;
  std::vector<std::string> steps;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

story_t& story() {
  static story_t instance;
  return instance;
}

}  // namespace

void restart_story() {
  std::lock_guard lock{story().mutex};
  story().steps.clear();
  story().start = std::chrono::steady_clock::now();
}

}  // namespace testing

namespace testing {

settings_t& settings() {
  static settings_t instance;
  return instance;
}

long long elapsed_ms() {
  return std::chrono::duration_cast<ms>(std::chrono::steady_clock::now() - story().start).count();
}

void note(std::string step) {
  std::ostringstream line;
  line << '[' << elapsed_ms() << " ms] " << step;
  std::lock_guard lock{story().mutex};
  story().steps.push_back(line.str());
}

std::string transcript() {
  constexpr std::size_t head = 40;
  constexpr std::size_t tail = 25;
  std::lock_guard lock{story().mutex};
  const auto& steps = story().steps;
  std::ostringstream text;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps.size() > head + tail && i == head) {
      text << "   ... " << steps.size() - head - tail << " more steps ...\n";
      i = steps.size() - tail;
    }
    text << "  " << i + 1 << ". " << steps[i] << '\n';
  }
  return text.str();
}

std::string first_difference(std::string_view expected, std::string_view got) {
  const auto limit = std::min(expected.size(), got.size());
  std::size_t at = 0;
  while (at < limit && expected[at] == got[at]) ++at;
  return std::to_string(got.size()) + " of " + std::to_string(expected.size()) +
         " bytes; the first difference at byte " + std::to_string(at);
}

std::string show(std::string_view bytes, std::size_t limit) {
  std::string text = "\"";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == limit) {
      text += "\"... (" + std::to_string(bytes.size()) + " bytes in all)";
      return text;
    }
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\n':
        text += "\\n";
        break;
      case '\r':
        text += "\\r";
        break;
      case '\t':
        text += "\\t";
        break;
      case '"':
        text += "\\\"";
        break;
      case '\\':
        text += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          static constexpr char digits[] = "0123456789abcdef";
          text += "\\x";
          text += digits[c >> 4];
          text += digits[c & 0xf];
        } else {
          text += static_cast<char>(c);
        }
    }
  }
  return text + "\"";
}

void fail(std::string_view expected, std::string_view got, std::string_view hint) {
  std::ostringstream message;
  const std::string story = transcript();
  message << "\nWhat happened (ms since the test started):\n"
          << story << "Expected: " << expected << "\nGot:      " << got << '\n';
  if (const auto said = servers_said(); !said.empty()) message << said;
  // The mark a debug build's read_some_shared leaves on bytes once their reader has gone on
  if (constexpr std::string_view stale = "<stale: read before a co_await>";
      story.find(stale) != std::string::npos || got.find(stale) != std::string_view::npos) {
    message << "Note:     the server sent \"" << stale << "\": it used the bytes of a read after "
            << "its next co_await\n          (common/include/workshop/shared_read.hpp)\n";
  }
  if (!hint.empty()) {
    message << "Hint:     " << hint;
    if (!settings().lesson_readme.empty()) message << " (" << settings().lesson_readme << ")";
    message << '\n';
  }
  FAIL(message.str());
  throw std::logic_error("unreachable: FAIL throws");  // keeps [[noreturn]] honest
}

}  // namespace testing
