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
// (redis_client.hpp), the JSON codec (chat_message.hpp) and the history's bookkeeping
// (room_history.hpp) are given, and chat_node.hpp declares the server: you write the
// TODOs below.
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "chat_message.hpp"
#include "chat_node.hpp"

using asio::awaitable;
using asio::ip::tcp;
using workshop::use_tuple;

// socket.on('data'): pubClient.publish("chat channel", JSON.stringify({...})). The lines go
// through a bounded queue so that a line said while Redis is away is published once it is back.
void chat_node::publish(chat::chat_session& author, const chat::message& lines) {
  // TODO step 5: Node's client queues without limit. When this read's lines would take
  //              queued_lines_ past settings_.max_queued, queue only the lines that fit, log it,
  //              and tell the author (tell) that its line was not delivered. (test: "while Redis
  //              is away the queue is bounded, and the sender is told")
  // TODO step 1: pubClient.publish("chat channel", JSON.stringify({message, userId})): put the
  //              lines (all of one read, one message) and their author's user id, as the Node.js
  //              servers' JSON (chat_message.hpp), at the back of queued_ with how many lines it
  //              carries (queued_lines_ counts them all), and wake the publisher coroutine (it
  //              sleeps on wake_publisher_). (tests: "each line is published on the channel as
  //              the Node.js servers' JSON", "a line split over several sends is published once,
  //              whole")
  (void)author;
  (void)lines;
}

// subClient.on("message", function(channel, data) { ... })
void chat_node::deliver(const std::string& json) {
  // TODO step 2: data = JSON.parse(data): decode the message (chat_message.hpp); one that is
  //              not our JSON is logged and skipped. Broadcast its text to this server's room
  //              (no author to skip yet: ""). (tests: "a message published from outside reaches
  //              every client", "malformed messages on the channel are skipped, the next good
  //              one delivered", "a stopped reader is dropped after --soft-backlog-ms past
  //              --soft-backlog, not before")
  // TODO step 3: if (sockets[i].userId === data.userId) continue: let the room skip the
  //              message's author. (tests: "two servers: a line reaches every client of both,
  //              except its author", "a sender's lines arrive in order, and its own never come
  //              back")
  // TODO step 6: hand the line to history_ as well (newcomers waiting for their history keep
  //              it). (test: "a newcomer joining mid-conversation misses nothing and sees
  //              nothing twice")
  (void)json;
}

void chat_node::start() {
  // subClient.subscribe("chat channel"); subClient.on("message", ...)
  // TODO step 2: subscribe to settings_.channel (redis_client.hpp), with a handler that calls
  //              deliver() for each message. (test: "a message published from outside reaches
  //              every client")
  // TODO step 6: with history on (history_.enabled()), also subscribe to history_'s cut channel,
  //              handing each token to it, and tell it when the subscriber loses its connection
  //              (room_history.hpp says which calls). (tests: "a newcomer gets the last lines
  //              first, then live ones", "a newcomer joining mid-conversation misses nothing and
  //              sees nothing twice")
  // TODO step 7: a partition is not a crash: no FIN and no reset come, only silence, and TCP
  //              alone takes minutes to notice. Both Redis connections must notice a Redis that
  //              stops answering within --redis-ping-ms plus --redis-timeout-ms
  //              (settings_.redis_check), say so, and start over as after a crash.
  //              (test: "Redis silent: each server says so within its deadline, keeps its
  //              clients, and lines said meanwhile arrive after")
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
    // TODO step 4: send nothing before Redis is there: wait until the publisher, then the
    //              subscriber, is ready (so our own clients hear what was queued too), and go
    //              round again if the publisher is no longer ready by then; if either was away,
    //              wait_for_listeners() first. (tests: "Redis killed and restarted: traffic
    //              resumes, a line said meanwhile arrives after", "Redis down at start: clients
    //              are welcome, lines flow once Redis comes")
    const std::size_t count = std::min(queued_.size(), batch_limit);
    std::vector<redis::command> batch;
    for (std::size_t i = 0; i < count; ++i) {
      // TODO step 6: with history on, history_'s post command for the line instead.
      //              (test: "a newcomer gets the last lines first, then live ones")
      batch.push_back(redis::command{"PUBLISH", settings_.channel, queued_[i].json});
    }
    auto [failure, replies] = co_await publisher_->execute(std::move(batch));
    // TODO step 4: a batch that failed is kept (go round again): it is sent again after
    //              reconnection. As given, it is dropped, as Node's pubClient.publish drops it.
    //              (test: "Redis killed and restarted: traffic resumes, a line said meanwhile
    //              arrives after")
    if (failure) workshop::log("dropped ", count, " messages: ", failure.message());
    for (const auto& answer : replies) {
      if (answer.type == redis::reply::kind::error) workshop::log("redis refused: ", answer.text);
      // TODO step 4: PUBLISH answers with how many servers heard it: keep it in listeners_ for
      //              wait_for_listeners(). (test: "Redis killed and restarted: traffic resumes, a
      //              line said meanwhile arrives after")
    }
    for (std::size_t i = 0; i < count; ++i) queued_lines_ -= queued_[i].lines;
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(count));
  }
}

