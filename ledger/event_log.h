// EventLog: the ledger, the only source of truth. An append-only sequence of
// events, each the exact bytes of one CloudEvents JSON envelope, numbered by a
// global Position (1, 2, 3, ...; 0 means "before the first event").
//
// Contract (every backend; tests/ledger_contract checks it):
//  - Append() writes one batch atomically: after a crash either every event of
//    the batch is readable or none is. It returns only once the batch is durable
//    (embedded: fsync'd), with the Position of its last event.
//  - Optimistic concurrency: a batch names its account and the account sequence
//    its caller last saw; if another batch for that account was appended since,
//    Append fails with Status::Conflict and writes nothing.
//  - A batch may also name the ledger head it expects (expected_head): it is
//    appended only if its first event lands at expected_head+1 (checkpoints
//    use this to sign exactly the state before them).
//  - Nothing is ever rewritten. Read(from) returns events in Position order.
//  - Thread-safe. Appends from many threads are group-committed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"

namespace authledger {

using Position = std::uint64_t;

struct AppendBatch {
  std::string account_id;
  // The account's sequence number of the last event the caller saw (0: none).
  // The batch's events carry expected_seq+1, expected_seq+2, ...
  std::uint64_t expected_seq = 0;
  std::optional<Position> expected_head;  // if set: Conflict unless the log's head is exactly this
  std::vector<std::string> events;  // serialized envelopes, in order; non-empty
};

struct StoredEvent {
  Position position = 0;
  std::string bytes;  // exactly the bytes that were appended
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends `batch` durably; returns the position of its last event.
  virtual Result<Position> Append(AppendBatch batch) = 0;

  // Appends up to `max` events with position >= from to *out (cleared first).
  // An empty result means there is nothing at or after `from` yet.
  virtual Status Read(Position from, std::size_t max, std::vector<StoredEvent>* out) = 0;

  // Position of the last durable event (0 if the log is empty).
  virtual Position Head() const = 0;

  // The last account sequence appended for `account_id` (0 if none).
  virtual std::uint64_t AccountSeq(const std::string& account_id) const = 0;

  // Blocks until Head() > after or the timeout passes; returns Head().
  // Subscribers (the projector) use this to wait for new events without polling.
  virtual Position WaitForAppend(Position after, std::chrono::milliseconds timeout) = 0;

  // Wakes every WaitForAppend caller (used on shutdown).
  virtual void WakeAll() = 0;
};

}  // namespace authledger
