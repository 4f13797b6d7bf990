// POST /v1/keys/verify — the hot path. {key, scope?, ip?} -> 200 with the
// verdict. Runs inline on the I/O thread: one point lookup in the key index,
// no ledger I/O, no lock shared with other I/O threads, and the response is
// written straight into its buffer.
#include <fmt/format.h>

#include "domain/cidr.h"
#include "gateway/api.h"
#include "gateway/json_input.h"
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
  if (r.code == VerifyCode::kValid || r.code == VerifyCode::kInsufficientScope ||
      r.code == VerifyCode::kIpNotAllowed) {
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
  if (auto wait = AwaitMinPosition(ctx, d, kVerifyMinPositionWait)) return std::move(*wait);
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
  if (r.valid()) d.usage.Note(r.record.account_id, r.key_id, ip, d.clock.Now());
  return JsonResponse(ctx.req, http::status::ok, VerifyBody(r));
}

}  // namespace

void AddVerifyApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::post, "/v1/keys/verify", HandlerKind::kInline, [&d](RequestContext& c) { return Verify(d, c); });
}

std::optional<HttpResponse> AwaitMinPosition(const RequestContext& ctx, const ApiDeps& d,
                                             std::chrono::milliseconds max_wait) {
  Projector& projector = d.projector;
  auto h = ctx.req[kMinPositionHeader];
  if (h.empty()) return std::nullopt;
  Position p = 0;
  for (char c : h) {
    if (c < '0' || c > '9' || p > (UINT64_MAX - 9) / 10)
      return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) +
                                                                " must be a ledger position (an integer)"));
    p = p * 10 + static_cast<Position>(c - '0');
  }
  if (PartitionOf(p) >= projector.partitions())
    return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) + " " + std::string(h) +
                                                              " is not a position of this ledger (partition " +
                                                              std::to_string(PartitionOf(p)) + " does not exist)"));
  if (projector.HasApplied(p)) return std::nullopt;
  // Waiting only helps for positions the ledger is known to hold.
  // A writer knows every position it acknowledged; a replica may not have
  // heard of a fresh one yet, so it also waits for positions a little ahead.
  const Cursor heads = projector.ledger_heads();
  const bool plausible = heads.Covers(p) || (d.replica && OffsetOf(p) <= heads.offset(PartitionOf(p)) + kReplicaLookahead);
  if (max_wait.count() > 0 && plausible && projector.WaitApplied(p, max_wait).ok())
    return std::nullopt;
  return ProblemFromStatus(ctx.req, Status::Unavailable("this node has not applied ledger position " +
                                                        PositionToString(p) + " yet; retry"));
}

}  // namespace authledger
