#include "room_history.hpp"

#include "workshop/program.hpp"


namespace {

// KEYS[1] the list; ARGV: channel, the JSON message, how many lines to keep.
constexpr const char* post_script = R"(
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[3]), -1)
return redis.call('PUBLISH', ARGV[1], ARGV[2]))";

// KEYS[1] the list; ARGV: this server's cut channel, the newcomer's token, how many lines.
constexpr const char* fetch_script = R"(
redis.call('PUBLISH', ARGV[1], ARGV[2])
return redis.call('LRANGE', KEYS[1], -tonumber(ARGV[3]), -1))";

}  // namespace

room_history::room_history(std::string channel, std::string node, std::size_t size)
    : list_key_{channel + ":history"},
      cut_channel_{channel + ":cut:" + node},
      channel_{std::move(channel)},
      size_{size} {}

redis::command room_history::post(const std::string& json) const {
  return {"EVAL", post_script, "1", list_key_, channel_, json, std::to_string(size_)};
}

redis::command room_history::fetch(const std::string& token) const {
  return {"EVAL", fetch_script, "1", list_key_, cut_channel_, token, std::to_string(size_)};
}

std::shared_ptr<room_history::pending_join> room_history::expect_cut(const std::string& token,
                                                                     asio::any_io_executor ex) {
  auto join = std::make_shared<pending_join>(ex);
  join->cut_signal.expires_after(std::chrono::seconds{5});  // a marker lost with Redis
  pending_[token] = join;
  return join;
}

asio::awaitable<void> room_history::wait_for_cut(std::shared_ptr<pending_join> join) {
  if (join->cut_seen) co_return;
  co_await join->cut_signal.async_wait(workshop::use_tuple);
}

void room_history::cut_arrived(const std::string& token) {
  const auto found = pending_.find(token);
  if (found == pending_.end()) return;
  found->second->cut_seen = true;
  found->second->cut_signal.cancel();
}

void room_history::live_line(const chat::message& line) {
  for (auto& [token, join] : pending_) {
    if (join->cut_seen) join->after_cut.push_back(line);
  }
}

void room_history::subscriber_lost() {
  for (auto& [token, join] : pending_) join->cut_signal.cancel();
}

void room_history::forget(const std::string& token) {
  pending_.erase(token);
}
