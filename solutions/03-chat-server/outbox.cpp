#include "outbox.hpp"

#include <utility>

namespace chat {

bool outbox::push(const message& line) {
  if (bytes_ + line->size() > max_bytes_) return false;
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
