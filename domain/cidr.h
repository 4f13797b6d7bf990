// IPv4/IPv6 addresses and CIDR blocks, for per-key IP allowlists.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authledger {

// An address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d).
struct IpAddress {
  std::array<unsigned char, 16> bytes{};
  bool v4 = false;
};
std::optional<IpAddress> ParseIp(std::string_view text);

struct Cidr {
  IpAddress base;
  int prefix = 0;  // bits of the 128-bit form
  bool Contains(const IpAddress& ip) const;
  std::string ToString() const;  // canonical text, e.g. "203.0.113.0/24"
};
// "203.0.113.0/24", "2001:db8::/32", or a bare address (a /32 or /128).
// Host bits must be zero ("10.0.0.1/8" is rejected as ambiguous).
std::optional<Cidr> ParseCidr(std::string_view text);

// True if the list is empty (no restriction) or some block contains ip.
bool AllowedByList(const std::vector<Cidr>& list, const IpAddress& ip);

}  // namespace authledger
