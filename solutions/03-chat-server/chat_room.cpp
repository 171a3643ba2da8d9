#include "chat_room.hpp"

#include <algorithm>
#include <cassert>

namespace chat {

message make_message(std::string line) {
  return std::make_shared<const std::string>(std::move(line));
}

void chat_room::join(participant_ptr newcomer) {
  participants_.push_back(std::move(newcomer));
}

void chat_room::leave(const participant_ptr& leaver) {
  assert(!broadcasting_ && "leave the room from the session's own coroutine, not from deliver()");
  std::erase(participants_, leaver);
}

void chat_room::broadcast(const message& line, std::string_view author_id) {
  broadcasting_ = true;
  for (const auto& someone : participants_) {
    if (someone->user_id() == author_id) continue;  // if (sockets[i] == socket) continue;
    someone->deliver(line);                         // sockets[i].write(data);
  }
  broadcasting_ = false;
}

}  // namespace chat
