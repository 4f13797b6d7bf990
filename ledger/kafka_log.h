// KafkaLog: the EventLog backend on a Kafka topic (librdkafka). Partition p of the
// ledger is partition p of the topic; an event's offset is its Kafka offset + 1.
// Every message is keyed by account id, its value is the envelope's bytes, and it
// carries the headers content-type (application/cloudevents+json) and ce_specversion,
// ce_id, ce_source, ce_type, ce_subject, ce_time, ce_partitionkey, ce_accountseq from
// the event's attributes (AppendEvent: the envelope's own) — never its data.
//
// This class is a facade; the parts are internal to ledger/: kafka_topic_state.h
// (what the log knows of the topic, the conflict table), kafka_readers.h (the reader
// pool: Read, WaitForAppend), kafka_producer.h (Append, AppendAsync), kafka_own_tail.h
// (the writer's own events, served to Read without a fetch), kafka_headers.h (the
// headers), kafka_client.h (librdkafka configuration).
//
// Contract, in addition to EventLog's:
//  - Open reads the topic's metadata and watermarks within open_timeout: Unavailable if
//    no broker answers, NotFound if the topic is missing (auto-creation is never asked
//    for; librdkafka 2.0.2's mock cluster creates it anyway), InvalidArgument if it has
//    more than kMaxPartitions partitions or not `partitions`.
//  - Append and AppendAsync (producer only, else FailedPrecondition) use an idempotent
//    producer with acks=all; AppendAsync produces on the log's append thread without
//    waiting, and its `done` runs when every event's delivery report is in (on the
//    producer's poll thread), so concurrent batches share produce requests; Append is
//    AppendAsync and a wait. A batch succeeds once every delivery report succeeded. A failure is
//    Unavailable when nothing of the batch was stored, OutcomeUnknown when a failed
//    delivery may have been persisted or part of the batch was delivered. Every
//    attribute of every event must be set, with partitionkey == account_id and
//    accountseq == expected_seq+1, +2, ... (else InvalidArgument, nothing produced);
//    the bytes are never parsed.
//  - Conflict detection knows this instance's own appends and everything it has read;
//    an Append while another of the same account is in flight is a Conflict.
//    Before the first Append to a partition that already held events, and after a
//    delivery that may have been persisted although it failed, the partition is read up
//    to its high watermark (within ~1 s per call; Unavailable "re-synchronising" until
//    done), so no decision is taken on stale sequences. One writer per topic: when this
//    log's delivery reports of a partition stop being contiguous, another producer wrote
//    in between, and every later Append fails with Unavailable (detected at the first
//    interleaving, not prevented: there is no fencing without transactions).
//  - While the brokers are known to be down Append probes them (~250 ms) and fails with
//    Unavailable without producing (messages still queued when the last broker goes away
//    fail at once); it recovers by itself when they answer again. A fatal producer error
//    (librdkafka's, e.g. authorization) makes every later Append Unavailable: reopen.
//  - Read never skips: an event that is not exactly the next offset of its partition
//    (retention, compaction), a cursor before the topic's start or beyond its end, is
//    Corruption. Read-only users learn new events through Read and WaitForAppend.
//  - A writer's Read serves the events it delivered itself lately from memory (the
//    latest ~16 MiB), at once, and never an event whose delivery report is not in; it
//    fetches what it did not write (or no longer holds), as read-only logs do.
//  - GiveUpAt(deadline) bounds shutdown: at the deadline every append not yet
//    acknowledged fails (purged: OutcomeUnknown if it may have reached a broker,
//    else Unavailable), later ones fail at once, and one log line says how many appends
//    and events of which partitions were given up. Acknowledged appends are in the
//    topic already (acks=all): nothing acknowledged is lost.
//  - Thread-safe. Destroy only once no call is in flight (call WakeAll first); the
//    destructor waits for outstanding deliveries up to 5 s or the GiveUpAt deadline,
//    whichever comes first, then gives up on the rest as above.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/status.h"
#include "ledger/event_log.h"

namespace authledger {

struct KafkaLogOptions {
  std::string brokers;  // bootstrap servers, "host:port,..."
  std::string topic = "authledger.events";
  std::uint32_t partitions = 0;                      // 0: the topic's count; else it must match
  bool producer = true;                              // false: read-only (replicas, audit, replay)
  std::chrono::milliseconds delivery_timeout{5000};  // an Append fails after this
  std::chrono::milliseconds open_timeout{5000};      // metadata and watermarks at Open
  // Extra librdkafka properties for every client this log creates (the producer and up
  // to 4 reader consumers), applied last. Readers assign partitions themselves and never
  // join or commit to their group.id ("authledger-reader").
  std::vector<std::pair<std::string, std::string>> extra;
};

class KafkaLog final : public EventLog {
 public:
  static Result<std::unique_ptr<KafkaLog>> Open(KafkaLogOptions options);
  ~KafkaLog() override;
  KafkaLog(const KafkaLog&) = delete;
  KafkaLog& operator=(const KafkaLog&) = delete;

  std::uint32_t Partitions() const override;
  Result<Position> Append(AppendBatch batch) override;
  void AppendAsync(AppendBatch batch, AppendDone done) override;
  Status Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) override;
  Cursor Heads() const override;
  std::uint64_t AccountSeq(const std::string& account_id) const override;
  Cursor WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) override;
  void WakeAll() override;
  void GiveUpAt(std::chrono::steady_clock::time_point deadline) override;

  const KafkaLogOptions& options() const;

 private:
  struct Impl;
  explicit KafkaLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace authledger
