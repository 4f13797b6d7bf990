// Redirect URIs an OAuth client may register (RFC 6749 §3.1.2, RFC 8252 §7.3,
// OAuth 2.0 Security BCP): absolute, compared later by exact string match, so
// the rules are strict here:
//   - "https://<host>[:port][/path][?query]", or "http://" only for a loopback
//     host (localhost, 127.0.0.1, [::1]) as native apps use;
//   - no fragment, no userinfo ("user@"), no whitespace or control characters,
//     no wildcards ("*"); a host name of dot-separated labels (letters, digits,
//     inner hyphens; 1..63 characters each) or a bracketed IPv6 address; a port,
//     if any, of 1..65535;
//   - at most kMaxRedirectUriLength bytes.
#pragma once

#include <string>

#include "domain/status.h"

namespace authledger {

constexpr std::size_t kMaxRedirectUriLength = 2000;

// OK, or InvalidArgument saying which rule `uri` breaks (never quoting it: its
// user information could hold a password).
Status ValidateRedirectUri(const std::string& uri);

}  // namespace authledger
