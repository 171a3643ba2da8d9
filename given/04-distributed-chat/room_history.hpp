#pragma once
// Message queuing for newcomers (--history N): the room's last N lines live in a capped Redis
// list, so any server can hand them to a client that just connected, before any live line.
//
// The join must have no duplicate and no gap. Two things make the cut exact:
//  - a line goes into the list and onto the channel at one instant (one Lua script: RPUSH,
//    LTRIM, PUBLISH), so the list always holds exactly the lines published so far;
//  - a newcomer's history is read at one instant too, by a script that also publishes a
//    "cut" marker on this server's own channel. Redis delivers everything this server's
//    subscriber hears in the order it ran, so live lines heard before the marker are in the
//    history, and the ones heard after it are not. Those are kept for the newcomer until its
//    history has arrived, then handed to it after the history.
#include <asio.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chat_room.hpp"
#include "redis_client.hpp"

class room_history {
 public:
  // One newcomer waiting for its history.
  struct pending_join {
    explicit pending_join(asio::any_io_executor executor) : cut_signal{executor} {}
    asio::steady_timer cut_signal;         // cancelled when the cut marker comes
    bool cut_seen = false;                 // the marker came: lines from now on are newer
    std::vector<chat::message> after_cut;  // live lines heard after the marker
  };

  // Keeps the last `size` lines of `channel` (0: no history); `node` names this server.
  room_history(std::string channel, std::string node, std::size_t size);

  bool enabled() const { return size_ > 0; }
  const std::string& cut_channel() const { return cut_channel_; }  // this server's markers

  // The command that publishes `json` and appends it to the list, at one instant.
  redis::command post(const std::string& json) const;
  // The command that reads the last N lines and publishes the cut marker `token`, at one
  // instant. Its reply is an array of JSON messages, oldest first.
  redis::command fetch(const std::string& token) const;

  // A newcomer, named by `token`, starts waiting for its cut.
  std::shared_ptr<pending_join> expect_cut(const std::string& token, asio::any_io_executor ex);
  // Waits until the cut came (or the subscriber was lost, or a few seconds passed).
  static asio::awaitable<void> wait_for_cut(std::shared_ptr<pending_join> join);
  void cut_arrived(const std::string& token);  // a marker heard on cut_channel()
  void live_line(const chat::message& line);   // a line heard on the channel
  void subscriber_lost();                      // markers may never come: stop waiting
  void forget(const std::string& token);       // the newcomer has its history

 private:
  std::string list_key_;     // "<channel>:history"
  std::string cut_channel_;  // "<channel>:cut:<node>"
  std::string channel_;
  std::size_t size_;
  std::map<std::string, std::shared_ptr<pending_join>> pending_;
};
