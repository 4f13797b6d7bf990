// KafkaReaders: a KafkaLog's pool of reader consumers (internal to ledger/kafka_*.cc),
// behind EventLog::Read and WaitForAppend. Readers assign the topic's partitions
// themselves (rd_kafka_assign) and never join or commit to their group.id
// ("authledger-reader"); every event read and every watermark a fetch brings back
// is learnt into the log's KafkaTopicState.
//
// Contract:
//  - At most kMaxReaders consumers, created on demand; a call takes the one already
//    positioned at its cursor if it is free, else a new one, else the least recently
//    used (re-positioned: nothing fetched for an earlier position leaks into a later
//    Read). Read waits for a free reader; WaitForAppend never does.
//  - Read never skips: an event that is not exactly the next offset of its partition
//    (retention, compaction), a cursor before the topic's start or beyond its end, is
//    Corruption; an unknown topic or partition NotFound; an authorization failure
//    PermissionDenied; anything else Unavailable. It waits up to ~1 s for a first
//    event; an empty result means nothing after `after` is available yet.
//  - A writing log's Read serves what its own-event tail (ledger/kafka_own_tail.h) holds
//    for every partition it must read, without fetching; when a partition's next
//    events are probably its own batch in flight, it waits for that delivery (200 ms
//    at most) rather than fetch; else it fetches, as a read-only log always does.
//  - WaitForAppend returns once KafkaTopicState::Woken, or at the timeout. Meanwhile a
//    read-only log polls a free reader, so it learns of new events by itself; a
//    writing log waits for its own deliveries to move the heads, and takes only what a
//    free reader has fetched already (others' events; it never blocks in a poll).
//  - A reader positioned a little behind a cursor (at most kMaxSkip events) moves
//    forward by passing over what it fetches before it, without being re-positioned.
//  - Thread-safe. Destroying the pool closes every consumer; no call may be in flight.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "domain/status.h"
#include "ledger/event_log.h"
#include "ledger/kafka_log.h"
#include "ledger/kafka_own_tail.h"
#include "ledger/kafka_topic_state.h"

namespace authledger::kafka {

struct ConsumerDeleter {
  void operator()(rd_kafka_t* rk) const;  // closes, then destroys
};
using ConsumerPtr = std::unique_ptr<rd_kafka_t, ConsumerDeleter>;

// A consumer configured as the pool's readers are (KafkaLog::Open reads the topic's
// metadata through one, then hands it to the pool).
Result<ConsumerPtr> NewReaderConsumer(const KafkaLogOptions& opts);

class KafkaReaders {
 public:
  static constexpr std::size_t kMaxReaders = 4;
  static constexpr std::uint64_t kMaxSkip = 4096;

  // `first` (may be null): a consumer from NewReaderConsumer to adopt. `tail`: the
  // writer's own-event tail (outlives the pool), null for a read-only log.
  KafkaReaders(const KafkaLogOptions& opts, KafkaTopicState& state, ConsumerPtr first, KafkaOwnTail* tail);
  ~KafkaReaders();
  KafkaReaders(const KafkaReaders&) = delete;
  KafkaReaders& operator=(const KafkaReaders&) = delete;

  Status Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out);
  Cursor WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout);

 private:
  struct Reader {
    ConsumerPtr rk;
    bool busy = false;
    bool positioned = false;
    Cursor cursor;   // what callers have been given
    Cursor fetched;  // cursor + buffer: where the consumer stands
    std::deque<StoredEvent> buffer;
    std::uint64_t last_used = 0;
  };
  class Lease;

  // A reader, preferably one already at `at`; nullptr if none is free and !wait.
  Result<Reader*> Acquire(const Cursor& at, bool wait);
  void Release(Reader* r);
  Status Seek(Reader& r, const Cursor& at);
  // True if r is positioned at most kMaxSkip events behind `at` (none ahead).
  bool CanSkipTo(const Reader& r, const Cursor& at) const;
  // Read from the own-event tail: true if *out is the answer.
  bool ReadOwn(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out);
  // A writer's WaitForAppend: takes what a free reader at `after` has fetched already,
  // without waiting, up to the first event after `after`; false if there was none.
  bool TakeFetched(const Cursor& after);
  // Takes one polled message (destroying it) into r's buffer after checking that it is
  // exactly the next event of its partition.
  Status Take(Reader& r, rd_kafka_message_t* raw);
  Status ConsumerError(const Reader& r, const rd_kafka_message_t* m) const;
  // Heads learnt from the watermarks r's fetches brought back (no network).
  void LearnWatermarks(Reader& r);

  const KafkaLogOptions& opts_;
  KafkaTopicState& state_;
  KafkaOwnTail* const tail_;
  const std::uint32_t partitions_;
  std::mutex mu_;
  std::condition_variable cv_;  // a reader was released
  std::vector<std::unique_ptr<Reader>> readers_;
  std::uint64_t use_clock_ = 0;
};

}  // namespace authledger::kafka
