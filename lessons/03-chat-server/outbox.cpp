#include "outbox.hpp"

#include <utility>

namespace chat {

outbox::verdict outbox::push(const message& line) {
  // TODO step 5: two limits (README: the slow reader and the stopped one). Refuse a line past the
  //              hard limit, and any line once the backlog has stayed above the soft limit for the
  //              soft time, counted from when it rose above; a refused line is not queued, and the
  //              verdict says which limit refused it. (tests: "a client that never reads is dropped
  //              past --max-backlog, the others go on", "a burst past --max-backlog drops a client
  //              at once, even with a long --soft-backlog-ms", "a stopped reader is dropped after
  //              --soft-backlog-ms past --soft-backlog, not before")
  bytes_ += line->size();
  queued_.push_back(line);  // a copy of the pointer, not of the line
  return verdict::queued;
}

std::vector<message> outbox::take_all() {
  return std::exchange(queued_, {});
}

void outbox::written(const std::vector<message>& batch) {
  for (const auto& line : batch) bytes_ -= line->size();
  // TODO step 5: a reader that has caught up (its backlog back at or under the soft limit) is
  //              behind no more: the next time it falls behind, it gets the whole soft time
  //              again, however long it was behind before. (test: "a reader briefly past
  //              --soft-backlog is kept and gets every line, a stopped one is dropped")
}

}  // namespace chat
