// RateLimiter: a per-key fixed-window counter ("at most `limit` events per
// `window`"), sharded so concurrent callers rarely share a lock. Memory is
// bounded: each shard holds at most `max_keys_per_shard` keys and drops windows
// that have ended when it is full. Time comes from the injected Clock.
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
  };
  Shard& ShardFor(std::string_view key) const;

  const Clock& clock_;
  std::uint32_t limit_;
  TimeMs window_;
  std::size_t max_keys_per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace authledger
