#include "chat_room.hpp"

#include <algorithm>
#include <cassert>

namespace chat {

message make_message(std::string line) {
  return std::make_shared<const std::string>(std::move(line));
}

void chat_room::join(participant_ptr newcomer) {
  // TODO step 2: sockets.push(socket): the newcomer joins the participants.
  //              (test: "a line from A reaches B and C byte for byte, and never comes back to A")
  (void)newcomer;
}

void chat_room::leave(const participant_ptr& leaver) {
  assert(!broadcasting_ && "leave the room from the session's own coroutine, not from deliver()");
  // TODO step 3: sockets.splice(sockets.indexOf(socket), 1): the leaver is a participant no
  //              more. (tests: "a client that hangs up is closed and forgotten", "clients that
  //              come and go are forgotten: memory does not grow with them")
  (void)leaver;
}

void chat_room::broadcast(const message& line, std::string_view author_id) {
  broadcasting_ = true;
  // TODO step 2: for (...) { if (sockets[i] == socket) continue; sockets[i].write(data); }:
  //              hand `line` to every participant but the one whose user id is `author_id`;
  //              the same message for all (a shared pointer: no copies). (test: "a line from A
  //              reaches B and C byte for byte, and never comes back to A")
  (void)line;
  (void)author_id;
  broadcasting_ = false;
}

}  // namespace chat
