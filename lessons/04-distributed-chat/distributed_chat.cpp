// Lesson 04: many chat servers, one room. Each server publishes what its clients say on a
// Redis channel and delivers what it hears there to its own clients, except the author.
//
//   var subClient = redis.createClient();
//   subClient.subscribe("chat channel");
//   subClient.on("message", function(channel, data) {
//     data = JSON.parse(data);
//     for (var i = 0; i < sockets.length; i++) {
//       if (sockets[i].userId === data.userId) continue;
//       sockets[i].write(data.message);
//     }
//   });
//   require("net").createServer(function(socket) {
//     var pubClient = redis.createClient();
//     socket.userId = process.pid.toString() + (globalIncr++) + Math.floor(Math.random() * 100000);
//     sockets.push(socket);
//     socket.write(process.pid + " : welcome to node's tcp chat server\n");
//     socket.on('data', function(data) {
//       var stringifiedMessage = JSON.stringify({"message": data.toString("utf8"),
//                                                "userId": socket.userId});
//       pubClient.publish("chat channel", stringifiedMessage);
//     });
//     socket.on('close', function() { sockets.splice(sockets.indexOf(socket), 1); });
//   }).listen(optimist.argv.port);
//
// Follow lessons/04-distributed-chat/README.md; check your work with `./workshop check 04`.
// Lesson 03's room and session (chat_room.hpp, chat_session.hpp), the Redis client
// (redis_client.hpp), the JSON codec (chat_message.hpp), the history's bookkeeping
// (room_history.hpp) and the flags (node_flags.hpp) are given, and chat_node.hpp declares the
// server: you write the TODOs below.
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "chat_message.hpp"
#include "chat_node.hpp"
#include "node_flags.hpp"

using asio::awaitable;
using asio::ip::tcp;
using workshop::use_tuple;

// socket.on('data'): pubClient.publish("chat channel", JSON.stringify({...})). The lines go
// through a bounded queue so that a line said while Redis is away is published once it is back.
void chat_node::publish(chat::chat_session& author, const chat::message& lines) {
  // TODO step 5: no more than --max-queued lines ever wait for Redis (Node's queue has no
  //              limit). A read that does not fit whole is cut between lines: the lines that
  //              still fit go on as in step 1, the rest is dropped, and its author gets one
  //              line from this server, "NODE : ..." saying it was not delivered. Nothing is
  //              dropped silently. (test: "while Redis is away the queue is bounded, and the
  //              sender is told"; README: Step 5)
  // TODO step 1: pubClient.publish("chat channel", JSON.stringify({message, userId})): each
  //              read's lines reach the channel as one message in the Node.js servers' JSON,
  //              in the order they were said, without waiting for anything but Redis itself.
  //              (tests: "each line is published on the channel as the Node.js servers' JSON",
  //              "a line split over several sends is published once, whole"; README: Step 1)
  (void)author;
  (void)lines;
}

// subClient.on("message", function(channel, data) { ... })
void chat_node::deliver(const std::string& json) {
  // TODO step 2: data = JSON.parse(data); sockets[i].write(data.message): every client of this
  //              server gets the message's text; anything that is not our JSON is reported on
  //              stderr and skipped. (tests: "a message published from outside reaches every
  //              client", "malformed messages on the channel are skipped, the next good one
  //              delivered", "a stopped reader is dropped after --soft-backlog-ms past
  //              --soft-backlog, not before"; README: Step 2)
  // TODO step 3: if (sockets[i].userId === data.userId) continue: a line's author never hears
  //              it back; every other client does. (tests: "two servers: a line reaches every
  //              client of both, except its author", "a sender's lines arrive in order, and its
  //              own never come back"; README: Step 3)
  // TODO step 6: a newcomer still waiting for its history misses no line heard meanwhile.
  //              (test: "a newcomer joining mid-conversation misses nothing and sees nothing
  //              twice"; README: Step 6, no duplicate and no gap at the join)
  (void)json;
}

