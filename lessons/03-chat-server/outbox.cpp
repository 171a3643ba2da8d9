#include "outbox.hpp"

#include <utility>

namespace chat {

bool outbox::push(const message& line) {
  // TODO step 5: if bytes_ plus this line would pass max_bytes_, queue nothing and return
  //              false (the session then drops its client).
  bytes_ += line->size();
  queued_.push_back(line);  // a copy of the pointer, not of the line
  return true;
}

std::vector<message> outbox::take_all() {
  return std::exchange(queued_, {});
}

void outbox::written(const std::vector<message>& batch) {
  for (const auto& line : batch) bytes_ -= line->size();
}

}  // namespace chat
