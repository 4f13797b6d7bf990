// POST /v1/keys/verify — the hot path. {key, scope?, ip?} -> 200 with the
// verdict. Runs inline on the I/O thread: one point lookup in the key index,
// no ledger I/O, no lock shared with other I/O threads, and the response is
// written straight into its buffer.
#include <fmt/format.h>

#include "domain/cidr.h"
#include "gateway/api.h"
#include "gateway/json_input.h"
#include "gateway/min_position.h"
#include "gateway/responses.h"

namespace authledger {

namespace {

// Every string written here is from a closed alphabet (key ids, account ids,
// scopes, codes, fixed sentences) but is escaped anyway: the response must be
// JSON whatever the record holds.
void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      fmt::format_to(std::back_inserter(*out), "\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string VerifyBody(const VerifyResult& r) {
  std::string body;
  body.reserve(256);
  body.append(R"({"valid":)").append(r.valid() ? "true" : "false");
  body.append(R"(,"code":)");
  AppendJsonString(&body, VerifyCodeName(r.code));
  body.append(R"(,"detail":)");
  AppendJsonString(&body, r.detail);
  if (!r.key_id.empty()) {
    body.append(R"(,"key_id":)");
    AppendJsonString(&body, r.key_id);
  }
  if (r.code == VerifyCode::kValid || r.code == VerifyCode::kInsufficientScope || r.code == VerifyCode::kIpNotAllowed) {
    body.append(R"(,"account_id":)");
    AppendJsonString(&body, r.record.account_id);
    body.append(R"(,"scopes":[)");
    for (std::size_t i = 0; i < r.record.scopes.size(); ++i) {
      if (i) body.push_back(',');
      AppendJsonString(&body, r.record.scopes[i]);
    }
    body.append(R"(],"environment":)").append(r.record.live ? R"("live")" : R"("test")");
    body.append(R"(,"expires_at":)");
    if (r.record.ends_at) AppendJsonString(&body, FormatRfc3339(r.record.ends_at));
    else body.append("null");
  }
  body.push_back('}');
  return body;
}

HttpResponse Verify(ApiDeps& d, RequestContext& ctx) {
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, kVerifyMinPositionWait)) return std::move(*wait);
  auto in = JsonInput::Parse(ctx.req, {"key", "scope", "ip"});
  if (!in.ok()) return ProblemFromStatus(ctx.req, in.status());
  std::string key, scope, ip;
  for (Status s :
       {in->String("key", &key, true, 128), in->String("scope", &scope, false, 64), in->String("ip", &ip, false, 64)})
    if (!s.ok()) return ProblemFromStatus(ctx.req, s);
  if (!ip.empty() && !ParseIp(ip))
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("field 'ip' must be an IPv4 or IPv6 address"));
  VerifyResult r = d.verifier.Verify(key, scope, ip);
  SecureWipe(key);
  if (r.valid()) d.usage.Note(r.record.account_id, r.key_id, ip, d.clock.Now());
  return JsonResponse(ctx.req, http::status::ok, VerifyBody(r));
}

}  // namespace

void AddVerifyApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::post, "/v1/keys/verify", HandlerKind::kInline, [&d](RequestContext& c) { return Verify(d, c); });
}

}  // namespace authledger
