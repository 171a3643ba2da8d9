// The fan-out loop on its own: chat_room::broadcast into N recipients' outboxes, no sockets.
// What it costs to hand one batch to one recipient, a batch being one shared message that
// holds 1, 16 or 256 lines of 64 bytes (all the complete lines of one read), with the batch
// shared (the solution's design) and with a copy per recipient (a queue of std::string, as in
// Asio's chat example). ns_per_recipient is per batch, ns_per_line per line of it: the more
// lines a batch holds, the less each costs, since the room's work is per message, not per byte.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chat_room.hpp"
#include "outbox.hpp"

namespace {

// A recipient whose writer is busy: deliver() only queues, as a session's does.
class shared_recipient : public chat::participant {
 public:
  explicit shared_recipient(std::string id) : id_{std::move(id)} {}
  const std::string& user_id() const override { return id_; }
  void deliver(const chat::message& line) override { outbox_.push(line); }
  void drain() { outbox_.written(outbox_.take_all()); }  // what the writer would send

 private:
  std::string id_;
  chat::outbox outbox_{SIZE_MAX, SIZE_MAX, std::chrono::milliseconds::max()};  // never full
};

// The same recipient with a copy of the line in its queue.
class copying_recipient : public chat::participant {
 public:
  explicit copying_recipient(std::string id) : id_{std::move(id)} {}
  const std::string& user_id() const override { return id_; }
  void deliver(const chat::message& line) override { queued_.push_back(*line); }
  void drain() { queued_.clear(); }

 private:
  std::string id_;
  std::vector<std::string> queued_;
};

template <typename Recipient>
void fan_out(benchmark::State& state) {
  const auto recipients = static_cast<std::size_t>(state.range(0));
  const auto lines = static_cast<std::size_t>(state.range(1));
  constexpr std::size_t line_bytes = 64;
  chat::chat_room room;
  std::vector<std::shared_ptr<Recipient>> everyone;
  for (std::size_t i = 1; i <= recipients; ++i) {
    everyone.push_back(std::make_shared<Recipient>(std::to_string(i)));
    room.join(everyone.back());
  }
  std::string batch;
  for (std::size_t i = 0; i < lines; ++i) batch += std::string(line_bytes - 1, 'x') + '\n';
  const auto message = chat::make_message(std::move(batch));
  // Queues grow with every broadcast: empty them (untimed) every few thousand deliveries.
  const std::size_t drain_every = std::max<std::size_t>(1, 4096 / recipients);
  std::size_t since_drain = 0;
  for (auto _ : state) {
    room.broadcast(message, "0");  // the author is not in the room: everyone gets it
    if (++since_drain == drain_every) {
      state.PauseTiming();
      for (auto& recipient : everyone) recipient->drain();
      since_drain = 0;
      state.ResumeTiming();
    }
  }
  const auto deliveries = static_cast<double>(state.iterations()) * static_cast<double>(recipients);
  const auto delivered_lines = deliveries * static_cast<double>(lines);
  state.SetItemsProcessed(static_cast<std::int64_t>(delivered_lines));
  state.SetBytesProcessed(static_cast<std::int64_t>(delivered_lines * line_bytes));
  state.counters["ns_per_recipient"] = benchmark::Counter(
      deliveries / 1e9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["ns_per_line"] = benchmark::Counter(
      delivered_lines / 1e9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void sizes(benchmark::internal::Benchmark* bench) {
  for (const int recipients : {10, 100, 1000})
    for (const int lines : {1, 16, 256}) bench->Args({recipients, lines});
  bench->ArgNames({"recipients", "lines_a_batch"});
}

BENCHMARK_TEMPLATE(fan_out, shared_recipient)->Apply(sizes);
BENCHMARK_TEMPLATE(fan_out, copying_recipient)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
