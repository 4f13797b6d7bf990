#include "gateway/rate_limiter.h"

#include <algorithm>

namespace authledger {

RateLimiter::RateLimiter(const Clock& clock, std::uint32_t limit, TimeMs window, std::size_t max_keys)
    : clock_(clock),
      limit_(limit),
      window_(window),
      max_keys_per_shard_(std::max<std::size_t>(1, max_keys / kShards)) {}

RateLimiter::Shard& RateLimiter::ShardFor(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

TimeMs RateLimiter::Hit(std::string_view key) {
  TimeMs now = clock_.Now();
  TimeMs start = now - now % window_;
  Shard& s = ShardFor(key);
  std::lock_guard lock(s.mu);
  Window* w;
  if (auto it = s.index.find(key); it != s.index.end()) {
    s.lru.splice(s.lru.begin(), s.lru, it->second);  // now the most recent
    w = &s.lru.front();
  } else {
    if (s.index.size() >= max_keys_per_shard_) {  // forget the least recently counted key
      s.index.erase(s.lru.back().key);
      s.lru.pop_back();
    }
    s.lru.push_front(Window{std::string(key), start, 0});
    w = &s.lru.front();
    s.index.emplace(w->key, s.lru.begin());
  }
  if (w->start != start) {
    w->start = start;
    w->count = 0;
  }
  if (w->count >= limit_) return start + window_ - now;
  ++w->count;
  return 0;
}

}  // namespace authledger
