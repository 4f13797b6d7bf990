#include "domain/redirect_uri.h"

#include <string_view>

namespace authledger {

namespace {

Status Bad(const std::string& uri, const char* why) {
  return Status::InvalidArgument("redirect_uris: '" + uri.substr(0, 64) + (uri.size() > 64 ? "...'" : "'") + " " + why);
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

}  // namespace

Status ValidateRedirectUri(const std::string& uri) {
  if (uri.size() > kMaxRedirectUriLength) return Bad(uri, "is longer than 2000 bytes");
  for (unsigned char c : uri)
    if (c <= 0x20 || c >= 0x7F) return Bad(uri, "contains a space, a control or a non-ASCII character (percent-encode it)");
  std::string_view v(uri);
  bool https = v.starts_with("https://");
  if (!https && !v.starts_with("http://")) return Bad(uri, "must be an absolute https:// URL");
  v.remove_prefix(https ? 8 : 7);
  if (uri.find('#') != std::string::npos) return Bad(uri, "must not contain a fragment ('#')");
  if (uri.find('*') != std::string::npos) return Bad(uri, "must not contain wildcards");
  std::string_view authority = v.substr(0, v.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) return Bad(uri, "must not contain user information ('@')");
  std::string_view host = authority, port;
  if (host.starts_with("[")) {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return Bad(uri, "has an unterminated IPv6 host");
    port = host.substr(close + 1);
    host = host.substr(0, close + 1);
    for (char c : host.substr(1, host.size() - 2))
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
        return Bad(uri, "has an invalid IPv6 host");
  } else {
    std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      port = host.substr(colon);
      host = host.substr(0, colon);
    }
    for (char c : host)
      if (!IsHostChar(c)) return Bad(uri, "has an invalid host");
  }
  if (host.empty() || host == "[]") return Bad(uri, "has no host");
  if (!port.empty() && (port[0] != ':' || !IsPort(port.substr(1)))) return Bad(uri, "has an invalid port");
  if (!https && host != "localhost" && host != "127.0.0.1" && host != "[::1]")
    return Bad(uri, "must use https (http:// is allowed only for localhost, 127.0.0.1 and [::1])");
  return Status::Ok();
}

}  // namespace authledger
