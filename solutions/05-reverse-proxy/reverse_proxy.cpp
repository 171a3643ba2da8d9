// Lesson 05: a round-robin TCP reverse proxy. Each client is connected to the next backend in
// turn, and bytes flow both ways unchanged until both sides are done.
//
//   var counter = 0;
//   net.createServer(function(socket){
//       counter = (counter+1)%hosts.length;
//       console.log("forwarding connection to : ", hosts[counter]);
//       var hostSocket = net.connect(hosts[counter],function(){
//           socket.pipe(hostSocket).pipe(socket);
//       });
//       socket.on('end',function(){
//           console.log("destroying socket");
//           hostSocket.destroy();
//       });
//   }).listen(8000);
#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <optional>

#include "backend_address.hpp"
#include "workshop/program.hpp"

using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;  // a && b, a || b on awaitables
using std::chrono::milliseconds;
using std::chrono::steady_clock;

using workshop::use_tuple;  // co_await returns (error, results...): common/'s error policy

// Defined below: the backends and whose turn it is, connecting to the first one that answers,
// and one direction of the pipe.
class backend_pool;
awaitable<std::optional<tcp::socket>> connect_to_a_backend(backend_pool& pool,
                                                           milliseconds timeout);
awaitable<void> pipe(tcp::socket& from, tcp::socket& to);

// One client, from accept to the end of both directions.
awaitable<void> serve(tcp::socket client, backend_pool& pool, milliseconds connect_timeout) {
  std::error_code ignored;
  const std::string who = workshop::to_string(client.remote_endpoint(ignored));
  auto backend = co_await connect_to_a_backend(pool, connect_timeout);
  if (!backend) {
    workshop::log("client ", who, ": no backend answered, closing");
    co_return;  // the client socket closes here
  }
  // console.log("forwarding connection to : ", hosts[counter]);
  workshop::log("client ", who, " -> backend ",
                workshop::to_string(backend->remote_endpoint(ignored)));
  // socket.pipe(hostSocket).pipe(socket): both directions at once, done when both are done.
  co_await (pipe(client, *backend) && pipe(*backend, client));
}

// One buffer per direction, reused for every read: memory per connection stays fixed.
constexpr std::size_t pipe_buffer_size = 64 * 1024;

// socket.pipe(hostSocket), with what pipe() hides spelled out. One buffer, reused: read some,
// write all of it, read again. While `to` is slow to take the bytes we do not read `from`, so
// its sender slows down too (backpressure) and memory stays fixed.
awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
  std::array<char, pipe_buffer_size> buffer;  // allocated once, in this coroutine's frame
  while (true) {
    auto [read_error, length] = co_await from.async_read_some(asio::buffer(buffer), use_tuple);
    if (read_error == asio::error::eof) {
      // from.on('end'): pass the half-close on, and leave the other direction flowing.
      std::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    if (read_error) break;
    auto [write_error, written] =
        co_await asio::async_write(to, asio::buffer(buffer, length), use_tuple);
    if (write_error) break;
  }
  // A reset or an error on either side: nothing more can flow either way, so end both.
  std::error_code ignored;
  from.close(ignored);
  to.close(ignored);
}

// The backends, whose turn it is, and which ones are resting after failing us.
class backend_pool {
 public:
  backend_pool(std::vector<tcp::endpoint> endpoints, milliseconds rest)
      : backends_(endpoints.begin(), endpoints.end()), rest_{rest} {}

  std::size_t size() const { return backends_.size(); }
  const tcp::endpoint& endpoint(std::size_t index) const { return backends_[index].endpoint; }

  // The backends to try for a new client, in order: round robin from the one whose turn it
  // is, leaving out resting ones. When every one rests we try them all: a rest is advice.
  std::vector<std::size_t> turn_order() {
    const std::size_t first = next_;
    next_ = (next_ + 1) % size();  // used, then moved on (reverse_proxy.js moves it first)
    std::vector<std::size_t> awake;
    std::vector<std::size_t> all;
    for (std::size_t offset = 0; offset < size(); ++offset) {
      const std::size_t index = (first + offset) % size();
      all.push_back(index);
      if (!is_resting(index)) awake.push_back(index);
    }
    return awake.empty() ? all : awake;
  }

  bool is_resting(std::size_t index) const {
    return steady_clock::now() < backends_[index].resting_until;
  }
  void rest(std::size_t index) { backends_[index].resting_until = steady_clock::now() + rest_; }

 private:
  struct backend {
    backend(const tcp::endpoint& where) : endpoint{where} {}
    tcp::endpoint endpoint;
    steady_clock::time_point resting_until{};  // in the past: awake
  };
  std::vector<backend> backends_;
  milliseconds rest_;
  std::size_t next_ = 0;
};

