#pragma once
// One client's outgoing queue: shared lines waiting for its writer, bounded in bytes.
// Node.js's socket.write() buffers without limit, so one client that stops reading makes the
// server's memory grow until it dies; an outbox says "no" instead, and the session drops that
// client. It has two limits, as Redis has for its subscribers (client-output-buffer-limit
// pubsub HARD SOFT SECONDS), because from the server a client that reads slowly and one that
// stopped look alike: both are behind.
//   hard: a line that would take the backlog past it is refused at once (a stopped client
//         never holds more);
//   soft: a backlog may go above it for a burst, but once it has stayed above it for
//         soft_time, the next line is refused (a stopped client falls that far behind and stays).
// Both are checked when a line comes, never by a timer: a stopped client that is sent nothing
// more is not dropped, but its backlog does not grow either, and the next line drops it.
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "chat_room.hpp"

namespace chat {

class outbox {
 public:
  using clock = std::chrono::steady_clock;
  enum class verdict { queued, over_hard, over_soft_too_long };  // what push() did with a line

  outbox(std::size_t hard_bytes, std::size_t soft_bytes, std::chrono::milliseconds soft_time)
      : hard_bytes_{hard_bytes}, soft_bytes_{soft_bytes}, soft_time_{soft_time} {}

  // Queues `line`, or refuses it (nothing queued) and says which limit: over_hard when the
  // backlog would pass hard_bytes, over_soft_too_long when it has been above soft_bytes for
  // soft_time already.
  verdict push(const message& line);
  bool empty() const { return queued_.empty(); }  // nothing waiting for the writer
  const std::vector<message>& queued() const { return queued_; }  // what waits, oldest first
  // Hands the writer everything queued, oldest first, for one gather write.
  std::vector<message> take_all();
  // The writer has sent `batch`: its bytes stop counting against the limits, and a backlog
  // back at or below soft_bytes forgets since when it was above.
  void written(const std::vector<message>& batch);
  std::size_t bytes() const { return bytes_; }  // queued plus being written

 private:
  std::size_t hard_bytes_;
  std::size_t soft_bytes_;
  std::chrono::milliseconds soft_time_;
  std::size_t bytes_ = 0;
  std::optional<clock::time_point> above_soft_since_;  // set while bytes_ > soft_bytes_
  std::vector<message> queued_;
};

}  // namespace chat