void chat_node::start() {
  // subClient.subscribe("chat channel"); subClient.on("message", ...)
  // TODO step 2: every message published on the room's channel (--channel) reaches this
  //              server's clients, from the start and again after every reconnection. (test: "a
  //              message published from outside reaches every client"; README: Step 2)
  // TODO step 6: with --history, this server hears its newcomers' cut markers in Redis's order
  //              among the live lines, and a newcomer stops waiting for its marker once the
  //              subscriber loses Redis (it may never come). (tests: "a newcomer gets the last
  //              lines first, then live ones", "a newcomer joining mid-conversation misses
  //              nothing and sees nothing twice"; README: Step 6, no duplicate and no gap)
  // TODO step 7: a partition is not a crash: no FIN and no reset come, only silence, and TCP
  //              alone takes minutes to notice. Both Redis connections notice a Redis that stops
  //              answering within --redis-ping-ms plus --redis-timeout-ms, say so, and start
  //              over as after a crash. (test: "Redis silent: each server says so within its
  //              deadline, keeps its clients, and lines said meanwhile arrive after"; README:
  //              Step 7, a partition is not a crash)
  publisher_->set_name("distributed_chat:" + settings_.name + ":publisher");
  subscriber_->set_name("distributed_chat:" + settings_.name + ":subscriber");
  publisher_->start();
  subscriber_->start();
  asio::co_spawn(
      executor_, [this] { return publish_queued(); }, asio::detached);
}

// Publishes the queue, oldest first, in batches, whenever Redis is there. A batch whose
// connection is lost is sent again after reconnection: nothing accepted is dropped silently
// (a line may then reach the channel twice, if Redis ran it just before the loss).
awaitable<void> chat_node::publish_queued() {
  constexpr std::size_t batch_limit = 256;
  while (true) {
    if (queued_.empty()) {
      co_await wake_publisher_.async_wait(use_tuple);
      continue;
    }
    // TODO step 4: nothing is sent unless both Redis connections are up (so this server's own
    //              clients hear what was queued too). After any time without them, at start
    //              too, nothing is published before as many servers listen as heard our last
    //              message (the wait below; before our first message, that is none). (tests:
    //              "Redis killed and restarted: traffic resumes, a line said meanwhile arrives
    //              after", "Redis down at start: clients are welcome, lines flow once Redis
    //              comes"; README: Step 4)
    const std::size_t count = std::min(queued_.size(), batch_limit);
    std::vector<redis::command> batch;
    for (std::size_t i = 0; i < count; ++i) {
      // TODO step 6: with --history, each line enters the room's stored history at the instant
      //              it is published. (test: "a newcomer gets the last lines first, then live
      //              ones"; README: Step 6)
      batch.push_back(redis::command{"PUBLISH", settings_.channel, queued_[i].json});
    }
    auto [failure, replies] = co_await publisher_->execute(std::move(batch));
    // TODO step 4: a batch whose connection failed on the way (Redis may or may not have run
    //              it) is not lost: it stays first in line and goes out once Redis is back. (As
    //              given it is dropped, as Node's pubClient.publish drops it.) A command Redis
    //              answered with an error did reach it: that is said on stderr and not sent
    //              again. (test: "Redis killed and restarted: traffic resumes, a line said
    //              meanwhile arrives after"; README: Step 4)
    if (failure) workshop::log("dropped ", count, " messages: ", failure.message());
    for (const auto& answer : replies) {
      if (answer.type == redis::reply::kind::error) workshop::log("redis refused: ", answer.text);
      // TODO step 4: after an outage, the wait below knows how many servers heard the last
      //              message this server published. (test: "Redis killed and restarted: traffic
      //              resumes, a line said meanwhile arrives after"; README: Step 4)
    }
    for (std::size_t i = 0; i < count; ++i) queued_lines_ -= queued_[i].lines;
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(count));
  }
}

// Redis keeps nothing for a subscriber that is not there: after an outage, what waited is
// published only once as many servers listen as heard our last message (or after 5 s).
awaitable<void> chat_node::wait_for_listeners() {
  // TODO step 4: return once as many servers listen on the channel as heard our last message,
  //              or after 5 s (say so on stderr), or at once if Redis is lost again. (test:
  //              "Redis killed and restarted: traffic resumes, a line said meanwhile arrives
  //              after"; README: Step 4)
  co_return;
}

