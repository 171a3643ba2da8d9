#include "redis_client.hpp"

#include <hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "workshop/program.hpp"

namespace redis {
namespace {

using namespace std::chrono_literals;
using asio::awaitable;
using asio::ip::tcp;
using workshop::use_tuple;
constexpr std::chrono::milliseconds first_retry{100};
constexpr std::chrono::milliseconds last_retry{1000};

// hiredis's reply tree, copied into ours (hiredis frees its own).
reply convert(const redisReply& raw) {
  reply answer;
  switch (raw.type) {
    case REDIS_REPLY_STATUS:
      answer.type = reply::kind::status;
      break;
    case REDIS_REPLY_ERROR:
      answer.type = reply::kind::error;
      break;
    case REDIS_REPLY_INTEGER:
      answer.type = reply::kind::integer;
      answer.integer = raw.integer;
      break;
    case REDIS_REPLY_STRING:
      answer.type = reply::kind::string;
      break;
    case REDIS_REPLY_ARRAY:
      answer.type = reply::kind::array;
      for (std::size_t i = 0; i < raw.elements; ++i)
        answer.elements.push_back(convert(*raw.element[i]));
      break;
    default:
      answer.type = reply::kind::nil;
  }
  if (raw.str != nullptr) answer.text.assign(raw.str, raw.len);
  return answer;
}

struct error_category : std::error_category {
  const char* name() const noexcept override { return "redis"; }
  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::not_connected:
        return "not connected to Redis";
      case error::connection_lost:
        return "the connection to Redis was lost before the reply";
      case error::protocol:
        return "Redis sent something hiredis could not parse";
      case error::silent:
        return "Redis did not answer within the deadline";
      case error::auth_refused:
        return "Redis refused the user or password of --redis";
    }
    return "unknown redis error";
  }
};

}  // namespace

std::error_code make_error_code(error value) {
  static const error_category category;
  return {static_cast<int>(value), category};
}

std::optional<address> parse_address(std::string_view text) {
  address parsed;
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) == scheme) {
    text.remove_prefix(scheme.size());
    if (const auto at = text.rfind('@'); at != std::string_view::npos) {
      const auto credentials = text.substr(0, at);
      const auto colon = credentials.find(':');
      if (colon == std::string_view::npos) return std::nullopt;  // a password is required
      parsed.user = credentials.substr(0, colon);
      parsed.password = credentials.substr(colon + 1);
      text.remove_prefix(at + 1);
    }
    if (!text.empty() && text.back() == '/') text.remove_suffix(1);
  }
  const auto host_port = workshop::parse_host_port(text);
  if (!host_port) return std::nullopt;
  static_cast<workshop::host_port&>(parsed) = *host_port;
  return parsed;
}

std::string format(const command& words) {
  std::vector<const char*> starts;
  std::vector<std::size_t> lengths;
  for (const auto& word : words) {
    starts.push_back(word.data());
    lengths.push_back(word.size());
  }
  char* formatted = nullptr;
  const int length = redisFormatCommandArgv(&formatted, static_cast<int>(words.size()),
                                            starts.data(), lengths.data());
  if (length < 0) throw std::bad_alloc{};
  std::string bytes{formatted, static_cast<std::size_t>(length)};
  redisFreeCommand(formatted);
  return bytes;
}

// ---- connection ----

connection::connection(asio::any_io_executor executor, address where, std::string role)
    : executor_{executor},
      where_{std::move(where)},
      role_{std::move(role)},
      socket_{executor},
      retry_timer_{executor},
      write_wakeup_{executor, asio::steady_timer::time_point::max()},
      ready_signal_{executor, asio::steady_timer::time_point::max()},
      health_timer_{executor},
      parser_{nullptr, redisReaderFree} {}

connection::~connection() = default;

void connection::start() {
  asio::co_spawn(
      executor_, [self = shared_from_this()] { return self->keep_connected(); }, asio::detached);
}

awaitable<void> connection::wait_ready() {
  while (!ready_) co_await ready_signal_.async_wait(use_tuple);
}

void connection::on_lost(std::function<void()> callback) {
  lost_callbacks_.push_back(std::move(callback));
}

