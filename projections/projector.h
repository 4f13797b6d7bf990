// Projector: reads the ledger from the stored cursor (one offset per ledger
// partition) and applies each event to every read model, writing the models'
// changes and the new cursor in one RocksDB WriteBatch. A crash at any point
// leaves models and cursor agreeing, so after restart each event is applied
// exactly once; the ledger's own notion of consumer offsets (Kafka's committed
// offsets) is never used.
//
// Filling an empty store (rebuild, replay, the first start on a ledger) is a
// bulk load: account and key states are written once, when the catch-up ends
// (or when the account cache overflows), not once per batch, and until the
// first are written nothing is read back from the store (it holds none); audit
// rows go to an AuditBulkLoad and are ingested at the end, with the cursor. Until then the
// store carries a "filling" mark, so a store left half-filled by a crash is
// deleted on open and filled again (ProjectionStore::Open).
//
// Each partition's Merkle tree (projections/merkle_rows.h) grows in the same
// WriteBatch as the rows of the events it covers, filling or not.
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
#include <optional>
#include <thread>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <rocksdb/write_batch.h>

#include "domain/account_state.h"
#include "domain/merkle_tree.h"
#include "ledger/batch_reader.h"
#include "ledger/event_log.h"
#include "projections/audit_bulk_load.h"
#include "projections/store.h"

namespace authledger {

class Projector {
 public:
  struct Options {
    std::size_t max_cached_accounts = 100000;  // account headers kept between batches
    // Keys and clients a fill keeps in memory until it writes them (about 0.5 KB each).
    std::size_t max_cached_entities = 100000;
    std::size_t fill_run_bytes = AuditBulkLoad::kRunBytes;  // audit rows sorted in memory at a time when filling
  };
  Projector(EventLog& log, ProjectionStore& store) : Projector(log, store, Options{}) {}
  Projector(EventLog& log, ProjectionStore& store, Options options);
  ~Projector();

  // Loads the stored cursor. Must be called once before anything else.
  Status Init();
  // Applies everything up to the log's current heads on the calling thread.
  // `progress` (optional) is called after each batch with the cursor through
  // which events have been applied (when filling an empty store, the store
  // shows them once CatchUp returns).
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
  // The same without blocking: `done` is called exactly once with what
  // WaitApplied would return — at once if `p` is applied already (on this
  // thread), else on the projector's thread (after the batch holding `p` is
  // committed, on failure, after the timeout, or with Unavailable at Stop). It
  // must be quick and must not call back into the projector.
  void WhenApplied(Position p, std::chrono::milliseconds timeout, std::function<void(Status)> done);
  Status health() const;

  static constexpr std::size_t kBatchEvents = 1024;          // following the live ledger
  static constexpr std::size_t kCatchUpBatchEvents = 16384;  // catching up / rebuilding: fewer, larger batches

 private:
  struct CachedAccount {
    AccountState state;
    bool dirty = false;                             // changed since last written to the store
    std::vector<const KeyState*> dirty_keys;        // keys (in state.keys) changed since then
    std::vector<const ClientState*> dirty_clients;  // clients (in state.clients) changed since then
  };
  using CacheEntry = std::pair<const std::string, CachedAccount>;  // account id, its aggregate
  // Applies a batch to the cached aggregates, advancing *at, and writes its
  // audit rows; with `commit`, also the changed states and the cursor.
  Status ApplyBatch(DecodedBatch& batch, Cursor* at, bool commit);
  // The account's aggregate: cached, else read from the store, else a new one.
  Result<CacheEntry*> CachedState(const std::string& account_id);
  static void MarkKeyDirty(CachedAccount& account, const KeyState* key);
  // Puts every dirty account's state and changed keys into `wb` and marks them clean.
  void PutDirty(rocksdb::WriteBatch& wb);
  void ClearCache();  // only when nothing in it is dirty
  // After a failed batch: forgets the dirty accounts (the store has their last written state).
  void DropDirty();
  // Writes `wb` and the dirty states with cursor `at`, and publishes `at`.
  Status Commit(rocksdb::WriteBatch& wb, const Cursor& at);
  // Ingests the audit rows and commits: the store is then complete and on disk.
  Status FinishFill(const Cursor& at);
  bool Covers(const Cursor& c) const;
  void Run();
  void Fail(Status s);
  void ExpireWaiters();                  // WhenApplied's whose timeout passed get Unavailable
  std::chrono::milliseconds NextWait();  // until the next waiter's deadline (200 ms at most)

  EventLog& log_;
  ProjectionStore& store_;
  const std::uint32_t partitions_;
  const Options options_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> applied_;  // per partition: offset of the last applied event
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  Status failure_;  // guarded by mu_
  struct Waiter {
    Position position;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(Status)> done;
  };
  std::vector<Waiter> waiters_;  // WhenApplied's, guarded by mu_
  // Calls the waiters that `ready` picks (under mu_) with the status it gives them.
  void ReleaseWaiters(const std::function<std::optional<Status>(const Waiter&)>& ready);
  // Decoded account aggregates, as applied (used only by the applying thread);
  // the node-based maps keep the dirty_, dirty_keys and dirty_clients pointers valid.
  std::unordered_map<std::string, CachedAccount> cache_;
  std::vector<CacheEntry*> dirty_;
  CacheEntry* last_ = nullptr;           // the entry CachedState returned last
  std::size_t cached_entities_ = 0;      // keys and clients held in cache_'s states
  std::unique_ptr<AuditBulkLoad> fill_;  // while filling an empty store
  // False while filling a store that holds no account, key or client yet: cache_ is then
  // the whole truth, and reading the store for what cache_ lacks would find nothing.
  bool store_has_states_ = true;
  std::vector<MerkleFrontier> trees_;  // per partition: the right edge of its Merkle tree, as applied
  rocksdb::WriteBatch batch_;          // ApplyBatch's, kept between batches (applying thread only)
  std::thread thread_;
};

}  // namespace authledger
