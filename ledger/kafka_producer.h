// KafkaProducer: KafkaLog's Append (internal to ledger/kafka_*.cc). One idempotent
// librdkafka producer (acks=all, one request in flight per broker) with its poll
// thread; a message per event, keyed by account, the envelope as value, the ce_*
// headers (ledger/kafka_headers.h); the conflict table in KafkaTopicState.
//
// Contract (KafkaLog's Append, ledger/kafka_log.h):
//  - Append returns once every event's delivery report is in: the position of the
//    last event, or Unavailable (nothing of the batch stored), or OutcomeUnknown
//    when a failed delivery may have been persisted or part of the batch was
//    delivered. Bad batches are InvalidArgument and nothing is produced.
//  - Before deciding on a partition's sequences it re-synchronises: reads the
//    partition up to its target through the readers (within ~1 s per call;
//    Unavailable "re-synchronising" until done), querying the high watermark again
//    after a delivery that may have been persisted.
//  - Own-offset check: delivery reports of a partition arrive in offset order; once
//    ours are not contiguous another producer wrote in between, and every later
//    Append fails with Unavailable (one writer per topic; not prevented, detected).
//  - Broker probing: while the brokers are known to be down, Append probes them
//    (~250 ms metadata request) and fails with Unavailable without producing;
//    messages still queued when the last broker goes away fail at once (purged).
//  - A fatal librdkafka error makes every later Append Unavailable.
//  - Thread-safe. The destructor waits up to 5 s for outstanding deliveries; the
//    state and readers it was started with must outlive it.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "domain/status.h"
#include "ledger/event_log.h"
#include "ledger/kafka_log.h"
#include "ledger/kafka_readers.h"
#include "ledger/kafka_topic_state.h"

namespace authledger::kafka {

class KafkaProducer {
 public:
  static Result<std::unique_ptr<KafkaProducer>> Start(const KafkaLogOptions& opts, KafkaTopicState& state,
                                                      KafkaReaders& readers);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  Result<Position> Append(AppendBatch batch);

 private:
  struct Partition {
    std::shared_mutex append_mu;  // normal Appends shared, expected_head Appends exclusive
    std::mutex resync_mu;         // one re-synchronisation at a time
    // Only the poll thread (OnDelivery) touches it: the offset our next delivered
    // message must get if nobody else writes to this partition; -1: not known (at
    // the start, or after a failed delivery).
    std::int64_t own_next = -1;
  };

  KafkaProducer(const KafkaLogOptions& opts, KafkaTopicState& state, KafkaReaders& readers);
  Status StartClient();
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void CheckOwnOffsets(const rd_kafka_message_t* m);
  std::string LastError();
  Status ProbeIfDown();
  // Makes sure the account sequences of partition p are complete.
  Status Resync(std::uint32_t p);

  const KafkaLogOptions& opts_;
  KafkaTopicState& state_;
  KafkaReaders& readers_;
  const std::uint32_t partitions_;
  std::unique_ptr<Partition[]> parts_;

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  std::thread poll_thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> brokers_down_{false};
  std::atomic<bool> purge_queued_{false};  // all brokers down: fail the waiting Appends now
  std::atomic<bool> fatal_{false};
  // Another producer appended to a partition between two of our deliveries: we are
  // not the only writer (decisions.md 30), so this log appends no more.
  std::atomic<bool> foreign_writer_{false};
  std::mutex error_mu_;
  std::string last_error_;  // the producer's most recent client error, for messages
};

}  // namespace authledger::kafka
