// Fuzz target: lesson 03's line framer (chat::line_framer), fed any bytes in any pieces.
// The first byte picks the piece sizes and a small --max-line, so both the limit and the
// splitting across reads get exercised.
#include "line_framer.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void require(bool holds, const char* what) {
  if (!holds) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 17;         // bytes per read: 1 to 17
  const std::size_t max_line = 1 + data[0] / 17 * 4;  // --max-line: 1 to 61
  const std::string_view input{reinterpret_cast<const char*>(data) + 1, size - 1};

  chat::line_framer framer{max_line};
  std::vector<std::string> lines;
  const auto keep = [&lines](std::string line) { lines.push_back(std::move(line)); };
  bool dropped = false;
  std::size_t fed = 0;
  while (fed < input.size() && !dropped) {
    const auto chunk = input.substr(fed, piece);
    fed += chunk.size();
    dropped = !framer.push(chunk, keep);
  }

  std::string joined;
  for (const auto& line : lines) {
    require(!line.empty() && line.back() == '\n', "every line ends with its \\n");
    require(line.find('\n') == line.size() - 1, "a line holds exactly one \\n");
    require(line.size() - 1 <= max_line, "no line handed on is over max_line");
    joined += line;
  }
  if (!dropped) {
    // Nothing lost, nothing invented: the lines and the unfinished rest are the input.
    require(joined + framer.pending() == input, "lines + pending == input");
    require(framer.pending().find('\n') == std::string::npos, "pending holds no \\n");
    require(framer.pending().size() <= max_line, "pending within max_line");
    // One push of everything gives the same lines as many small pushes.
    chat::line_framer whole{max_line};
    std::vector<std::string> at_once;
    require(whole.push(input, [&at_once](std::string line) { at_once.push_back(line); }),
            "one push accepts what many pushes accepted");
    require(at_once == lines, "same lines whatever the read sizes");
  } else {
    // The lines handed on before the drop are a prefix of the input, and a too-long line is
    // really there right after them.
    require(input.substr(0, joined.size()) == joined,
            "lines before the drop are the input's start");
    const auto rest = input.substr(joined.size());
    const auto end = rest.find('\n');
    require((end == std::string_view::npos ? rest.size() : end) > max_line,
            "a drop means a line over max_line");
  }
  return 0;
}
