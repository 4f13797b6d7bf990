// EventLog: the ledger, the only source of truth. An append-only set of
// partitions (ledger/position.h), each a sequence of events numbered 1, 2, 3, ...;
// an event is the exact bytes of one CloudEvents JSON envelope. An account's
// events all go to partition PartitionFor(account, Partitions()).
//
// Contract (every backend; tests/ledger_contract checks it):
//  - Append() writes one batch of one account's events, in order, to that
//    account's partition. It returns only once the batch is durable (embedded:
//    fsync'd; Kafka: every event's delivery report is in), with the Position of
//    its last event. On failure nothing of the batch is acknowledged.
//  - Optimistic concurrency: a batch names the account sequence its caller last
//    saw; if the log knows a later event of that account, Append fails with
//    Status::Conflict and writes nothing.
//  - A batch may also name the head of its partition it expects (expected_head):
//    it is appended only if its first event lands right after that position
//    (checkpoints use this to sign exactly the state before them).
//  - Nothing is ever rewritten. Read() returns each partition's events in order
//    with contiguous offsets.
//  - A backend that cannot reach its storage fails Append fast with
//    Status::Unavailable and recovers by itself once storage is back. When a
//    failed batch may nevertheless be (partly) stored, the message contains
//    kPossiblyPersisted; otherwise nothing of it was written.
//  - Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"
#include "ledger/position.h"

namespace authledger {

inline constexpr std::string_view kPossiblyPersisted = "possibly persisted";

struct AppendBatch {
  std::string account_id;
  // The account's sequence number of the last event the caller saw (0: none).
  // The batch's events carry expected_seq+1, expected_seq+2, ...
  std::uint64_t expected_seq = 0;
  // If set: Conflict unless the last event of the account's partition is exactly here.
  std::optional<Position> expected_head;
  std::vector<std::string> events;  // serialized envelopes, in order; non-empty
};

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
};

}  // namespace authledger
