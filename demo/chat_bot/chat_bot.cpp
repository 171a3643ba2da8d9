// A scripted chat client for `./workshop demo --bots N`: it joins the room (through the proxy),
// says one line now and then, and reads everything the room says so it is never a slow reader.
// With --show it prints what it hears on stdout.
#include <asio/experimental/awaitable_operators.hpp>
#include <random>

#include "backend_address.hpp"
#include "workshop/program.hpp"

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using std::chrono::milliseconds;
using workshop::use_tuple;

const char* const lines[] = {
    "hello, room",
    "which server are you on?",
    "the proxy sent me to the next one in turn",
    "one thread, thousands of sockets",
    "Redis carries our lines between the servers",
    "non-blocking all the way down",
};

struct bot_settings {
  std::string name = "bot";
  milliseconds interval{3000};
  bool show = false;
};

// Reads what the room says until the connection ends; prints it with --show.
awaitable<void> listen(tcp::socket& socket, bool show) {
  std::string heard;
  while (true) {
    auto [error, length] =
        co_await asio::async_read_until(socket, asio::dynamic_buffer(heard), '\n', use_tuple);
    if (error) co_return;
    if (show) std::cout << heard.substr(0, length) << std::flush;
    heard.erase(0, length);
  }
}

// Says a line every interval, give or take half of it, so the bots do not speak in chorus.
awaitable<void> chatter(tcp::socket& socket, const bot_settings& settings) {
  std::minstd_rand random{std::random_device{}()};  // small: it lives in the coroutine frame
  std::uniform_int_distribution<long> jitter{settings.interval.count() / 2,
                                             settings.interval.count() * 3 / 2};
  asio::steady_timer timer{socket.get_executor()};
  for (unsigned count = 1;; ++count) {
    timer.expires_after(milliseconds{jitter(random)});
    co_await timer.async_wait(use_awaitable);
    const std::string line = settings.name + ": " + lines[random() % std::size(lines)] + " (#" +
                             std::to_string(count) + ")\n";
    auto [error, written] = co_await asio::async_write(socket, asio::buffer(line), use_tuple);
    if (error) co_return;
  }
}

// Connects (retrying while the room is still starting), then listens and chatters.
awaitable<void> run_bot(tcp::endpoint room, bot_settings settings) {
  tcp::socket socket{co_await asio::this_coro::executor};
  asio::steady_timer retry{socket.get_executor()};
  for (int attempt = 1;; ++attempt) {
    auto [error] = co_await socket.async_connect(room, use_tuple);
    if (!error) break;
    if (attempt == 50) {
      workshop::log(settings.name, ": cannot reach ", workshop::to_string(room), ": ",
                    error.message());
      co_return;
    }
    socket.close();
    retry.expires_after(milliseconds{200});
    co_await retry.async_wait(use_awaitable);
  }
  workshop::log(settings.name, ": joined through ", workshop::to_string(room));
  using namespace asio::experimental::awaitable_operators;  // a || b
  co_await (listen(socket, settings.show) || chatter(socket, settings));
  workshop::log(settings.name, ": the room closed the connection");
}

int main(int argc, char** argv) {
  std::string room = "127.0.0.1:8000";
  bot_settings settings;
  int interval_ms = 3000;
  CLI::App app{"A scripted chat client: joins, chats now and then, reads everything.", "chat_bot"};
  app.add_option("--connect", room, "The room's HOST:PORT (the proxy)")
      ->capture_default_str()
      ->check([](const std::string& text) {
        return parse_backend(text) ? std::string{} : "not HOST:PORT: " + text;
      });
  app.add_option("--name", settings.name, "What it calls itself")->capture_default_str();
  app.add_option("--interval-ms", interval_ms, "About how often it speaks")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600000));
  app.add_flag("--show", settings.show, "Print what the room says on stdout");
  workshop::parse_flags_or_exit(app, argc, argv);
  settings.interval = milliseconds{interval_ms};

  const auto address = *parse_backend(room);
  asio::io_context io;
  tcp::resolver resolver{io};
  const auto found = resolver.resolve(address.host, std::to_string(address.port));
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  asio::co_spawn(io, run_bot(found.begin()->endpoint(), settings), asio::detached);
  io.run();
}