// net.connect(host): connects `socket`, or gives up after `timeout` (a backend that does not
// answer at all would otherwise keep the client waiting for the kernel's minutes-long retries).
awaitable<std::error_code> connect_within(tcp::socket& socket, const tcp::endpoint& backend,
                                          milliseconds timeout) {
  asio::steady_timer timer{socket.get_executor(), timeout};
  // a || b: whichever finishes first wins, and the other is cancelled.
  auto first = co_await (socket.async_connect(backend, use_tuple) || timer.async_wait(use_tuple));
  if (first.index() == 1) co_return asio::error::timed_out;
  co_return std::get<0>(std::get<0>(first));
}

// The first backend, in turn order, that accepts the connection; failures rest for a while.
awaitable<std::optional<tcp::socket>> connect_to_a_backend(backend_pool& pool,
                                                           milliseconds timeout) {
  for (const std::size_t backend : pool.turn_order()) {
    tcp::socket socket{co_await asio::this_coro::executor};
    const std::error_code error = co_await connect_within(socket, pool.endpoint(backend), timeout);
    if (!error) {
      std::error_code ignored;
      socket.set_option(tcp::no_delay{true}, ignored);
      co_return socket;
    }
    workshop::log("backend ", workshop::to_string(pool.endpoint(backend)), " failed (",
                  error.message(), "): skipped, resting");
    pool.rest(backend);
  }
  co_return std::nullopt;
}

// net.createServer(function(socket){ ... }): one coroutine per client.
awaitable<void> accept_clients(tcp::acceptor acceptor, backend_pool& pool,
                               milliseconds connect_timeout, std::size_t max_clients) {
  workshop::client_gate clients{max_clients, ""};  // a proxy adds no bytes of its own: just close
  while (auto socket = co_await clients.accept(acceptor)) {
    // No Nagle on either side (here and for the backend): the proxy passes on what it reads at
    // once, as the chat servers write; Nagle would hold a short piece back up to 40 ms.
    std::error_code ignored;
    socket->set_option(tcp::no_delay{true}, ignored);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(*socket), pool, connect_timeout),
                   asio::detached);
  }
}

// Looks each backend's host up once, at start; exits 2 if one cannot be found.
std::vector<tcp::endpoint> resolve_backends(asio::io_context& io,
                                            const std::vector<backend_address>& backends) {
  tcp::resolver resolver{io};
  std::vector<tcp::endpoint> endpoints;
  for (const auto& backend : backends) {
    std::error_code error;
    const auto found = resolver.resolve(backend.host, std::to_string(backend.port), error);
    if (error || found.empty()) {
      workshop::log("reverse_proxy: cannot resolve backend ", to_string(backend), ": ",
                    error.message());
      std::exit(2);
    }
    endpoints.push_back(found.begin()->endpoint());
  }
  return endpoints;
}

int main(int argc, char** argv) {
  workshop::listen_address address{.host = "127.0.0.1", .port = 8000};
  std::vector<std::string> backend_flags;
  int connect_timeout_ms = 1000;
  int rest_ms = 5000;
  CLI::App app{"Lesson 05: a round-robin TCP reverse proxy.", "reverse_proxy"};
  workshop::add_listen_flags(app, address);
  app.add_option("--backend", backend_flags,
                 "A backend HOST:PORT, repeatable (default: 127.0.0.1:9999 down to :9992)")
      ->delimiter(',')
      ->check([](const std::string& text) {
        return parse_backend(text) ? std::string{} : "not HOST:PORT: " + text;
      });
  app.add_option("--connect-timeout-ms", connect_timeout_ms,
                 "Skip a backend that does not answer within this time")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  app.add_option("--rest-ms", rest_ms, "How long a failed backend is left alone")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600000));
  std::size_t max_clients = workshop::default_max_clients;
  workshop::add_max_clients_flag(app, max_clients);
  workshop::parse_flags_or_exit(app, argc, argv);
  workshop::raise_fd_limit();

  std::vector<backend_address> backends;
  for (const auto& text : backend_flags) backends.push_back(*parse_backend(text));
  if (backends.empty()) backends = default_backends();

  asio::io_context io;
  backend_pool pool{resolve_backends(io, backends), milliseconds{rest_ms}};
  auto acceptor = workshop::listen_on(io, address);
  workshop::on_stop_signal(io, [&io] { io.stop(); });
  workshop::announce_listening(acceptor);  // last: once it is out, anyone may connect or signal
  asio::co_spawn(
      io, accept_clients(std::move(acceptor), pool, milliseconds{connect_timeout_ms}, max_clients),
      asio::detached);
  io.run();  // the event loop: runs until a signal stops it
}
