#include "chat_message.hpp"

#include <nlohmann/json.hpp>

using json = nlohmann::json;

std::string encode(const chat_message& chat) {
  const json object = {{"message", chat.message}, {"userId", chat.user_id}};
  // -1: no indentation; false: keep UTF-8 as it is (JSON.stringify does not escape it either).
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<chat_message> decode(std::string_view text) {
  const json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return std::nullopt;  // also what a parse error gives (discarded)
  const auto message = object.find("message");
  const auto user_id = object.find("userId");
  if (message == object.end() || !message->is_string() || user_id == object.end()) {
    return std::nullopt;
  }
  if (user_id->is_string())
    return chat_message{message->get<std::string>(), user_id->get<std::string>()};
  if (user_id->is_number()) return chat_message{message->get<std::string>(), user_id->dump()};
  return std::nullopt;
}
