// KafkaProducer: KafkaLog's Append and AppendAsync (internal to ledger/kafka_*.cc).
// One idempotent librdkafka producer (acks=all, one request in flight per broker)
// with its poll thread; a message per event, keyed by account, the envelope as
// value, the ce_* headers (ledger/kafka_headers.h); the conflict table in
// KafkaTopicState. AppendAsync hands a batch to the producer's append thread, which
// checks it, re-synchronises if needed and produces it without waiting; the delivery
// report of its last message (on the poll thread) completes it. So the batches of
// many accounts share produce requests (linger.ms), and Append is AppendAsync and a
// wait.
//
// Contract (KafkaLog's Append, ledger/kafka_log.h):
//  - `done` gets, once, on the append thread (refusals) or the poll thread
//    (deliveries): the position of the batch's last event, or Unavailable (nothing
//    of the batch stored), or OutcomeUnknown when a failed delivery may have been
//    persisted or part of the batch was delivered. Bad batches are InvalidArgument
//    and nothing is produced. Batches are produced in the order AppendAsync was
//    called.
//  - Before deciding on a partition's sequences it re-synchronises: reads the
//    partition up to its target through the readers (within ~1 s per call;
//    Unavailable "re-synchronising" until done), querying the high watermark again
//    after a delivery that may have been persisted.
//  - A batch with an expected head is produced only once no other batch of its
//    partition is in flight (so the head it is checked against is settled).
//  - Every fully delivered batch goes to the own-event tail (ledger/kafka_own_tail.h)
//    before the heads move past it, so Read serves it at once.
//  - Own-offset check: delivery reports of a partition arrive in offset order; once
//    ours are not contiguous another producer wrote in between, and every later
//    Append fails with Unavailable (one writer per topic; not prevented, detected).
//  - Broker probing: while the brokers are known to be down, Append probes them
//    (~250 ms metadata request, at most one per 250 ms: in between batches fail at
//    once) and fails with Unavailable without producing; messages still queued when
//    the last broker goes away fail at once (purged).
//  - A fatal librdkafka error makes every later Append Unavailable.
//  - GiveUpAt(deadline): the poll thread gives up at the deadline (GiveUp): it logs
//    how many appends and events of which partitions are unresolved (produced, or
//    not yet produced), purges the messages in flight (their reports fail them: OutcomeUnknown, or Unavailable if
//    never sent), fails the batches not yet produced (Unavailable) and wakes every
//    wait of the append thread; from then on every batch fails at once.
//  - Thread-safe. The destructor produces what was handed over (or fails it, once
//    given up), waits for outstanding deliveries up to 5 s or the GiveUpAt deadline,
//    whichever comes first, then gives up on the rest (every `done` is called); the
//    state, readers and tail it was started with must outlive it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/status.h"
#include "ledger/event_log.h"
#include "ledger/kafka_log.h"
#include "ledger/kafka_own_tail.h"
#include "ledger/kafka_readers.h"
#include "ledger/kafka_topic_state.h"

namespace authledger::kafka {

class KafkaProducer {
 public:
  static Result<std::unique_ptr<KafkaProducer>> Start(const KafkaLogOptions& opts, KafkaTopicState& state,
                                                      KafkaReaders& readers, KafkaOwnTail& tail);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  Result<Position> Append(AppendBatch batch);
  void AppendAsync(AppendBatch batch, EventLog::AppendDone done);
  void GiveUpAt(std::chrono::steady_clock::time_point deadline);

 private:
  struct Job;       // one batch, from AppendAsync to its `done`
  struct Delivery;  // one message of a job
  struct Partition {
    std::mutex resync_mu;  // one re-synchronisation at a time
    // Only the poll thread (OnDelivery) touches it: the offset our next delivered
    // message must get if nobody else writes to this partition; -1: not known (at
    // the start, or after a failed delivery).
    std::int64_t own_next = -1;
    std::size_t in_flight = 0;         // batches produced, not yet complete; guarded by flight_mu_
    std::size_t in_flight_events = 0;  // their events; guarded by flight_mu_
  };

  KafkaProducer(const KafkaLogOptions& opts, KafkaTopicState& state, KafkaReaders& readers, KafkaOwnTail& tail);
  Status StartClient();
  void AppendLoop();
  // Checks and produces the job (append thread); `done` is called now on refusal.
  void Produce(std::unique_ptr<Job> job);
  // Everything before producing: Ok, or why the batch is refused.
  Status Prepare(Job& job);
  // All of the job's messages are reported (or were never produced): answers it.
  void Finish(Job* job);
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void CheckOwnOffsets(const rd_kafka_message_t* m);
  std::string LastError();
  Status ProbeIfDown();
  // Makes sure the account sequences of partition p are complete.
  Status Resync(std::uint32_t p);
  // Waits until no batch of p is in flight (an expected-head batch's turn).
  Status WaitIdle(std::uint32_t p);
  // Gives up on every append not yet acknowledged (see GiveUpAt); once.
  void GiveUp();
  Status GivenUpStatus() const;

  const KafkaLogOptions& opts_;
  KafkaTopicState& state_;
  KafkaReaders& readers_;
  KafkaOwnTail& tail_;
  const std::uint32_t partitions_;
  std::unique_ptr<Partition[]> parts_;

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  std::thread poll_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> brokers_down_{false};
  std::atomic<bool> purge_queued_{false};  // all brokers down: fail the waiting Appends now
  std::atomic<bool> fatal_{false};
  // GiveUpAt's deadline (steady clock ticks; max: none), and whether GiveUp ran.
  std::atomic<std::chrono::steady_clock::rep> give_up_at_{
      std::chrono::steady_clock::time_point::max().time_since_epoch().count()};
  std::atomic<bool> given_up_{false};
  std::mutex produce_mu_;  // held while producing a batch and while GiveUp purges
  // Another producer appended to a partition between two of our deliveries: we are
  // not the only writer (decisions.md 30), so this log appends no more.
  std::atomic<bool> foreign_writer_{false};
  std::mutex error_mu_;
  std::string last_error_;  // the producer's most recent client error, for messages
  // When a probe last failed (append thread only).
  std::chrono::steady_clock::time_point last_failed_probe_{};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Job>> queue_;  // handed over, not yet produced
  bool stopping_ = false;                   // guarded by queue_mu_
  std::thread append_thread_;

  std::mutex flight_mu_;
  std::condition_variable flight_cv_;  // a partition's in_flight went down
};

}  // namespace authledger::kafka
