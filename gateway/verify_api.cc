// POST /v1/keys/verify — the hot path. {key, scope?, ip?} -> 200 with the
// verdict. Runs inline on the I/O thread: one point lookup in the key index,
// no ledger I/O, no lock shared across requests.
#include <nlohmann/json.hpp>

#include "domain/cidr.h"
#include "gateway/api.h"
#include "gateway/json_input.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

namespace {

HttpResponse Verify(ApiDeps& d, RequestContext& ctx) {
  if (auto wait = AwaitMinPosition(ctx, d.projector)) return std::move(*wait);
  auto in = JsonInput::Parse(ctx.req, {"key", "scope", "ip"});
  if (!in.ok()) return ProblemFromStatus(ctx.req, in.status());
  std::string key, scope, ip;
  for (Status s : {in->String("key", &key, true, 128), in->String("scope", &scope, false, 64),
                   in->String("ip", &ip, false, 64)})
    if (!s.ok()) return ProblemFromStatus(ctx.req, s);
  if (!ip.empty() && !ParseIp(ip))
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("field 'ip' must be an IPv4 or IPv6 address"));
  VerifyResult r = d.verifier.Verify(key, scope, ip);
  SecureWipe(key);
  json body = {{"valid", r.valid()}, {"code", std::string(VerifyCodeName(r.code))}, {"detail", r.detail}};
  if (!r.key_id.empty()) body["key_id"] = r.key_id;
  bool known = r.code == VerifyCode::kValid || r.code == VerifyCode::kInsufficientScope ||
               r.code == VerifyCode::kIpNotAllowed;
  if (known) {
    body["account_id"] = r.record.account_id;
    body["scopes"] = r.record.scopes;
    body["environment"] = r.record.live ? "live" : "test";
    body["expires_at"] = r.record.ends_at ? json(FormatRfc3339(r.record.ends_at)) : json(nullptr);
  }
  if (r.valid()) d.usage.Note(r.record.account_id, r.key_id, ip.empty() ? ctx.remote_ip : ip, d.clock.Now());
  return JsonResponse(ctx.req, http::status::ok, body.dump());
}

}  // namespace

void AddVerifyApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::post, "/v1/keys/verify", HandlerKind::kInline, [&d](RequestContext& c) { return Verify(d, c); });
}

std::optional<HttpResponse> AwaitMinPosition(const RequestContext& ctx, Projector& projector) {
  auto h = ctx.req[kMinPositionHeader];
  if (h.empty()) return std::nullopt;
  Position p = 0;
  for (char c : h) {
    if (c < '0' || c > '9' || p > (UINT64_MAX - 9) / 10)
      return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) +
                                                                " must be a ledger position (an integer)"));
    p = p * 10 + static_cast<Position>(c - '0');
  }
  if (projector.applied() >= p) return std::nullopt;
  Status s = projector.WaitApplied(p, std::chrono::milliseconds(2000));
  if (s.ok()) return std::nullopt;
  return ProblemFromStatus(ctx.req, Status::Unavailable("this node has not applied ledger position " +
                                                        std::to_string(p) + " yet; retry"));
}

}  // namespace authledger