void connection::send(std::string bytes) {
  if (!connected_) return;  // nothing can be sent; callers were told by handle_lost
  outgoing_ += bytes;
  write_wakeup_.cancel();  // wakes the writer if it sleeps
}

void connection::become_ready() {
  ready_ = true;
  ready_signal_.cancel();  // wakes every wait_ready()
}

// Connects, serves the connection until it breaks, and tries again after a growing delay.
awaitable<void> connection::keep_connected() {
  auto delay = first_retry;
  while (true) {
    if (const std::error_code why = co_await connect_once()) {
      workshop::log("redis: cannot connect to ", workshop::to_string(where_), " (", why.message(),
                    "), retrying in ", delay.count(), " ms (", role_, ")");
    } else {
      const std::error_code lost = co_await serve_connection();
      // A connection Redis never answered, or refused, backs off as a failed connect does.
      if (answered_ && lost != make_error_code(error::auth_refused)) delay = first_retry;
      workshop::log("redis: lost (", lost.message(), "), retrying in ", delay.count(), " ms (",
                    role_, ")");
    }
    retry_timer_.expires_after(delay);
    co_await retry_timer_.async_wait(use_tuple);
    delay = std::min(delay * 2, last_retry);
  }
}

awaitable<std::error_code> connection::serve_connection() {
  connected_ = true;
  silent_ = answered_ = false;
  pings_due_ = 0;
  last_heard_ = std::chrono::steady_clock::now();
  workshop::log("redis: connected (", role_, " to ", workshop::to_string(where_), ")");
  const auto generation = ++generation_;
  auto self = shared_from_this();
  asio::co_spawn(
      executor_, [self, generation] { return self->write_outgoing(generation); }, asio::detached);
  if (check_.interval.count() > 0) {
    asio::co_spawn(
        executor_, [self, generation] { return self->watch_silence(generation); }, asio::detached);
  }
  // AUTH and CLIENT SETNAME go first; Redis runs commands in order, so the rest may follow at
  // once (if AUTH is refused, its error comes first and the connection is dropped).
  auth_pending_ = !where_.password.empty();
  replies_to_skip_ = (auth_pending_ ? 1 : 0) + (name_.empty() ? 0 : 1);
  if (auth_pending_) {
    send(format(where_.user.empty() ? command{"AUTH", where_.password}
                                    : command{"AUTH", where_.user, where_.password}));
  }
  if (!name_.empty()) send(format({"CLIENT", "SETNAME", name_}));
  handle_connected();
  const std::error_code why = co_await read_replies();  // until the connection breaks
  connected_ = ready_ = false;
  outgoing_.clear();
  std::error_code ignored;
  socket_.close(ignored);
  write_wakeup_.cancel();
  handle_lost(why == make_error_code(error::protocol) ? error::protocol : error::connection_lost);
  for (const auto& callback : lost_callbacks_) callback();
  co_return why;
}

awaitable<std::error_code> connection::connect_once() {
  tcp::resolver resolver{executor_};
  auto [resolve_error, endpoints] =
      co_await resolver.async_resolve(where_.host, std::to_string(where_.port), use_tuple);
  if (resolve_error) co_return resolve_error;
  socket_ = tcp::socket{executor_};
  // A SYN into a partition gets no answer and the kernel tries for two minutes: with a health
  // check, give up after its interval and deadline.
  asio::steady_timer give_up{executor_};
  auto gave_up = std::make_shared<bool>(false);
  if (check_.interval.count() > 0) {
    give_up.expires_after(check_.interval + check_.deadline);
    give_up.async_wait([self = shared_from_this(), gave_up](std::error_code ec) {
      if (ec) return;
      *gave_up = true;
      std::error_code ignored;
      self->socket_.close(ignored);
    });
  }
  auto [connect_error, endpoint] = co_await asio::async_connect(socket_, endpoints, use_tuple);
  give_up.cancel();
  if (*gave_up) co_return make_error_code(error::silent);
  if (connect_error) co_return connect_error;
  std::error_code ignored;  // without no_delay the connection still works, only slower
  socket_.set_option(tcp::no_delay{true}, ignored);
  keep_alive();
  parser_.reset(redisReaderCreate());  // a fresh parser: no half reply from the last connection
  co_return std::error_code{};
}

