#pragma once
// Provided: you do not edit this. One distributed_chat server, declared here so that
// distributed_chat.cpp can begin with the lesson's idea: you write its functions there.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include "chat_room.hpp"
#include "chat_session.hpp"
#include "redis_client.hpp"
#include "room_history.hpp"
#include "workshop/program.hpp"

struct node_settings {
  std::string name;                      // NODE in "NODE : welcome ...": this process's id
  redis::address redis;                  // --redis
  redis::health_check redis_check{std::chrono::milliseconds{1000},   // --redis-ping-ms
                                  std::chrono::milliseconds{2000}};  // --redis-timeout-ms
  std::string channel = "chat channel";  // --channel
  std::size_t history = 0;               // --history: lines a newcomer gets first (0: none)
  std::size_t max_queued = 100000;       // --max-queued: lines waiting for Redis
  chat::session_limits limits;           // --max-line, --max-backlog, --soft-backlog(-ms)
  std::size_t max_clients = workshop::default_max_clients;  // --max-clients
};

// One distributed_chat server: its own clients in a room, Redis for everyone else's.
class chat_node {
 public:
  chat_node(asio::any_io_executor executor, node_settings settings);
  void start();                              // connects to Redis (and keeps reconnecting): 2, 6, 7
  void admit(asio::ip::tcp::socket socket);  // a new client: welcome it, let it talk

 private:
  void publish(chat::chat_session& author, const chat::message& lines);  // steps 1, 5
  void deliver(const std::string& json);                                 // steps 2, 3, 6
  asio::awaitable<void> publish_queued();                                // steps 4, 6
  asio::awaitable<void> wait_for_listeners();                            // step 4
  asio::awaitable<void> welcome_with_history(std::shared_ptr<chat::chat_session> newcomer);  // 6
  void tell(chat::chat_session& client, const std::string& text);  // "NODE : text\n"
  std::string next_user_id();

  asio::any_io_executor executor_;
  node_settings settings_;
  chat::message welcome_;
  chat::chat_room room_;
  std::shared_ptr<redis::client> publisher_;       // one for the whole server, not one per client
  std::shared_ptr<redis::subscriber> subscriber_;  // subscribed: it can do nothing else
  struct queued_message {
    std::string json;   // as it goes on the channel
    std::size_t lines;  // how many lines it carries, against --max-queued
  };
  std::deque<queued_message> queued_;  // not yet published, oldest first
  std::size_t queued_lines_ = 0;       // lines in queued_
  long long listeners_ = 0;            // servers that heard our last message
  asio::steady_timer wake_publisher_;  // publish_queued() sleeps on it while queued_ is empty
  room_history history_;
  std::uint64_t connections_ = 0;
  std::mt19937 random_{std::random_device{}()};
};
