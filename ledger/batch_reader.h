// BatchReader: reads a ledger from a cursor up to a limit, in batches, one batch
// ahead on a second thread, so that a caller applying or verifying batch N
// overlaps the reading (and, if asked, decoding and hashing) of batch N+1. For
// everything that reads history in bulk: catch-up and rebuild, replay, audit
// verify and export.
//
// The limit is clamped to the log's heads when the reader is made; partitions
// already at their limit are read as if consumed to their head, so the log
// returns only wanted events, and events beyond the limit are dropped. A remote
// log may answer empty while it fetches; more than kMaxIdleReads empty answers
// in a row below the limit end the reader with Unavailable.
#pragma once

#include <cstddef>
#include <future>
#include <string>
#include <vector>

#include "domain/envelope.h"
#include "ledger/event_log.h"

namespace authledger {

struct DecodedBatch {
  std::vector<StoredEvent> events;
  // With decoding on: decoded[i] = DecodeEvent(events[i].bytes), hashes[i] = EventHash(events[i].bytes).
  std::vector<Result<Event>> decoded;
  std::vector<std::string> hashes;
  // Reads at most `max` events after `from` into this batch (replacing it), keeping
  // only those `limit` covers (if given), decoded and hashed if `decode`.
  Status Read(EventLog& log, const Cursor& from, std::size_t max, const Cursor* limit, bool decode);
};

class BatchReader {
 public:
  static constexpr int kMaxIdleReads = 30;

  BatchReader(EventLog& log, const Cursor& from, const Cursor& limit, std::size_t batch_events, bool decode);
  ~BatchReader();  // waits for a read in flight
  BatchReader(const BatchReader&) = delete;
  BatchReader& operator=(const BatchReader&) = delete;

  // True once every event up to the limit has been returned.
  bool done() const { return at_.CoversAll(target_); }
  // The next batch (never empty), replacing *out, whose buffers are reused for a
  // later batch. Any error ends the reader: later calls return it again.
  Status Next(DecodedBatch* out);

 private:
  void Prefetch(DecodedBatch reuse = {});  // starts reading the batch after at_ into `reuse`

  EventLog& log_;
  const Cursor heads_;
  Cursor target_;
  Cursor at_;  // through where batches have been returned (or are being read)
  const std::size_t batch_events_;
  const bool decode_;
  Status failed_;
  std::future<std::pair<Status, DecodedBatch>> next_;
  DecodedBatch spare_;  // handed to the read in flight
};

}  // namespace authledger
