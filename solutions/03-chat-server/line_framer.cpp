#include "line_framer.hpp"

#include <utility>

namespace chat {

bool line_framer::push(std::string_view bytes,
                       const std::function<void(std::string lines)>& on_lines) {
  received_.append(bytes);
  std::size_t start = 0;  // where the first line not yet checked begins
  bool too_long = false;
  for (auto end = received_.find('\n'); end != std::string::npos;
       end = received_.find('\n', start)) {
    if (end - start > max_line_) {
      too_long = true;
      break;
    }
    start = end + 1;
  }
  too_long = too_long || received_.size() - start > max_line_;  // no '\n' yet, already too long
  if (start > 0) {  // the complete lines go as one block; the unfinished one stays
    std::string rest = received_.substr(start);
    received_.resize(start);
    on_lines(std::exchange(received_, std::move(rest)));
  }
  return !too_long;
}

}  // namespace chat
