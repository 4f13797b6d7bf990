// EventLog: the ledger, the only source of truth. An append-only set of
// partitions (ledger/position.h), each a sequence of events numbered 1, 2, 3, ...;
// an event is the exact bytes of one CloudEvents JSON envelope. An account's
// events all go to partition PartitionFor(account, Partitions()).
//
// Contract (every backend; tests/ledger_contract checks it):
//  - Append() writes one batch of one account's events, in order, to that
//    account's partition. It returns only once the batch is durable (embedded:
//    fsync'd; Kafka: every event's delivery report is in), with the Position of
//    its last event. On failure nothing of the batch is acknowledged. A batch's
//    events occupy consecutive positions: the i-th of n is at last - (n-1-i).
//  - AppendAsync() does the same without holding the calling thread: `done` is
//    called exactly once, on a thread of the log's, when Append would return.
//    Batches handed over from one thread are appended in that order.
//  - Each event of a batch comes with its envelope's attributes (AppendEvent);
//    a backend uses them instead of parsing the bytes. Every event's
//    partitionkey must be the batch's account and its accountseq must be
//    expected_seq+1, +2, ... (CheckBatchAttributes), else Append fails with
//    InvalidArgument and writes nothing. A backend may require more of them
//    (KafkaLog: every attribute, as they become message headers).
//  - Optimistic concurrency: a batch names the account sequence its caller last
//    saw; if the log knows a later event of that account, Append fails with
//    Status::Conflict and writes nothing.
//  - A batch may also name the head of its partition it expects (expected_head):
//    it is appended only if its first event lands right after that position
//    (checkpoints use this to sign exactly the state before them).
//  - Nothing is ever rewritten. Read() returns each partition's events in order
//    with contiguous offsets.
//  - A backend that cannot reach its storage fails Append fast with
//    Status::Unavailable, and then nothing of the batch was written; it recovers
//    by itself once storage is back. When a failed batch may nevertheless be
//    (partly) stored, Append fails with Status::OutcomeUnknown instead: the caller
//    must find out (read the log) before it repeats the batch's effect.
//  - Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/envelope.h"
#include "domain/status.h"
#include "ledger/position.h"

namespace authledger {

// One event of a batch: its envelope's exact bytes, and that envelope's own
// attributes (so no backend has to parse the bytes to learn them).
struct AppendEvent {
  std::string bytes;
  EnvelopeAttributes attributes;
};

// `e` encoded (EncodeEvent), with its attributes (AttributesOf): how commands,
// tools and tests build a batch from Events.
AppendEvent AppendEventOf(const Event& e);
// Envelope bytes with the attributes read back from them (ReadEnvelopeAttributes),
// for tools and tests that only have bytes; InvalidArgument if they lack any.
Result<AppendEvent> AppendEventFromBytes(std::string envelope);

struct AppendBatch {
  std::string account_id;
  // The account's sequence number of the last event the caller saw (0: none).
  // The batch's events carry expected_seq+1, expected_seq+2, ...
  std::uint64_t expected_seq = 0;
  // If set: Conflict unless the last event of the account's partition is exactly here.
  std::optional<Position> expected_head;
  std::vector<AppendEvent> events;  // in order; non-empty
};

// InvalidArgument (naming the event) unless every event's partitionkey is
// batch.account_id and its accountseq is expected_seq+1, +2, ... in order.
Status CheckBatchAttributes(const AppendBatch& batch);

struct StoredEvent {
  Position position = 0;
  std::string bytes;  // exactly the bytes that were appended
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Number of partitions (1 ..= kMaxPartitions); fixed for the log's lifetime.
  virtual std::uint32_t Partitions() const = 0;

  // Appends `batch` durably; returns the position of its last event.
  virtual Result<Position> Append(AppendBatch batch) = 0;

  // Append without waiting: `done` gets what Append would return. It must not
  // block (it runs on the log's own thread) and must not throw. The default
  // runs Append on the calling thread.
  using AppendDone = std::function<void(Result<Position>)>;
  virtual void AppendAsync(AppendBatch batch, AppendDone done) { done(Append(std::move(batch))); }

  // Sets *out (cleared first) to at most `max` events that `after` has not
  // consumed, each partition's in order. Partitions may be interleaved in any
  // way. An empty result means nothing after `after` is available yet.
  virtual Status Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) = 0;

  // The last durable event of every partition, as far as this log knows.
  virtual Cursor Heads() const = 0;

  // The last account sequence this log knows for `account_id` (0 if none):
  // everything it appended or read.
  virtual std::uint64_t AccountSeq(const std::string& account_id) const = 0;

  // Blocks until Heads() goes beyond `after` in some partition, or the timeout
  // passes; returns Heads(). The projector uses this to follow the log.
  virtual Cursor WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) = 0;

  // Wakes every WaitForAppend caller (used on shutdown).
  virtual void WakeAll() = 0;

  // Shutdown: appends not acknowledged by `deadline` fail then (an append that may
  // have reached storage with OutcomeUnknown, the others Unavailable), and every
  // append after it at once; what was given up is logged (how many, which
  // partitions). Nothing acknowledged is affected. The default does nothing: an
  // embedded append waits only for the local disk.
  virtual void GiveUpAt(std::chrono::steady_clock::time_point deadline) { (void)deadline; }
};

}  // namespace authledger
