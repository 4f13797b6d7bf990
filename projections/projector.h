// Projector: reads the ledger from the stored position and applies each event to
// every read model, writing the models' changes and the new position in one
// RocksDB WriteBatch. A crash at any point leaves models and position agreeing,
// so after restart each event is applied exactly once.
//
// An event that does not continue its account's chain (sequence gap, hash
// mismatch, undecodable bytes) stops the projector with Status::Corruption; it
// never skips. health() reports that, and waiters are released with it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <string>
#include <unordered_map>

#include "domain/account_state.h"
#include "ledger/event_log.h"
#include "projections/store.h"

namespace authledger {

class Projector {
 public:
  Projector(EventLog& log, ProjectionStore& store);
  ~Projector();

  // Loads the stored position. Must be called once before anything else.
  Status Init();
  // Applies everything up to the log's current head on the calling thread.
  // `progress` (optional) is called after each batch with the applied position.
  Status CatchUp(const std::function<void(Position)>& progress = nullptr);
  // Like CatchUp, but applies nothing after position `limit` (clamped to the
  // log's head): the read models then stand exactly as they did once event
  // `limit` was applied (`authledger replay --until`). Same code path as CatchUp.
  Status CatchUpTo(Position limit, const std::function<void(Position)>& progress = nullptr);
  // Follows the log on a background thread until Stop().
  void Start();
  void Stop();

  Position applied() const { return applied_.load(std::memory_order_acquire); }
  // The ledger's durable head (what applied() is catching up to).
  Position ledger_head() const { return log_.Head(); }
  // Blocks until applied() >= p, the projector fails, or the timeout passes.
  // OK, Unavailable on timeout, or the projector's failure.
  Status WaitApplied(Position p, std::chrono::milliseconds timeout);
  Status health() const;

  static constexpr std::size_t kBatchEvents = 1024;          // following the live ledger
  static constexpr std::size_t kCatchUpBatchEvents = 16384;  // catching up / rebuilding: fewer, larger batches
  static constexpr std::size_t kMaxCachedAccounts = 100000;  // decoded aggregates kept between batches

 private:
  Status ApplyBatch(const std::vector<StoredEvent>& events);
  Status Step(std::size_t max = kBatchEvents);  // reads and applies one batch (<= max events) if there is one
  void Run();
  void Fail(Status s);

  EventLog& log_;
  ProjectionStore& store_;
  std::atomic<Position> applied_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable applied_cv_;
  Status failure_;  // guarded by mu_
  // Decoded account aggregates as last written (used only by the applying thread).
  std::unordered_map<std::string, AccountState> cache_;
  std::thread thread_;
};

}  // namespace authledger
