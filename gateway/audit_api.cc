// GET /v1/audit-log?limit=N&cursor=C — the caller's account's events, newest
// first, with actor, time, source IP and endpoint. `next_cursor` pages on to
// older entries (null at the end).
#include <nlohmann/json.hpp>

#include "gateway/api.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

namespace {

bool ParseUint(const std::string& s, std::uint64_t max, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

HttpResponse AuditLog(ApiDeps& d, RequestContext& ctx) {
  auto auth = d.auth.Authenticate(ctx, kKeysAdminScope);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  const Principal& p = std::get<Principal>(auth);
  if (auto wait = AwaitMinPosition(ctx, d.projector, kBlockingMinPositionWait)) return std::move(*wait);
  std::string text;
  std::uint64_t limit = 50, cursor = 0;
  if (ctx.QueryParam("limit", &text) && !ParseUint(text, 500, &limit))
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("limit must be an integer from 1 to 500"));
  if (limit == 0) return ProblemFromStatus(ctx.req, Status::InvalidArgument("limit must be an integer from 1 to 500"));
  if (ctx.QueryParam("cursor", &text) && (!ParseUint(text, UINT64_MAX / 2, &cursor) || cursor == 0))
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("cursor must be a next_cursor value from a previous page"));
  auto page = d.queries.Audit(p.account_id, cursor, limit);
  if (!page.ok()) return ProblemFromStatus(ctx.req, page.status());
  json body = {{"entries", page->entries},
               {"next_cursor", page->next_before ? json(std::to_string(page->next_before)) : json(nullptr)}};
  return JsonResponse(ctx.req, http::status::ok, body.dump());
}

// The checkpoint signing key's public half: auditors pin it in `audit verify --public-key`.
HttpResponse PublicKey(ApiDeps& d, RequestContext& ctx) {
  json body = {{"algorithm", "Ed25519"}, {"public_key", d.checkpointer.public_key_hex()}};
  return JsonResponse(ctx.req, http::status::ok, body.dump());
}

}  // namespace

void AddAuditApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::get, "/v1/audit/public-key", HandlerKind::kInline,
        [&d](RequestContext& c) { return PublicKey(d, c); });
  r.Add(http::verb::get, "/v1/audit-log", HandlerKind::kBlocking, [&d](RequestContext& c) { return AuditLog(d, c); });
}

}  // namespace authledger
