#include "domain/cidr.h"

#include "domain/decimal.h"

#include <arpa/inet.h>

#include <cstring>

namespace authledger {

std::optional<IpAddress> ParseIp(std::string_view text) {
  // inet_pton reads up to the first NUL: "10.0.0.1\0junk" must not pass as 10.0.0.1 (found by fuzzing).
  if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  unsigned char v4[4];
  if (inet_pton(AF_INET, s.c_str(), v4) == 1) {
    ip.bytes[10] = 0xFF;
    ip.bytes[11] = 0xFF;
    std::memcpy(&ip.bytes[12], v4, 4);
    ip.v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    ip.v4 = std::memcmp(ip.bytes.data(), kMapped, 12) == 0;
    return ip;
  }
  return std::nullopt;
}

namespace {
bool BitsMatch(const IpAddress& a, const IpAddress& b, int prefix) {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), static_cast<std::size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a.bytes[static_cast<std::size_t>(full)] & mask) == (b.bytes[static_cast<std::size_t>(full)] & mask);
}
}  // namespace

bool Cidr::Contains(const IpAddress& ip) const { return BitsMatch(base, ip, prefix); }

std::string Cidr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (base.v4) {
    inet_ntop(AF_INET, &base.bytes[12], buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(prefix - 96);
  }
  inet_ntop(AF_INET6, base.bytes.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

std::optional<Cidr> ParseCidr(std::string_view text) {
  auto slash = text.find('/');
  auto ip = ParseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  // The prefix is in the notation the address is written in: "::ffff:192.0.2.0/120"
  // is an IPv6 prefix even though the address is IPv4-mapped.
  bool written_v4 = ip->v4 && text.substr(0, slash).find(':') == std::string_view::npos;
  int max = written_v4 ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    if (p.size() > 3) return std::nullopt;
    std::optional<std::uint64_t> v = ParseDecimal(p, static_cast<std::uint64_t>(max));
    if (!v) return std::nullopt;
    prefix = static_cast<int>(*v);
  }
  Cidr c{*ip, written_v4 ? prefix + 96 : prefix};
  c.base.v4 = ip->v4 && c.prefix >= 96;  // printed as IPv4 only if the block lies inside ::ffff:0:0/96
  // Reject host bits set below the prefix.
  IpAddress masked = *ip;
  for (int bit = c.prefix; bit < 128; ++bit)
    masked.bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<unsigned char>(~(0x80 >> (bit % 8)));
  if (masked.bytes != ip->bytes) return std::nullopt;
  return c;
}

bool AllowedByList(const std::vector<Cidr>& list, const IpAddress& ip) {
  if (list.empty()) return true;
  for (const auto& c : list)
    if (c.Contains(ip)) return true;
  return false;
}

}  // namespace authledger
