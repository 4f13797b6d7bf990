// ParseDecimal: the one parser of unsigned decimal integers that come from outside
// (query parameters, headers, configuration, Kafka headers, file names).
//
// Accepts exactly: one or more ASCII digits '0'..'9' (leading zeros allowed), and
// nothing else — no sign, no whitespace, no '0x', no fraction — whose value is at
// most `max`. Anything else, overflow included, is nullopt. Never throws.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace authledger {

inline std::optional<std::uint64_t> ParseDecimal(std::string_view text, std::uint64_t max = UINT64_MAX) {
  if (text.empty() || text.front() < '0' || text.front() > '9')
    return std::nullopt;  // from_chars takes no sign, but be explicit
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (ec != std::errc() || end != text.data() + text.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace authledger
