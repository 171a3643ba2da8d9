#include "outbox.hpp"

#include <utility>

namespace chat {

bool outbox::push(const message& line) {
  // TODO step 5: refuse (queue nothing, return false) a line that would take bytes_ past
  //              max_bytes_: the session then drops its client. (test: "a client that never
  //              reads is dropped past --max-backlog, the others go on")
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
