// RateLimiter: a per-key fixed-window counter ("at most `limit` events per
// `window`"), sharded so concurrent callers rarely share a lock. Memory is
// bounded: it tracks at most `max_keys` keys (spread over its shards); a new key
// that finds its shard full evicts the shard's least recently counted key. Every
// key always has a window of its own — there is no shared overflow counter, so a
// flood of new keys (millions of IPv6 /64s) never limits a stranger; it only
// makes the limiter forget the quietest keys early, which can let a forgotten key
// start a fresh window (the cost of the bound, decision 48). Time comes from the
// injected Clock.
#pragma once

#include <array>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/clock.h"

namespace authledger {

class RateLimiter {
 public:
  static constexpr std::size_t kShards = 16;
  // `max_keys`: at least kShards (each shard holds max_keys / kShards).
  RateLimiter(const Clock& clock, std::uint32_t limit, TimeMs window, std::size_t max_keys = 1 << 20);

  // Counts one event for `key`. Returns 0 if allowed, else the milliseconds
  // until the window ends (for Retry-After); a refused event is not counted.
  TimeMs Hit(std::string_view key);

 private:
  struct Window {
    std::string key;
    TimeMs start = 0;
    std::uint32_t count = 0;
  };
  // Most recently counted first.
  using Lru = std::list<Window>;
  struct Shard {
    std::mutex mu;
    Lru lru;
    std::unordered_map<std::string_view, Lru::iterator> index;  // views into lru's keys
  };
  Shard& ShardFor(std::string_view key);

  const Clock& clock_;
  std::uint32_t limit_;
  TimeMs window_;
  std::size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace authledger
