// RateLimiter: a per-key fixed-window counter ("at most `limit` events per
// `window`"), sharded so concurrent callers rarely share a lock. Memory is
// bounded: each shard holds at most `max_keys_per_shard` keys; when full it
// drops ended windows (at most one sweep per window), and keys that still do not
// fit share one overflow counter — so a flood of new keys is limited together
// instead of escaping the limit. Time comes from the injected Clock.
#pragma once

#include <array>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/clock.h"

namespace authledger {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, std::uint32_t limit, TimeMs window, std::size_t max_keys_per_shard = 65536);

  // Counts one event for `key`. Returns 0 if allowed, else the milliseconds
  // until the window ends (for Retry-After).
  TimeMs Hit(std::string_view key);
  // Like Hit but does not count: is `key` currently over its limit?
  TimeMs Blocked(std::string_view key) const;

 private:
  struct Window {
    TimeMs start = 0;
    std::uint32_t count = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Window> windows;
    Window overflow;
    TimeMs last_sweep = -1;
  };
  // The window `key` counts in (creating it if there is room), under s.mu.
  Window* Find(Shard& s, std::string_view key, TimeMs start, bool create) const;
  Shard& ShardFor(std::string_view key) const;

  const Clock& clock_;
  std::uint32_t limit_;
  TimeMs window_;
  std::size_t max_keys_per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace authledger
