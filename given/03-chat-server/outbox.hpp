#pragma once
// One client's outgoing queue: shared lines waiting for its writer, bounded in bytes.
// Node.js's socket.write() buffers without limit, so one client that stops reading makes the
// server's memory grow until it dies; an outbox says "no" instead, and the session drops that
// client.
#include <cstddef>
#include <vector>

#include "chat_room.hpp"

namespace chat {

class outbox {
 public:
  explicit outbox(std::size_t max_bytes) : max_bytes_{max_bytes} {}  // the backlog limit

  // Queues `line`. False, and nothing queued, when the backlog would pass the limit.
  bool push(const message& line);
  bool empty() const { return queued_.empty(); }  // nothing waiting for the writer
  // Hands the writer everything queued, oldest first, for one gather write.
  std::vector<message> take_all();
  // The writer has sent `batch`: its bytes stop counting against the limit.
  void written(const std::vector<message>& batch);
  std::size_t bytes() const { return bytes_; }  // queued plus being written

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::vector<message> queued_;
};

}  // namespace chat
