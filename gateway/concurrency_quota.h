// ConcurrencyQuota: at most `total` things at once, and at most `per_key` of them
// for any one key (a client address, an account). Used for connections, event
// streams and X-Min-Position waits. Acquire() gives a Slot that holds its place
// until it is destroyed; a refused Slot holds nothing and says which cap refused
// it. Memory: one small entry per key that holds something, none otherwise.
// Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace authledger {

class ConcurrencyQuota {
 public:
  enum class Refusal { kNone, kPerKey, kTotal };

  ConcurrencyQuota(std::size_t total, std::size_t per_key) : total_(total), per_key_(per_key) {}
  ConcurrencyQuota(const ConcurrencyQuota&) = delete;
  ConcurrencyQuota& operator=(const ConcurrencyQuota&) = delete;

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& o) noexcept { *this = std::move(o); }
    Slot& operator=(Slot&& o) noexcept;
    ~Slot() { Release(); }
    explicit operator bool() const { return quota_ != nullptr; }
    Refusal refusal() const { return refusal_; }

   private:
    friend class ConcurrencyQuota;
    void Release();
    ConcurrencyQuota* quota_ = nullptr;
    std::string key_;
    Refusal refusal_ = Refusal::kNone;
  };

  // A place for `key`; an empty `key` counts toward the total only (e.g. a
  // trusted proxy's connection, which carries many clients).
  Slot Acquire(const std::string& key);

  // Changes the total (e.g. once the server knows how many connections the
  // open-file limit holds); places already held stay held.
  void SetTotal(std::size_t total) {
    std::lock_guard lock(mu_);
    total_ = total;
  }
  std::size_t total() const { return total_; }
  std::size_t per_key() const { return per_key_; }

 private:
  void Release(const std::string& key);

  std::size_t total_;
  const std::size_t per_key_;
  std::mutex mu_;
  std::size_t in_use_ = 0;
  std::unordered_map<std::string, std::size_t> per_key_in_use_;
};

}  // namespace authledger
