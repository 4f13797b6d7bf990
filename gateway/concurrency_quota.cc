#include "gateway/concurrency_quota.h"

#include <utility>

namespace authledger {

ConcurrencyQuota::Slot& ConcurrencyQuota::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    Release();
    quota_ = std::exchange(o.quota_, nullptr);
    key_ = std::move(o.key_);
    refusal_ = o.refusal_;
  }
  return *this;
}

void ConcurrencyQuota::Slot::Release() {
  if (quota_) quota_->Release(key_);
  quota_ = nullptr;
}

ConcurrencyQuota::Slot ConcurrencyQuota::Acquire(const std::string& key) {
  Slot slot;
  std::lock_guard lock(mu_);
  if (in_use_ >= total_) {
    slot.refusal_ = Refusal::kTotal;
    return slot;
  }
  if (!key.empty()) {
    auto [it, added] = per_key_in_use_.try_emplace(key, 0);
    if (it->second >= per_key_) {
      if (it->second == 0) per_key_in_use_.erase(it);
      slot.refusal_ = Refusal::kPerKey;
      return slot;
    }
    ++it->second;
  }
  ++in_use_;
  slot.quota_ = this;
  slot.key_ = key;
  return slot;
}

void ConcurrencyQuota::Release(const std::string& key) {
  std::lock_guard lock(mu_);
  --in_use_;
  if (key.empty()) return;
  auto it = per_key_in_use_.find(key);
  if (it != per_key_in_use_.end() && --it->second == 0) per_key_in_use_.erase(it);
}

}  // namespace authledger
