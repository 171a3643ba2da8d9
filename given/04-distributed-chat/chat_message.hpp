#pragma once
// What travels on the Redis channel: the same JSON the talk's Node.js servers send, so C++ and
// Node.js servers can share one room. Pure functions, no Asio: a fuzz target can call them.
//
//   JSON.stringify({"message": data.toString("utf8"), "userId": socket.userId})
//   data = JSON.parse(data);
#include <optional>
#include <string>
#include <string_view>

struct chat_message {
  std::string message;  // the line as its author sent it, with its '\n'
  std::string user_id;  // who sent it: a per-connection id, unique across servers
};

// {"message":"...","userId":"..."}, exactly those keys in that order. Bytes that are not
// UTF-8 become U+FFFD, as Node's data.toString("utf8") makes them.
std::string encode(const chat_message& chat);

// The message in `json`, or nothing when it is not an object with a string "message" and a
// string (or number) "userId". Never throws.
std::optional<chat_message> decode(std::string_view json);
