#include "line_framer.hpp"

namespace chat {

bool line_framer::push(std::string_view bytes,
                       const std::function<void(std::string lines)>& on_lines) {
  // TODO step 4: keep `bytes` after what came before; hand every line now complete to on_lines
  //              as ONE block (whole lines, each with its '\n', in order: one read, one
  //              message), and keep the unfinished rest. False when a line has more than
  //              max_line_ bytes before its '\n' (which does not count), or the rest has more
  //              already; the lines before it are still handed on. (tests: "two
  //              senders' long lines sent in tiny fragments never interleave", "a line over
  //              --max-line drops only its sender")
  (void)bytes;
  (void)on_lines;
  return true;
}

}  // namespace chat
