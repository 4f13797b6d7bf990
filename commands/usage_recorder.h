// UsageRecorder: turns hot-path key uses into key.used.v1 events without putting
// ledger I/O, or a lock shared between threads, on the hot path.
//
// Note() updates a buffer owned by the calling thread (its own mutex, contended
// only while Flush() swaps the buffer out). Flush() (on a background thread
// every `interval`, at Stop, or called directly) merges the buffers and appends,
// per account, one batch with a key.used.v1 for each key used since its last
// recorded use, once that recorded use is at least `resolution` old — so at most
// one event per key per `resolution`. A key's first use is recorded at the next
// flush. So "last used" in the read models is exact to
// within `resolution`, and it survives rebuilds because it comes from the ledger.
// A key found not due waits in memory until it is (its key is not read again at
// every flush), so a flush costs what the newly used keys cost.
//
// Bounded: each thread buffer holds at most kMaxPendingPerThread keys (further
// new keys are dropped until the next flush; counts of known keys still add up).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "commands/command_context.h"
#include "commands/periodic_task.h"

namespace authledger {

class UsageRecorder {
 public:
  UsageRecorder(CommandContext& ctx, TimeMs resolution);
  ~UsageRecorder();

  // After Disable(), Note() does nothing (read replicas record no usage).
  void Disable() { disabled_.store(true, std::memory_order_relaxed); }
  // Thread-safe and cheap: no I/O; allocates only for a key's first use on this thread.
  void Note(std::string_view account_id, std::string_view key_id, std::string_view ip, TimeMs at);
  // Appends the due key.used.v1 events; returns how many were appended.
  std::size_t Flush();
  void Start(std::chrono::milliseconds interval);
  void Stop();

  static constexpr std::size_t kMaxPendingPerThread = 100000;

 private:
  std::atomic<bool> disabled_{false};
  struct Pending {
    std::string account_id;
    TimeMs last_at = 0;
    std::string ip;
    std::uint64_t uses = 0;
    TimeMs due_at = 0;  // not worth reading the key before (its recorded use is too recent)
    void Merge(const Pending& o);
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PendingMap = std::unordered_map<std::string, Pending, StringHash, std::equal_to<>>;
  struct ThreadBuffer {
    std::mutex mu;
    PendingMap pending;  // guarded by mu
    PendingMap spare;    // Flush's (under flush_mu_): the drained map, kept with its buckets
  };

  ThreadBuffer& LocalBuffer();

  CommandContext& ctx_;
  TimeMs resolution_;
  const std::uint64_t instance_;  // tells this recorder's thread buffers from an earlier one's
  std::mutex registry_mu_;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;  // guarded by registry_mu_
  std::mutex flush_mu_;                                 // one Flush at a time; guards carry_
  PendingMap carry_;                                    // uses not yet due, kept for a later flush
  PeriodicTask task_;
};

}  // namespace authledger
