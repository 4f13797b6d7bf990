// Projector: reads the ledger from the stored cursor (one offset per ledger
// partition) and applies each event to every read model, writing the models'
// changes and the new cursor in one RocksDB WriteBatch. A crash at any point
// leaves models and cursor agreeing, so after restart each event is applied
// exactly once; the ledger's own notion of consumer offsets (Kafka's committed
// offsets) is never used.
//
// An exact second copy of an account's last event (same sequence, same bytes:
// a redelivery) changes nothing and is passed over. Any other event that does
// not continue its partition (offset gap) or its account's chain (sequence gap
// or repeat, hash mismatch, undecodable bytes) stops the projector with
// Status::Corruption; it never skips. health() reports that, and waiters
// are released with it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <string>
#include <unordered_map>

#include <rocksdb/write_batch.h>

#include "domain/account_state.h"
#include "ledger/batch_reader.h"
#include "ledger/event_log.h"
#include "projections/store.h"

namespace authledger {

class Projector {
 public:
  Projector(EventLog& log, ProjectionStore& store);
  ~Projector();

  // Loads the stored cursor. Must be called once before anything else.
  Status Init();
  // Applies everything up to the log's current heads on the calling thread.
  // `progress` (optional) is called after each batch with the applied cursor.
  Status CatchUp(const std::function<void(const Cursor&)>& progress = nullptr);
  // Like CatchUp, but applies nothing beyond `limit` in any partition (clamped
  // to the log's heads): the read models then stand exactly as they did once
  // those events were applied (`authledger replay --until`). Same code path.
  Status CatchUpTo(const Cursor& limit, const std::function<void(const Cursor&)>& progress = nullptr);
  // Follows the log on a background thread until Stop().
  void Start();
  void Stop();

  std::uint32_t partitions() const { return partitions_; }
  // What the read models have applied (a consistent copy).
  Cursor applied() const;
  // True once the event at `p` is applied.
  bool HasApplied(Position p) const {
    return PartitionOf(p) < partitions_ && applied_[PartitionOf(p)].load(std::memory_order_acquire) >= OffsetOf(p);
  }
  // The ledger's durable heads (what applied() is catching up to).
  Cursor ledger_heads() const { return log_.Heads(); }
  // Blocks until the event at `p` (or, for a cursor, everything it covers) is
  // applied, the projector fails, or the timeout passes.
  // OK, Unavailable on timeout, or the projector's failure.
  Status WaitApplied(Position p, std::chrono::milliseconds timeout);
  Status WaitApplied(const Cursor& c, std::chrono::milliseconds timeout);
  Status health() const;

  static constexpr std::size_t kBatchEvents = 1024;          // following the live ledger
  static constexpr std::size_t kCatchUpBatchEvents = 16384;  // catching up / rebuilding: fewer, larger batches
  static constexpr std::size_t kMaxCachedAccounts = 100000;  // decoded aggregates kept between batches

 private:
  Status ApplyBatch(DecodedBatch& batch);
  bool Covers(const Cursor& c) const;
  void Run();
  void Fail(Status s);

  EventLog& log_;
  ProjectionStore& store_;
  const std::uint32_t partitions_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> applied_;  // per partition: offset of the last applied event
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  Status failure_;  // guarded by mu_
  // Decoded account aggregates as last written (used only by the applying thread).
  std::unordered_map<std::string, AccountState> cache_;
  rocksdb::WriteBatch batch_;  // ApplyBatch's, kept between batches (applying thread only)
  std::thread thread_;
};

}  // namespace authledger