chat_node::chat_node(asio::any_io_executor executor, node_settings settings)
    : executor_{executor},
      settings_{std::move(settings)},
      welcome_{chat::make_message(settings_.name + " : welcome to the C++ distributed chat\n")},
      publisher_{redis::client::create(executor, settings_.redis)},
      subscriber_{redis::subscriber::create(executor, settings_.redis)},
      wake_publisher_{executor, asio::steady_timer::time_point::max()},
      history_{settings_.channel, settings_.name, settings_.history} {}

void chat_node::admit(tcp::socket socket) {
  auto newcomer = std::make_shared<chat::chat_session>(
      std::move(socket), room_, next_user_id(), settings_.limits,
      [this](chat::chat_session& author, const chat::message& line) { publish(author, line); });
  // TODO step 6: with --history and both Redis connections up, a newcomer gets the room's last
  //              lines before any live one (the newcomer's own coroutine below), while every
  //              other client goes on being served; with either connection down it is welcomed
  //              at once, without history. (tests: "a newcomer gets the last lines first, then
  //              live ones", "a newcomer joining mid-conversation misses nothing and sees
  //              nothing twice"; README: Step 6)
  newcomer->start(welcome_);  // sockets.push(socket); socket.write(... " : welcome ...")
}

// socket.userId = process.pid.toString() + (globalIncr++) + Math.floor(Math.random() * 100000)
std::string chat_node::next_user_id() {
  std::uniform_int_distribution<int> salt{0, 99999};
  return settings_.name + "-" + std::to_string(++connections_) + "-" +
         std::to_string(salt(random_));
}

// A newcomer gets the welcome, then the room's last lines, then live lines: none twice, none
// missing. See room_history.hpp for why the cut is exact.
awaitable<void> chat_node::welcome_with_history(std::shared_ptr<chat::chat_session> newcomer) {
  // TODO step 6: the README's "what must hold" (Step 6): the welcome, then the room's last
  //              --history lines, then live ones; no line is missed or seen twice at the join.
  //              If the history cannot be read (the publisher lost Redis, or Redis answered
  //              with an error), stderr says so and the newcomer is welcomed all the same,
  //              with live lines only. If its marker never comes (the subscriber lost Redis, or
  //              5 s passed), it joins with the history it got. (tests: "a newcomer gets the
  //              last lines first, then live ones", "a newcomer joining mid-conversation misses
  //              nothing and sees nothing twice"; README: Step 6)
  newcomer->start(welcome_);
  co_return;
}

void chat_node::tell(chat::chat_session& client, const std::string& text) {
  client.deliver(chat::make_message(settings_.name + " : " + text + "\n"));
}

// net.createServer(function(socket){ ... }).listen(port)
awaitable<void> listener(tcp::acceptor acceptor, chat_node& node, workshop::client_gate clients) {
  while (auto socket = co_await clients.accept(acceptor)) node.admit(std::move(*socket));
}

int main(int argc, char** argv) {
  workshop::listen_address address;
  node_settings settings;
  settings.name = std::to_string(getpid());  // like the talk's process.pid
  CLI::App app{"Lesson 04: one chat room across several servers, through Redis publish/subscribe.",
               "distributed_chat"};
  workshop::add_listen_flags(app, address);
  add_node_flags(app, settings);  // --redis, --channel, --history... (given: node_flags.hpp)
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  asio::io_context io;
  chat_node node{io.get_executor(), settings};  // after io: it lets go of its sessions first
  auto acceptor = workshop::listen_on(io, address);
  node.start();
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);  // last: once it is out, anyone may connect or signal
  workshop::client_gate clients{settings.max_clients,
                               settings.name + " : the room is full, try again later\n"};
  asio::co_spawn(io, listener(std::move(acceptor), node, std::move(clients)), asio::detached);
  io.run();  // the event loop: runs until a signal stops it
}
