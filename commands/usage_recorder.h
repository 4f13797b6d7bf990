// UsageRecorder: turns hot-path key uses into key.used.v1 events without putting
// ledger I/O on the hot path. Note() is a sharded in-memory update; Flush() (on
// a background thread every `interval`, or called directly) appends one
// key.used.v1 per key that was used, at most once per `resolution` per key. A
// key's first use is recorded at the next flush. So "last used" in the read
// models is exact to within `resolution`, and it survives rebuilds because it
// comes from the ledger.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "commands/command_context.h"

namespace authledger {

class UsageRecorder {
 public:
  UsageRecorder(CommandContext& ctx, TimeMs resolution);
  ~UsageRecorder();

  // Thread-safe and cheap: no I/O; allocates only for a key's first use.
  void Note(std::string_view account_id, std::string_view key_id, std::string_view ip, TimeMs at);
  // Appends the due key.used.v1 events; returns how many were appended.
  std::size_t Flush();
  void Start(std::chrono::milliseconds interval);
  void Stop();

 private:
  struct Pending {
    std::string account_id;
    TimeMs last_at = 0;
    std::string ip;
    std::uint64_t uses = 0;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PendingMap = std::unordered_map<std::string, Pending, StringHash, std::equal_to<>>;
  struct Shard {
    std::mutex mu;
    PendingMap pending;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxPendingPerShard = 100000;  // bound: drop counts, never block

  Shard& ShardFor(std::string_view key_id);

  CommandContext& ctx_;
  TimeMs resolution_;
  std::array<Shard, kShards> shards_;
  std::mutex flush_mu_;  // one Flush at a time; guards recorded_
  std::unordered_map<std::string, TimeMs> recorded_;
  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace authledger
