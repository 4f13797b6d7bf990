#include "gateway/rate_limiter.h"

namespace authledger {

RateLimiter::RateLimiter(const Clock& clock, std::uint32_t limit, TimeMs window, std::size_t max_keys_per_shard)
    : clock_(clock), limit_(limit), window_(window), max_keys_per_shard_(max_keys_per_shard) {}

RateLimiter::Shard& RateLimiter::ShardFor(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

RateLimiter::Window* RateLimiter::Find(Shard& s, std::string_view key, TimeMs start, bool create) const {
  auto it = s.windows.find(std::string(key));
  if (it != s.windows.end()) return &it->second;
  if (s.windows.size() >= max_keys_per_shard_ && s.last_sweep != start) {
    s.last_sweep = start;
    std::erase_if(s.windows, [&](const auto& kv) { return kv.second.start < start; });
  }
  if (s.windows.size() >= max_keys_per_shard_) return &s.overflow;
  if (!create) return nullptr;
  return &s.windows.emplace(std::string(key), Window{start, 0}).first->second;
}

TimeMs RateLimiter::Hit(std::string_view key) {
  TimeMs now = clock_.Now();
  TimeMs start = now - now % window_;
  Shard& s = ShardFor(key);
  std::lock_guard lock(s.mu);
  Window* w = Find(s, key, start, true);
  if (w->start != start) *w = Window{start, 0};
  if (w->count >= limit_) return start + window_ - now;
  ++w->count;
  return 0;
}

TimeMs RateLimiter::Blocked(std::string_view key) const {
  TimeMs now = clock_.Now();
  TimeMs start = now - now % window_;
  Shard& s = ShardFor(key);
  std::lock_guard lock(s.mu);
  Window* w = Find(s, key, start, false);
  if (!w || w->start != start || w->count < limit_) return 0;
  return start + window_ - now;
}

}  // namespace authledger
