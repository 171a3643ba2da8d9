#include "chat_room.hpp"

#include <algorithm>
#include <cassert>

namespace chat {

message make_message(std::string line) {
  return std::make_shared<const std::string>(std::move(line));
}

void chat_room::join(participant_ptr newcomer) {
  // TODO step 2: sockets.push(socket): add `newcomer` to participants_.
  (void)newcomer;
}

void chat_room::leave(const participant_ptr& leaver) {
  assert(!broadcasting_ && "leave the room from the session's own coroutine, not from deliver()");
  // TODO step 3: sockets.splice(sockets.indexOf(socket), 1): remove `leaver` from
  //              participants_ (std::erase does it in one line).
  (void)leaver;
}

void chat_room::broadcast(const message& line, std::string_view author_id) {
  broadcasting_ = true;
  // TODO step 2: for each participant: skip the one whose user_id() is `author_id`
  //              (if (sockets[i] == socket) continue;), deliver(line) to the others
  //              (sockets[i].write(data);). The same `line` for all: no copies.
  (void)line;
  (void)author_id;
  broadcasting_ = false;
}

}  // namespace chat
