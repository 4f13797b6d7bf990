// KafkaOwnTail: the events a writing KafkaLog delivered lately (internal to
// ledger/kafka_*.cc), kept in memory so that Read serves the writer's own events as
// soon as their delivery reports are in, instead of fetching them back from the
// brokers (a fetch that finds nothing new waits up to fetch.wait.max.ms, 100 ms).
// Read-only logs have none: they fetch.
//
// Contract:
//  - Per partition the tail is one run of events with contiguous ledger offsets
//    (base+1 .. end), each exactly as its delivery report placed it. Complete() adds a
//    batch only if every event of it was delivered, at consecutive offsets; a batch
//    that does not start at end+1 starts the run afresh (what lies in between —
//    another producer's events, or a failed batch stored after all — is not ours to
//    serve: Read fetches it). So nothing here is ahead of what is durable (acks=all).
//  - Serve() never returns an event beyond `heads` (the log's Heads(), which the
//    producer advances right after Complete), and learns every event it returns into
//    the KafkaTopicState, as a fetched one would be.
//  - Expect()/Complete() count each partition's batches in flight; Serve() reports a
//    partition whose missing events are most likely such a batch's (kPending), so
//    that Read waits a moment for the delivery report rather than fetching.
//  - Bounded: at most max_bytes of event bytes in all (divided among partitions,
//    each keeping at least its last batch); the oldest go first.
//  - Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ledger/event_log.h"
#include "ledger/kafka_topic_state.h"
#include "ledger/position.h"

namespace authledger::kafka {

class KafkaOwnTail {
 public:
  static constexpr std::size_t kMaxBytes = std::size_t{16} << 20;

  struct Event {
    std::string bytes;
    std::string account;
    std::uint64_t seq = 0;
  };
  enum class Cover {
    kServed,   // every partition with events after the cursor was served (as far as max allowed)
    kPending,  // some partition was not, but its missing events are probably a batch in flight
    kFetch,    // some partition's events must be fetched
  };

  KafkaOwnTail(KafkaTopicState& state, std::size_t max_bytes = kMaxBytes);
  KafkaOwnTail(const KafkaOwnTail&) = delete;
  KafkaOwnTail& operator=(const KafkaOwnTail&) = delete;

  // A batch of partition p goes to the producer.
  void Expect(std::uint32_t p);
  // That batch is over: if every event was delivered, `first_offset` is the Kafka offset
  // of the first and `events` the batch's events in order; else `events` is empty.
  void Complete(std::uint32_t p, std::int64_t first_offset, std::vector<Event> events);

  // Appends to *out (not cleared; at most `max` in all) the events after `after` that
  // the tail holds, up to `heads`, each partition's in order.
  Cover Serve(const Cursor& after, const Cursor& heads, std::size_t max, std::vector<StoredEvent>* out);

  // How many times Complete was called; WaitChange blocks until it differs from
  // `generation` or `deadline` passes.
  std::uint64_t generation() const;
  void WaitChange(std::uint64_t generation, std::chrono::steady_clock::time_point deadline);

 private:
  struct Part {
    std::uint64_t base = 0;  // the ledger offset right before events.front()
    std::deque<Event> events;
    std::size_t bytes = 0;
    std::size_t pending = 0;  // batches in flight
  };

  KafkaTopicState& state_;
  const std::uint32_t partitions_;
  const std::size_t max_part_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<Part[]> parts_;
  std::uint64_t generation_ = 0;
};

}  // namespace authledger::kafka
