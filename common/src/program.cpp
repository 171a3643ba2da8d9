#include "workshop/program.hpp"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <memory>

namespace workshop {

void add_listen_flags(CLI::App& app, listen_address& address) {
  app.add_option("--host", address.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", address.port, "Port to listen on (0: the OS picks one)")
      ->capture_default_str();
}

void parse_flags_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help() << std::flush;
    std::exit(0);
  } catch (const CLI::ParseError& error) {
    // CLI11's own exit codes start at 100; the workshop's programs all use 2.
    std::cerr << app.get_name() << ": " << error.what() << "\n\n" << app.help() << std::flush;
    std::exit(2);
  }
}

asio::ip::tcp::acceptor listen_on(asio::io_context& io, const listen_address& address) {
  std::error_code error;
  const asio::ip::tcp::endpoint endpoint{asio::ip::make_address(address.host, error), address.port};
  asio::ip::tcp::acceptor acceptor{io};
  if (!error) acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(asio::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    log("cannot listen on ", address.host, ":", address.port, ": ", error.message());
    std::exit(1);
  }
  return acceptor;
}

void write_log_line(std::string_view line) {
  while (!line.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // stderr is gone: nowhere left to say so
    line.remove_prefix(static_cast<std::size_t>(written));
  }
}

std::string to_string(const asio::ip::tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ':' + std::to_string(endpoint.port());
}

void announce_listening(const asio::ip::tcp::acceptor& acceptor) {
  std::cout << "listening on " << to_string(acceptor.local_endpoint()) << '\n' << std::flush;
}

void on_stop_signal(asio::io_context& io, std::function<void()> on_stop) {
  auto signals = std::make_shared<asio::signal_set>(io, SIGINT, SIGTERM);
  signals->async_wait([signals, on_stop = std::move(on_stop)](const std::error_code& error, int) {
    if (!error) on_stop();
  });
}

asio::awaitable<bool> keep_accepting_after(const std::error_code& error) {
  if (error == asio::error::operation_aborted || error == asio::error::bad_descriptor) {
    co_return false;  // the acceptor was closed: we are shutting down
  }
  log("accept failed: ", error.message());
  if (error == asio::error::no_descriptors || error == std::errc::too_many_files_open_in_system ||
      error == asio::error::no_buffer_space) {
    asio::steady_timer pause{co_await asio::this_coro::executor, std::chrono::milliseconds{100}};
    co_await pause.async_wait(use_tuple);
  }
  co_return true;
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) log("could not raise the open-file limit");
}

void add_max_clients_flag(CLI::App& app, std::size_t& max_clients) {
  app.add_option("--max-clients", max_clients,
                 "Most clients at once; past it a newcomer is turned away, the others go on")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

namespace {

// Tells a client there is no room (if its socket takes `farewell` at once) and closes it. It never
// waits on the client.
void turn_away(asio::ip::tcp::socket& socket, std::string_view farewell) {
  std::error_code ignored;
  log("client ", to_string(socket.remote_endpoint(ignored)), " turned away: --max-clients reached");
  socket.non_blocking(true, ignored);  // a new socket's send buffer is empty: a line fits at once
  socket.write_some(asio::buffer(farewell), ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

// The inode of the socket open on `descriptor`, or 0 if none is open there.
unsigned long inode_of(int descriptor) {
  struct stat status {};
  if (fstat(descriptor, &status) != 0 || !S_ISSOCK(status.st_mode)) return 0;
  return status.st_ino;
}

}  // namespace

asio::awaitable<std::optional<asio::ip::tcp::socket>> client_gate::accept(
    asio::ip::tcp::acceptor& acceptor) {
  while (true) {
    auto [error, socket] = co_await acceptor.async_accept(use_tuple);
    if (error) {
      if (co_await keep_accepting_after(error)) continue;
      co_return std::nullopt;  // the acceptor was closed: we are shutting down
    }
    if (!has_room()) {
      turn_away(socket, farewell_);
      continue;
    }
    admitted_.push_back({socket.native_handle(), inode_of(socket.native_handle())});
    co_return std::move(socket);
  }
}

std::size_t client_gate::connected() {
  std::erase_if(admitted_, [](const admitted& client) {
    return inode_of(client.descriptor) != client.inode;  // closed (and perhaps reused since)
  });
  return admitted_.size();
}

bool client_gate::has_room() {
  // Forgetting the clients that have left costs one fstat each: only near the limit.
  return admitted_.size() < max_ || connected() < max_;
}

asio::awaitable<std::tuple<std::error_code, std::string_view>> read_some_shared(
    asio::ip::tcp::socket& socket) {
  static std::array<char, 64 * 1024> shared;  // one thread, one event loop: one buffer
  co_await asio::post(use_tuple);             // the others first
  std::error_code error;
  if (!socket.non_blocking()) socket.non_blocking(true, error);
  while (!error) {
    const std::size_t size = socket.read_some(asio::buffer(shared), error);
    if (!error) {
#ifndef NDEBUG
      // A debug build overwrites the bytes once the caller has reached its next co_await (this
      // runs after it), so that a view kept past it fails a test every time, not by chance.
      asio::post(socket.get_executor(), [size] {
        constexpr std::string_view stale = "<stale: read before a co_await>\n";
        for (std::size_t i = 0; i < size; ++i) shared[i] = stale[i % stale.size()];
      });
#endif
      co_return std::tuple{error, std::string_view{shared.data(), size}};
    }
    if (error != asio::error::would_block) break;
    // Nothing there yet: sleep until the socket is readable, holding no buffer meanwhile.
    auto [waited] = co_await socket.async_wait(asio::socket_base::wait_read, use_tuple);
    error = waited;
  }
  co_return std::tuple{error, std::string_view{}};
}

}  // namespace workshop