awaitable<std::error_code> connection::read_replies() {
  std::vector<char> chunk(16384);  // on the heap: a big array in a coroutine frame upsets g++
  while (true) {
    auto [read_error, size] = co_await socket_.async_read_some(asio::buffer(chunk), use_tuple);
    if (read_error) co_return silent_ ? make_error_code(error::silent) : read_error;
    last_heard_ = std::chrono::steady_clock::now();
    answered_ = true;
    if (pings_due_ > 0) health_timer_.cancel();  // it waits for an answer: here is one
    if (redisReaderFeed(parser_.get(), chunk.data(), size) != REDIS_OK)
      co_return make_error_code(error::protocol);
    while (true) {
      void* raw = nullptr;
      if (redisReaderGetReply(parser_.get(), &raw) != REDIS_OK)
        co_return make_error_code(error::protocol);
      if (raw == nullptr) break;  // the rest of this reply has not arrived yet
      reply answer = convert(*static_cast<redisReply*>(raw));
      freeReplyObject(raw);
      if (pings_due_ > 0 && is_pong(answer)) {  // the health check's: hearing it was the point
        --pings_due_;
        continue;
      }
      if (replies_to_skip_ > 0) {
        const bool auth = std::exchange(auth_pending_, false);
        if (auth && answer.type == reply::kind::error) {
          workshop::log("redis: AUTH refused (", answer.text, "): check the user and password in ",
                        "--redis (", role_, ")");
          co_return make_error_code(error::auth_refused);
        }
        if (answer.type == reply::kind::error) workshop::log("redis: ", answer.text);
        --replies_to_skip_;
        continue;
      }
      handle_reply(std::move(answer));
    }
  }
}

awaitable<void> connection::write_outgoing(std::uint64_t generation) {
  auto self = shared_from_this();
  while (connected_ && generation == generation_) {
    if (outgoing_.empty()) {
      co_await write_wakeup_.async_wait(use_tuple);
      continue;
    }
    const std::string bytes = std::exchange(outgoing_, {});
    auto [write_error, written] =
        co_await asio::async_write(socket_, asio::buffer(bytes), use_tuple);
    if (write_error) {
      std::error_code ignored;
      socket_.close(ignored);  // the reader sees it and reports the loss
      co_return;
    }
  }
}

// Silence is the failure no packet announces. After check_.interval without a byte from Redis,
// PING; if nothing at all comes within check_.deadline, drop the connection as if it had broken:
// keep_connected() connects again, the subscriber subscribes again, the caller's queue is sent.
awaitable<void> connection::watch_silence(std::uint64_t generation) {
  auto self = shared_from_this();
  auto& timer = health_timer_;
  const auto still_mine = [&] { return connected_ && generation == generation_; };
  while (still_mine()) {
    const auto heard = last_heard_;
    timer.expires_at(heard + check_.interval);
    co_await timer.async_wait(use_tuple);
    if (!still_mine()) co_return;
    if (last_heard_ != heard) continue;  // Redis spoke meanwhile
    send(format({"PING"}));
    ++pings_due_;
    const auto give_up = std::chrono::steady_clock::now() + check_.deadline;
    while (last_heard_ == heard && std::chrono::steady_clock::now() < give_up && still_mine()) {
      timer.expires_at(give_up);
      co_await timer.async_wait(use_tuple);  // woken early by any answer
    }
    if (!still_mine()) co_return;
    if (last_heard_ != heard) continue;  // the next PING is due an interval after this answer
    workshop::log("redis: no answer for ", (check_.interval + check_.deadline).count(),
                  " ms, not even to PING: dropping the connection (", role_, ")");
    silent_ = true;
    std::error_code ignored;
    socket_.set_option(asio::socket_base::linger{true, 0}, ignored);  // a reset: the kernel
    socket_.close(ignored);  // stops resending what Redis never acknowledged
    co_return;
  }
}

// A PING's reply: "+PONG", or ["pong", ""] on a subscribed connection.
bool connection::is_pong(const reply& answer) {
  if (answer.type == reply::kind::status) return answer.text == "PONG";
  return answer.type == reply::kind::array && answer.elements.size() == 2 &&
         answer.elements[0].text == "pong";
}