// Redis keeps nothing for a subscriber that is not there: after an outage, what waited is
// published only once as many servers listen as heard our last message (or after 5 s).
awaitable<void> chat_node::wait_for_listeners() {
  // TODO step 4: ask Redis (PUBSUB NUMSUB with settings_.channel) every 50 ms until at least
  //              listeners_ servers are subscribed, or 5 s have passed (log that fewer listen);
  //              return at once if the connection is lost again. (test: "Redis killed and
  //              restarted: traffic resumes, a line said meanwhile arrives after")
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
  // TODO step 6: with history on and both Redis connections ready, welcome the newcomer with
  //              welcome_with_history() instead, in a coroutine of its own. (tests: "a newcomer
  //              gets the last lines first, then live ones", "a newcomer joining
  //              mid-conversation misses nothing and sees nothing twice")
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
  // TODO step 6: the README's "no duplicate and no gap at the join", with room_history.hpp's
  //              calls, in this order: expect the newcomer's cut; fetch the history (one command
  //              that reads the last lines and publishes the cut marker at one instant); unless
  //              that failed, wait for the cut; forget the newcomer's cut; then, with no co_await
  //              in between, start the newcomer with the welcome, deliver each stored line, then
  //              each line kept after the cut. (tests: "a newcomer gets the last lines first,
  //              then live ones", "a newcomer joining mid-conversation misses nothing and sees
  //              nothing twice")
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
  std::string redis_address = "127.0.0.1:6379";
  CLI::App app{"Lesson 04: one chat room across several servers, through Redis publish/subscribe.",
               "distributed_chat"};
  workshop::add_listen_flags(app, address);
  app.add_option("--redis", redis_address,
                 "Redis to meet the other servers at: HOST:PORT or redis://[USER:PASSWORD@]HOST:PORT")
      ->capture_default_str()
      ->check([](const std::string& text) {
        return redis::parse_address(text) ? std::string{}
                                          : std::string{"expected HOST:PORT or redis://..."};
      });
  std::int64_t ping_ms = settings.redis_check.interval.count();
  std::int64_t timeout_ms = settings.redis_check.deadline.count();
  app.add_option("--redis-ping-ms", ping_ms, "PING Redis after this long without a word from it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--redis-timeout-ms", timeout_ms,
                 "No reply to that PING within this: the connection is dropped and made again")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--channel", settings.channel, "Redis channel the servers share")
      ->capture_default_str();
  app.add_option("--history", settings.history, "Lines a newcomer gets first (0: none)")
      ->capture_default_str();
  app.add_option(
         "--max-queued", settings.max_queued,
         "Lines waiting for Redis (away or busy); past it a sender is told its line was lost")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  chat::add_session_flags(app, settings.limits);  // --max-line, --max-backlog, --soft-backlog...
  workshop::add_max_clients_flag(app, settings.max_clients);
  workshop::parse_flags_or_exit(app, argc, argv);
  settings.redis = *redis::parse_address(redis_address);
  settings.redis_check = {std::chrono::milliseconds{ping_ms}, std::chrono::milliseconds{timeout_ms}};
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
