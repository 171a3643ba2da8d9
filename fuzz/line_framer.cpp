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
  std::size_t blocks = 0, pushes = 0;
  // Each push hands on at most one block of whole lines: cut here, to check each line.
  const auto keep = [&lines, &blocks](std::string block) {
    ++blocks;
    require(!block.empty() && block.back() == '\n', "a block is whole lines, ending in \n");
    for (std::size_t start = 0; start < block.size();) {
      const auto end = block.find('\n', start);
      lines.push_back(block.substr(start, end + 1 - start));
      start = end + 1;
    }
  };
  bool dropped = false;
  std::size_t fed = 0;
  while (fed < input.size() && !dropped) {
    const auto chunk = input.substr(fed, piece);
    fed += chunk.size();
    dropped = !framer.push(chunk, keep);
    ++pushes;
    require(blocks <= pushes, "at most one block per push");
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
    std::string block_at_once;
    require(whole.push(input, [&block_at_once](std::string block) { block_at_once = block; }),
            "one push accepts what many pushes accepted");
    require(block_at_once == joined, "the same lines whatever the read sizes");
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
