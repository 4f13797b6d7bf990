#include "gateway/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "domain/crypto.h"

namespace authledger {

namespace {

// Hops read from the headers at most: more is no real proxy chain.
constexpr std::size_t kMaxHops = 32;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One hop as a header writes it: an address, maybe quoted, maybe with a port
// ("192.0.2.1:80", "[2001:db8::1]:443"); nullopt if it is no address.
std::optional<IpAddress> ParseHop(std::string_view v) {
  v = Trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (!v.empty() && v.front() == '[') {
    const std::size_t close = v.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    return ParseIp(v.substr(1, close - 1));
  }
  if (std::count(v.begin(), v.end(), ':') == 1) v = v.substr(0, v.find(':'));
  return ParseIp(v);
}

// Splits `s` at `sep` outside double quotes, calling f(part) for each part.
template <typename F>
void SplitOutsideQuotes(std::string_view s, char sep, F f) {
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] == '"') quoted = !quoted;
    if (i == s.size() || (s[i] == sep && !quoted)) {
      f(s.substr(start, i - start));
      start = i + 1;
    }
  }
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The hops the forwarding headers name, left (farthest) to right (nearest); a
// hop that is no address is nullopt. At most kMaxHops, the nearest ones.
std::vector<std::optional<IpAddress>> ForwardedHops(const HttpRequest& req) {
  std::vector<std::optional<IpAddress>> hops;
  const bool rfc7239 = req.find(http::field::forwarded) != req.end();
  auto [begin, end] = rfc7239 ? req.equal_range(http::field::forwarded) : req.equal_range("X-Forwarded-For");
  for (auto it = begin; it != end; ++it) {
    std::string_view value(it->value().data(), it->value().size());
    SplitOutsideQuotes(value, ',', [&](std::string_view element) {
      if (!rfc7239) {
        hops.push_back(ParseHop(element));
        return;
      }
      // An element without for= names no hop the walk could use: it counts as unknown.
      std::optional<IpAddress> hop;
      SplitOutsideQuotes(element, ';', [&](std::string_view pair) {
        const std::size_t eq = pair.find('=');
        if (eq != std::string_view::npos && EqualsNoCase(Trim(pair.substr(0, eq)), "for"))
          hop = ParseHop(pair.substr(eq + 1));
      });
      hops.push_back(hop);
    });
  }
  if (hops.size() > kMaxHops) hops.erase(hops.begin(), hops.end() - kMaxHops);
  return hops;
}

}  // namespace

bool TrustedProxies::Contains(const IpAddress& ip) const {
  return std::any_of(blocks_.begin(), blocks_.end(), [&](const Cidr& c) { return c.Contains(ip); });
}

std::string CanonicalIp(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (ip.v4) inet_ntop(AF_INET, &ip.bytes[12], buf, sizeof buf);
  else inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string ClientAddress(const HttpRequest& req, std::string_view peer, const TrustedProxies& trusted) {
  if (trusted.empty()) return std::string(peer);
  const std::optional<IpAddress> peer_ip = ParseIp(peer);
  if (!peer_ip) return std::string(peer);
  IpAddress client = *peer_ip;
  if (!trusted.Contains(client)) return CanonicalIp(client);
  const std::vector<std::optional<IpAddress>> hops = ForwardedHops(req);
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!*it) break;  // no address: the trusted hop that named it stays the client
    client = **it;
    if (!trusted.Contains(client)) break;
  }
  return CanonicalIp(client);
}

std::string SourceKey(std::string_view ip) {
  auto addr = ParseIp(ip);
  if (!addr || addr->v4) return addr ? CanonicalIp(*addr) : std::string(ip);
  return ToHex(addr->bytes.data(), 8) + "/64";
}

}  // namespace authledger
