// Lesson 05: a round-robin TCP reverse proxy. Each client is connected to the next backend in
// turn, and bytes flow both ways unchanged until both sides are done.
// Follow lessons/05-reverse-proxy/README.md; check your work with `./workshop check 05`.
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

// socket.pipe(hostSocket), with what pipe() hides spelled out.
awaitable<void> pipe(tcp::socket& from, tcp::socket& to) {
  // TODO step 2: socket.pipe(hostSocket): every byte that arrives from `from` reaches `to`,
  //              unchanged and as soon as it has arrived, until either side fails. Memory stays
  //              fixed, whatever the traffic: while `to` is slow to take the bytes, `from` is
  //              not read (backpressure). (tests: "bytes flow both ways: the backend's greeting,
  //              then an echo", "8 MiB of random bytes come back from an echo backend intact",
  //              "300 connections at once each echo 64 KiB intact", "a client that does not read
  //              holds the backend back, and proxy memory stays bounded"; README: Backpressure)
  // TODO step 4: socket.on('end'), done right: once `from` has said all it will say, `to`
  //              reads end-of-file too, and only this direction is over: the other one goes on.
  //              A reset or any other error ends the whole connection, both directions at once;
  //              the direction that was still waiting then simply ends: its cancelled wait is no
  //              error to report. (tests: "a client's half-close reaches the backend, and its
  //              answer still comes back", "a backend's half-close reaches the client, who can
  //              still send", "a reset on either side closes both"; README: Piping both ways, and
  //              what pipe() hides)
  (void)from;
  (void)to;
  co_return;
}

// The backends, whose turn it is, and which ones are resting after failing us.
class backend_pool {
 public:
  backend_pool(std::vector<tcp::endpoint> endpoints, milliseconds rest)
      : backends_(endpoints.begin(), endpoints.end()), rest_{rest} {}

  std::size_t size() const { return backends_.size(); }
  const tcp::endpoint& endpoint(std::size_t index) const { return backends_[index].endpoint; }

  // The backends to try for a new client, in order.
  std::vector<std::size_t> turn_order() {
    // TODO step 3: var counter: the first client is offered the first backend first, the next
    //              client the next one, wrapping around; each answer lists every backend, so that
    //              the others can be tried after it. The turn moves on by exactly one per client,
    //              whichever backend that client ends up on. The Node.js original moves its
    //              counter before using it, so its first client goes to the second backend. (test:
    //              "clients go to the backends in turn, starting with the first"; README: Round
    //              robin)
    // TODO step 5: a backend that rests is not offered, unless every one rests: then all are (a
    //              rest is advice: one may be back by now). The turn still moves on by exactly one
    //              per client: a resting backend is left out of a client's list, not out of the
    //              count. (tests: "a backend that refuses is skipped for the next one", "with every
    //              backend down the client is closed at once, and the proxy goes on"; README:
    //              Step 5)
    return {0};  // for now: always the first backend
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

// net.connect(host): connects `socket`, or gives up after `timeout`.
awaitable<std::error_code> connect_within(tcp::socket& socket, const tcp::endpoint& backend,
                                          milliseconds timeout) {
  // TODO step 1: net.connect(hosts[counter]): `socket` ends up connected to `backend`, and the
  //              answer says whether it worked (an empty error code when it did). A backend that
  //              refuses is news to act on, not an exception. (test: "a client's connection
  //              reaches the backend, and the log names it"; README: Errors as values)
  // TODO step 6: a backend that never answers costs a client at most `timeout`; then the answer
  //              is a time-out error, and the next backend is tried. (test: "a backend that does
  //              not answer is skipped after --connect-timeout-ms"; README: Running two
  //              awaitables at once)
  (void)socket;
  (void)backend;
  (void)timeout;
  co_return asio::error::operation_not_supported;
}

// The first backend, in turn order, that accepts the connection.
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
                  error.message(), ")");
    // TODO step 5: the Node.js original crashes here. A backend that failed is left alone for
    //              --rest-ms, so that the next clients do not wait on it too; this client is
    //              offered the next backend instead of being closed. (tests: "a backend that
    //              refuses is skipped for the next one", "with every backend down the client is
    //              closed at once, and the proxy goes on"; README: Step 5)
    co_return std::nullopt;
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
