#pragma once
// The room: who is connected, and the one loop that fans a line out to all of them.
//
//   var sockets = [];                                    // the room
//   sockets.push(socket);                                // join
//   for (...) { if (sockets[i] == socket) continue;      // broadcast to all but the sender
//               sockets[i].write(data); }
//   sockets.splice(sockets.indexOf(socket), 1);          // leave
//
// Nothing here touches a socket, so the fan-out loop can be benchmarked on its own.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

// One line of chat, stored once and shared by every recipient's queue (no copy per recipient).
using message = std::shared_ptr<const std::string>;

// Wraps `line` (with its '\n') as a message.
message make_message(std::string line);

// Someone in the room: anything the room can hand a line to.
class participant {
 public:
  virtual ~participant() = default;
  virtual const std::string& user_id() const = 0;  // who this is; a broadcast skips its author
  // Queues `line` for this participant. Called while the room iterates: it must not join or
  // leave the room itself (a session that has to go closes its socket and leaves later).
  virtual void deliver(const message& line) = 0;
};

using participant_ptr = std::shared_ptr<participant>;

class chat_room {
 public:
  void join(participant_ptr newcomer);        // sockets.push(socket)
  void leave(const participant_ptr& leaver);  // sockets.splice(...): forgets it, if present
  // Delivers `line` to everyone whose user_id() is not `author_id`, in the order they joined.
  void broadcast(const message& line, std::string_view author_id);
  std::size_t size() const { return participants_.size(); }  // how many are connected

 private:
  std::vector<participant_ptr> participants_;
  bool broadcasting_ = false;  // catches a deliver() that tries to leave mid-loop
};

}  // namespace chat
