#include "outbox.hpp"

#include <utility>

namespace chat {

outbox::verdict outbox::push(const message& line) {
  if (bytes_ + line->size() > hard_bytes_) return verdict::over_hard;
  if (above_soft_since_ && clock::now() - *above_soft_since_ >= soft_time_) {
    return verdict::over_soft_too_long;
  }
  bytes_ += line->size();
  queued_.push_back(line);  // a copy of the pointer, not of the line
  if (bytes_ > soft_bytes_ && !above_soft_since_) above_soft_since_ = clock::now();
  return verdict::queued;
}

std::vector<message> outbox::take_all() {
  return std::exchange(queued_, {});
}

void outbox::written(const std::vector<message>& batch) {
  for (const auto& line : batch) bytes_ -= line->size();
  if (bytes_ <= soft_bytes_) above_soft_since_.reset();  // caught up: behind no more
}

}  // namespace chat
