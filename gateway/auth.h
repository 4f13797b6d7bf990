// Authentication and authorisation of REST calls.
//
// `Authorization: Bearer <api key>` is verified through the same Verifier as the
// hot path. Outcomes: 401 (missing, malformed, unknown, revoked or expired
// credential; WWW-Authenticate: Bearer error="invalid_token"), 403 (valid key
// without the required scope, or source IP outside its allowlist), 429 with
// Retry-After instead of 401 once a source address has failed authentication
// `failed_auth_limit` times in the current minute (IPv4 per address, IPv6 per /64,
// since one client holds a whole /64). The credential is checked first: a valid
// key is served whatever its address failed before (other clients behind the same
// NAT or proxy must not lock it out); only failed attempts meet the block. The
// source is RequestContext::remote_ip, the client address (gateway/client_address.h:
// forwarded by a trusted proxy, else the peer). An authenticated key is also held to its plan's
// rate: `reads` GET requests and `writes` other requests per minute, else 429
// with Retry-After (the seeds' Team plan: 600 reads, 120 writes). A successful use is noted for last-used tracking.
#pragma once

#include <string>
#include <variant>

#include "commands/usage_recorder.h"
#include "domain/scopes.h"
#include "gateway/http_types.h"
#include "gateway/rate_limiter.h"
#include "projections/verifier.h"

namespace authledger {

struct Principal {
  std::string account_id;
  std::string key_id;
  ScopeSet scopes;
};

class Authenticator {
 public:
  Authenticator(const Verifier& verifier, RateLimiter& failed_auth, RateLimiter& key_reads, RateLimiter& key_writes,
                UsageRecorder& usage, const Clock& clock);

  // The principal, or the error response to send.
  std::variant<Principal, HttpResponse> Authenticate(const RequestContext& ctx, std::string_view required_scope);

 private:
  HttpResponse Unauthorized(const RequestContext& ctx, std::string_view detail);

  const Verifier& verifier_;
  RateLimiter& failed_auth_;
  RateLimiter& key_reads_;
  RateLimiter& key_writes_;
  UsageRecorder& usage_;
  const Clock& clock_;
};

}  // namespace authledger
