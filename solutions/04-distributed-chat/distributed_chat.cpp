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
// given/04-distributed-chat/chat_node.hpp declares the server whose functions follow.
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
  std::string_view accepted = *lines;  // all lines of one read, as one message
  auto count = static_cast<std::size_t>(std::count(accepted.begin(), accepted.end(), '\n'));
  if (queued_lines_ + count > settings_.max_queued) {  // keep the lines that fit, drop the rest
    const std::size_t room = settings_.max_queued - queued_lines_;
    std::size_t end = 0;
    for (std::size_t kept = 0; kept < room; ++kept) end = accepted.find('\n', end) + 1;
    workshop::log("queue full (", queued_lines_, " lines wait for Redis): dropped ", count - room,
                  " line(s) from ", author.user_id());
    tell(author, "your line was not delivered: Redis is away and the queue is full");
    accepted = accepted.substr(0, end);
    count = room;
  }
  if (count == 0) return;
  if (queued_.empty() && !publisher_->ready()) workshop::log("Redis is away: queueing lines");
  queued_.push_back({encode({std::string{accepted}, author.user_id()}), count});
  queued_lines_ += count;
  wake_publisher_.cancel();
}

// subClient.on("message", function(channel, data) { ... })
void chat_node::deliver(const std::string& json) {
  const auto chat = decode(json);  // data = JSON.parse(data)
  if (!chat) {
    workshop::log("skipped a malformed message on '", settings_.channel, "': ", json.substr(0, 80));
    return;
  }
  const auto line = chat::make_message(chat->message);
  room_.broadcast(line, chat->user_id);  // if (sockets[i].userId === data.userId) continue;
  history_.live_line(line);              // newcomers waiting for their history keep it
}

void chat_node::start() {
  // subClient.subscribe("chat channel"); subClient.on("message", ...)
  subscriber_->subscribe(settings_.channel, [this](const std::string& json) { deliver(json); });
  if (history_.enabled()) {
    subscriber_->subscribe(history_.cut_channel(),
                           [this](const std::string& token) { history_.cut_arrived(token); });
    subscriber_->on_lost([this] { history_.subscriber_lost(); });
  }
  // A partition is not a crash: no FIN, no reset, only silence. Ask Redis now and then.
  publisher_->check_health(settings_.redis_check);
  subscriber_->check_health(settings_.redis_check);
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
    const bool was_away = !publisher_->ready() || !subscriber_->ready();
    co_await publisher_->wait_ready();
    co_await subscriber_->wait_ready();  // so our own clients hear what was queued, too
    if (!publisher_->ready()) continue;
    if (was_away) co_await wait_for_listeners();
    const std::size_t count = std::min(queued_.size(), batch_limit);
    std::vector<redis::command> batch;
    for (std::size_t i = 0; i < count; ++i) {
      batch.push_back(history_.enabled()
                          ? history_.post(queued_[i].json)
                          : redis::command{"PUBLISH", settings_.channel, queued_[i].json});
    }
    auto [failure, replies] = co_await publisher_->execute(std::move(batch));
    if (failure) continue;  // lost on the way: the batch stays queued until Redis is back
    for (const auto& answer : replies) {
      if (answer.type == redis::reply::kind::error) workshop::log("redis refused: ", answer.text);
      if (answer.type == redis::reply::kind::integer) listeners_ = answer.integer;
    }
    for (std::size_t i = 0; i < count; ++i) queued_lines_ -= queued_[i].lines;
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(count));
  }
}

// Redis keeps nothing for a subscriber that is not there: after an outage, what waited is
// published only once as many servers listen as heard our last message (or after 5 s).
awaitable<void> chat_node::wait_for_listeners() {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  asio::steady_timer pause{executor_};
  while (std::chrono::steady_clock::now() < give_up) {
    std::vector<redis::command> ask{{"PUBSUB", "NUMSUB", settings_.channel}};
    auto [failure, replies] = co_await publisher_->execute(std::move(ask));
    if (failure) co_return;  // lost again: the queue waits for the next reconnection
    const auto& numsub = replies.front().elements;  // [channel, count]
    if (numsub.size() == 2 && numsub[1].integer >= listeners_) co_return;
    pause.expires_after(std::chrono::milliseconds{50});
    co_await pause.async_wait(use_tuple);
  }
  workshop::log("publishing what waited for Redis, though fewer servers listen than before (",
                listeners_, ")");
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
  if (history_.enabled() && publisher_->ready() && subscriber_->ready()) {
    asio::co_spawn(
        executor_, [this, newcomer] { return welcome_with_history(newcomer); }, asio::detached);
  } else {
    newcomer->start(welcome_);  // sockets.push(socket); socket.write(... " : welcome ...")
  }
}

// socket.userId = process.pid.toString() + (globalIncr++) + Math.floor(Math.random() * 100000)
std::string chat_node::next_user_id() {
  std::uniform_int_distribution<int> salt{0, 99999};
  return settings_.name + "-" + std::to_string(++connections_) + "-" +
         std::to_string(salt(random_));
}

// The last `count` lines of `lines` (each ending in '\n'; the last one may not).
std::string last_lines(const std::string& lines, std::size_t count) {
  std::size_t start = lines.size();
  for (std::size_t seen = 0; start > 0; --start) {
    if (lines[start - 1] == '\n' && start != lines.size() && ++seen == count) break;
  }
  return lines.substr(start);
}

// A newcomer gets the welcome, then the room's last lines, then live lines: none twice, none
// missing. See room_history.hpp for why the cut is exact.
awaitable<void> chat_node::welcome_with_history(std::shared_ptr<chat::chat_session> newcomer) {
  const std::string token = newcomer->user_id();
  auto join = history_.expect_cut(token, executor_);
  std::vector<redis::command> fetch{history_.fetch(token)};
  auto [failure, replies] = co_await publisher_->execute(std::move(fetch));
  if (!failure) co_await room_history::wait_for_cut(join);
  history_.forget(token);

  newcomer->start(welcome_);  // joins the room: from here on it hears live lines directly
  if (failure || replies.front().type != redis::reply::kind::array) {
    workshop::log("no history for ", token, ": ",
                  failure ? failure.message() : replies.front().text);
  } else {
    std::string lines;  // each message may hold several lines: keep the last --history
    for (const auto& stored : replies.front().elements) {
      if (const auto chat = decode(stored.text)) lines += chat->message;
    }
    if (!lines.empty()) newcomer->deliver(chat::make_message(last_lines(lines, settings_.history)));
  }
  for (const auto& line : join->after_cut) newcomer->deliver(line);
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
