#include "gateway/auth.h"

#include "gateway/client_address.h"
#include "gateway/responses.h"

namespace authledger {

Authenticator::Authenticator(const Verifier& verifier, RateLimiter& failed_auth, RateLimiter& key_reads,
                             RateLimiter& key_writes, UsageRecorder& usage, const Clock& clock)
    : verifier_(verifier),
      failed_auth_(failed_auth),
      key_reads_(key_reads),
      key_writes_(key_writes),
      usage_(usage),
      clock_(clock) {}

HttpResponse Authenticator::Unauthorized(const RequestContext& ctx, std::string_view detail) {
  // Only a failed attempt meets the block: a source over its limit is told to
  // wait, whatever credential it failed with.
  if (TimeMs wait = failed_auth_.Hit(SourceKey(ctx.remote_ip)); wait > 0) {
    auto res = Problem(ctx.req, http::status::too_many_requests, "too-many-failed-authentications",
                       "Too many failed authentication attempts",
                       "this address failed authentication too often; retry after the time in Retry-After");
    res.set(http::field::retry_after, std::to_string((wait + 999) / 1000));
    return res;
  }
  auto res = Problem(ctx.req, http::status::unauthorized, "unauthenticated", "Unauthenticated", detail);
  res.set(http::field::www_authenticate, "Bearer realm=\"authledger\", error=\"invalid_token\"");
  return res;
}

std::variant<Principal, HttpResponse> Authenticator::Authenticate(const RequestContext& ctx,
                                                                  std::string_view required_scope) {
  // The credential is checked first: failures from the same address (behind one
  // NAT or proxy: other clients) never lock out a valid key (decision 48).
  auto header = ctx.req[http::field::authorization];
  std::string_view h(header.data(), header.size());
  if (h.empty()) {
    // No credential at all is not a failed attempt; it is a missing one.
    auto res = Problem(ctx.req, http::status::unauthorized, "unauthenticated", "Unauthenticated",
                       "send 'Authorization: Bearer <api key>'");
    res.set(http::field::www_authenticate, "Bearer realm=\"authledger\"");
    return res;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size() || !std::equal(kBearer.begin(), kBearer.end(), h.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      }))
    return Unauthorized(ctx, "the Authorization header must use the Bearer scheme");
  std::string_view token = h.substr(kBearer.size());
  VerifyResult r;
  verifier_.Verify(token, required_scope, ctx.remote_ip, &r);
  switch (r.code) {
    case VerifyCode::kValid: break;
    case VerifyCode::kInsufficientScope: {
      auto res = Problem(ctx.req, http::status::forbidden, "insufficient-scope", "Insufficient scope",
                         "this call needs scope '" + std::string(required_scope) + "'");
      res.set(http::field::www_authenticate, "Bearer realm=\"authledger\", error=\"insufficient_scope\", scope=\"" +
                                                 std::string(required_scope) + "\"");
      return res;
    }
    case VerifyCode::kIpNotAllowed:
      return Problem(ctx.req, http::status::forbidden, "ip-not-allowed", "Source IP not allowed",
                     "this key may only be used from its allowlisted CIDR blocks");
    default: return Unauthorized(ctx, r.detail);
  }
  bool read = ctx.req.method() == http::verb::get || ctx.req.method() == http::verb::head;
  if (TimeMs wait = (read ? key_reads_ : key_writes_).Hit(r.key_id); wait > 0) {
    auto res = Problem(ctx.req, http::status::too_many_requests, "rate-limited", "Too many requests",
                       std::string("this key used its ") + (read ? "read" : "write") +
                           " requests for this minute; retry after the time in Retry-After");
    res.set(http::field::retry_after, std::to_string((wait + 999) / 1000));
    return res;
  }
  usage_.Note(r.record.account_id, r.key_id, ctx.remote_ip, clock_.Now());
  Principal p{std::string(r.record.account_id), std::string(r.key_id), {}};
  for (std::string_view scope : r.record.scopes) p.scopes.emplace(scope);
  return p;
}

}  // namespace authledger
