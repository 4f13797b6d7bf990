// The address of the client behind a request, and the key its limits count under.
//
// A request's client is the socket peer, unless the peer is one of the
// configured trusted proxies ([http] trusted_proxies, CIDR blocks): then the
// forwarding headers it added name the client. `Forwarded` (RFC 7239, its
// `for=` parameters) is read if present, else `X-Forwarded-For`; every instance
// of the header counts, in order. The hops are walked from the right (the
// nearest) leftwards, starting with the peer; the first hop outside the trusted
// blocks is the client. A hop that is not an address ("unknown", an obfuscated
// identifier, garbage) ends the walk: the client is then the trusted hop that
// named it, so a header no one can check never picks an address. When every hop
// is trusted, the left-most one is the client. From any other peer the headers
// are ignored: anyone can send them.
//
// Addresses come out canonical: IPv4 (also when IPv4-mapped) dotted, IPv6 as
// inet_ntop writes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/cidr.h"
#include "gateway/http_types.h"

namespace authledger {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  explicit TrustedProxies(std::vector<Cidr> blocks) : blocks_(std::move(blocks)) {}
  bool empty() const { return blocks_.empty(); }
  bool Contains(const IpAddress& ip) const;

 private:
  std::vector<Cidr> blocks_;
};

// `peer`: the connection's peer address, canonical (returned as is when no proxy is trusted).
std::string ClientAddress(const HttpRequest& req, std::string_view peer, const TrustedProxies& trusted);

// The canonical text of an address (see the top of this file).
std::string CanonicalIp(const IpAddress& ip);

// The key a client's limits count under: an IPv4 address as is, an IPv6 one by
// its /64 (one client commonly holds a whole /64). Text that is not an address is
// its own key.
std::string SourceKey(std::string_view ip);

}  // namespace authledger