void connection::keep_alive() {
  std::error_code ignored;
  socket_.set_option(asio::socket_base::keep_alive{true}, ignored);
  if (check_.interval.count() == 0) return;
  using idle = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPIDLE>;
  using every = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPINTVL>;
  using probes = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPCNT>;
  const auto seconds = [](std::chrono::milliseconds span) {
    return static_cast<int>(std::max<long long>(1, (span.count() + 999) / 1000));
  };
  socket_.set_option(idle{seconds(check_.interval + check_.deadline)}, ignored);
  socket_.set_option(every{1}, ignored);
  socket_.set_option(probes{3}, ignored);
}

// ---- client ----

struct client::waiter {
  explicit waiter(asio::any_io_executor executor, std::size_t expected)
      : done{executor, asio::steady_timer::time_point::max()}, expected{expected} {}
  asio::steady_timer done;  // cancelled when the replies are in (or the connection is lost)
  std::size_t expected;
  std::vector<reply> replies;
  std::error_code error;
};

std::shared_ptr<client> client::create(asio::any_io_executor executor, address where,
                                       std::string role) {
  auto made = std::shared_ptr<client>{new client{executor, std::move(where), std::move(role)}};
  return made;
}

awaitable<std::pair<std::error_code, std::vector<reply>>> client::execute(
    std::vector<command> commands) {
  if (!ready()) co_return std::pair{make_error_code(error::not_connected), std::vector<reply>{}};
  if (commands.empty()) co_return std::pair{std::error_code{}, std::vector<reply>{}};
  auto pending = std::make_shared<waiter>(co_await asio::this_coro::executor, commands.size());
  std::string bytes;
  for (const auto& words : commands) bytes += format(words);
  waiting_.push_back(pending);
  send(std::move(bytes));
  co_await pending->done.async_wait(use_tuple);
  co_return std::pair{pending->error, std::move(pending->replies)};
}

void client::handle_connected() {
  become_ready();
}

void client::handle_reply(reply answer) {
  if (waiting_.empty()) {
    workshop::log("redis: a reply nobody asked for (", role(), "): ", answer.text);
    return;
  }
  auto& oldest = *waiting_.front();
  oldest.replies.push_back(std::move(answer));
  if (oldest.replies.size() < oldest.expected) return;
  oldest.done.cancel();
  waiting_.pop_front();
}

void client::handle_lost(error why) {
  for (auto& pending : waiting_) {
    pending->error = make_error_code(why);
    pending->done.cancel();
  }
  waiting_.clear();
}

// ---- subscriber ----

std::shared_ptr<subscriber> subscriber::create(asio::any_io_executor executor, address where,
                                               std::string role) {
  return std::shared_ptr<subscriber>{new subscriber{executor, std::move(where), std::move(role)}};
}

void subscriber::subscribe(std::string channel, message_handler on_message) {
  if (connected()) {
    ++confirmations_due_;
    send(format({"SUBSCRIBE", channel}));
  }
  channels_.emplace_back(std::move(channel), std::move(on_message));
}

void subscriber::handle_connected() {
  confirmations_due_ = channels_.size();
  if (channels_.empty()) return become_ready();
  command words{"SUBSCRIBE"};
  for (const auto& [channel, handler] : channels_) words.push_back(channel);
  send(format(words));
}

// A subscribed connection receives arrays: ["subscribe", channel, count] to confirm each
// channel, then ["message", channel, payload] for every message published on it.
void subscriber::handle_reply(reply answer) {
  const auto& parts = answer.elements;
  if (answer.type != reply::kind::array || parts.size() < 3) {
    workshop::log("redis: unexpected reply on the subscriber: ", answer.text);
    return;
  }
  if (parts[0].text == "subscribe") {
    workshop::log("redis: subscribed to '", parts[1].text, "' (", role(), ")");
    if (confirmations_due_ > 0 && --confirmations_due_ == 0 && !ready()) become_ready();
    return;
  }
  if (parts[0].text != "message") return;
  for (const auto& [channel, handler] : channels_) {
    if (channel == parts[1].text) handler(parts[2].text);
  }
}

}  // namespace redis
