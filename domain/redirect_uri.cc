#include "domain/redirect_uri.h"

#include "domain/decimal.h"

#include <arpa/inet.h>

#include <string_view>

namespace authledger {

namespace {

// Never quotes the URI: its user information could hold a password.
Status Bad(const char* why) { return Status::InvalidArgument(std::string("a redirect URI ") + why); }

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Dot-separated labels of letters, digits and inner hyphens, 1..63 characters each.
bool IsHostName(std::string_view host) {
  std::size_t len = 0;
  char prev = '.';
  for (char c : host) {
    if (c == '.') {
      if (len == 0 || prev == '-') return false;
      len = 0;
    } else {
      if (!IsAlnum(c) && !(c == '-' && len > 0)) return false;
      if (++len > 63) return false;
    }
    prev = c;
  }
  return len > 0 && prev != '-';
}

bool IsPort(std::string_view s) {
  if (s.size() > 5) return false;
  std::optional<std::uint64_t> v = ParseDecimal(s, 65535);
  return v && *v >= 1;
}

}  // namespace

Status ValidateRedirectUri(const std::string& uri) {
  if (uri.size() > kMaxRedirectUriLength) return Bad("is longer than 2000 bytes");
  for (unsigned char c : uri)
    if (c <= 0x20 || c >= 0x7F) return Bad("contains a space, a control or a non-ASCII character (percent-encode it)");
  std::string_view v(uri);
  bool https = v.starts_with("https://");
  if (!https && !v.starts_with("http://")) return Bad("must be an absolute https:// URL");
  v.remove_prefix(https ? 8 : 7);
  if (uri.find('#') != std::string::npos) return Bad("must not contain a fragment ('#')");
  if (uri.find('*') != std::string::npos) return Bad("must not contain wildcards");
  std::string_view authority = v.substr(0, v.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) return Bad("must not contain user information ('@')");
  std::string_view host = authority, port;
  if (host.starts_with("[")) {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return Bad("has an unterminated IPv6 host");
    port = host.substr(close + 1);
    host = host.substr(0, close + 1);
    const std::string literal(host.substr(1, host.size() - 2));
    in6_addr addr;
    if (host.size() > 2 && inet_pton(AF_INET6, literal.c_str(), &addr) != 1) return Bad("has an invalid IPv6 host");
  } else {
    std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
  }
  if (host.empty() || host == "[]") return Bad("has no host");
  if (!host.starts_with("[") && !IsHostName(host)) return Bad("has an invalid host");
  if (!port.empty() && (port[0] != ':' || !IsPort(port.substr(1)))) return Bad("has an invalid port");
  if (!https && host != "localhost" && host != "127.0.0.1" && host != "[::1]")
    return Bad("must use https (http:// is allowed only for localhost, 127.0.0.1 and [::1])");
  return Status::Ok();
}

}  // namespace authledger
