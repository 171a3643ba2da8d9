#include "line_framer.hpp"

namespace chat {

bool line_framer::push(std::string_view bytes,
                       const std::function<void(std::string line)>& on_line) {
  received_.append(bytes);
  std::size_t start = 0;
  for (auto end = received_.find('\n'); end != std::string::npos;
       end = received_.find('\n', start)) {
    if (end - start > max_line_) return false;
    on_line(received_.substr(start, end + 1 - start));
    start = end + 1;
  }
  received_.erase(0, start);             // keep the unfinished line for the next chunk
  return received_.size() <= max_line_;  // no '\n' yet, and already too long?
}

}  // namespace chat
