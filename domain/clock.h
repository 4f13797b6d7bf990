// Time. Everything that depends on "now" takes a Clock&, so that 60-, 90- and
// 365-day behaviours are tested by advancing a ManualClock, never by sleeping.
//
// Times are milliseconds since the Unix epoch, UTC (TimeMs). On the wire they are
// RFC 3339 with milliseconds and a Z suffix: 2026-11-26T07:04:33.123Z.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authledger {

using TimeMs = std::int64_t;

constexpr TimeMs kSecondMs = 1000;
constexpr TimeMs kMinuteMs = 60 * kSecondMs;
constexpr TimeMs kHourMs = 60 * kMinuteMs;
constexpr TimeMs kDayMs = 24 * kHourMs;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;
};

// The wall clock (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  TimeMs Now() const override;
  static SystemClock& Instance();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start) : now_(start) {}
  TimeMs Now() const override { return now_.load(std::memory_order_acquire); }
  void Advance(TimeMs delta) { now_.fetch_add(delta, std::memory_order_acq_rel); }
  void Set(TimeMs t) { now_.store(t, std::memory_order_release); }

 private:
  std::atomic<TimeMs> now_;
};

// "2026-11-26T07:04:33.123Z"
std::string FormatRfc3339(TimeMs t);
// Accepts RFC 3339 with optional fraction and Z or +hh:mm offset; nullopt if malformed.
std::optional<TimeMs> ParseRfc3339(std::string_view s);

}  // namespace authledger
