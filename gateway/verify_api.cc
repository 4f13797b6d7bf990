// POST /v1/keys/verify — the hot path. {key, scope?, ip?} -> 200 with the
// verdict. Runs inline on the I/O thread: the body is read without a JSON DOM
// (gateway/string_fields.h), one point lookup in the key index read in place,
// no ledger I/O, no lock shared with other I/O threads, and the answer is
// written into the connection's reused buffer: no allocation on the way. The
// request's body (the presented key) is wiped once answered.
#include "domain/cidr.h"
#include "gateway/api.h"
#include "gateway/min_position.h"
#include "gateway/request_wipe.h"
#include "gateway/responses.h"
#include "gateway/string_fields.h"

namespace authledger {

namespace {

// Every string written here is from a closed alphabet (key ids, account ids,
// scopes, codes, fixed sentences) but is escaped anyway: the response must be
// JSON whatever the record holds.
void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      const char esc[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xF]};
      out->append(esc, sizeof esc);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendVerifyBody(const VerifyResult& r, std::string* body) {
  body->append(R"({"valid":)").append(r.valid() ? "true" : "false");
  body->append(R"(,"code":)");
  AppendJsonString(body, VerifyCodeName(r.code));
  body->append(R"(,"detail":)");
  AppendJsonString(body, r.detail);
  if (!r.key_id.empty()) {
    body->append(R"(,"key_id":)");
    AppendJsonString(body, r.key_id);
  }
  if (r.code == VerifyCode::kValid || r.code == VerifyCode::kInsufficientScope || r.code == VerifyCode::kIpNotAllowed) {
    body->append(R"(,"account_id":)");
    AppendJsonString(body, r.record.account_id);
    body->append(R"(,"scopes":[)");
    bool first = true;
    for (std::string_view scope : r.record.scopes) {
      if (!first) body->push_back(',');
      first = false;
      AppendJsonString(body, scope);
    }
    body->append(R"(],"environment":)").append(r.record.live ? R"("live")" : R"("test")");
    body->append(R"(,"expires_at":)");
    if (r.record.ends_at) AppendJsonString(body, FormatRfc3339(r.record.ends_at));
    else body->append("null");
  }
  body->push_back('}');
}

std::optional<HttpResponse> Verify(ApiDeps& d, RequestContext& ctx, std::string& body) {
  struct WipeRequest {  // the presented key goes with the answer, whatever it is (last: views point into it)
    const HttpRequest& req;
    ~WipeRequest() { WipeBody(req); }
  } wipe_request{ctx.req};
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, d.min_position_waits, kVerifyMinPositionWait))
    return std::move(*wait);
  StringFields in;  // wipes any decoded copy of the key when it goes
  if (Status s = in.Read(ctx.req, {{"key", true, 128}, {"scope", false, 64}, {"ip", false, 64}}); !s.ok())
    return ProblemFromStatus(ctx.req, s);
  const std::string_view key = in[0], scope = in[1], ip = in[2];
  if (!ip.empty() && !ParseIp(ip))
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("field 'ip' must be an IPv4 or IPv6 address"));
  // One per thread, reused: it keeps the buffer a record copied out of the memtable needs.
  thread_local VerifyResult r;
  struct Release {  // no record stays pinned between requests
    VerifyResult& r;
    ~Release() { r.Reset(); }
  } release{r};
  d.verifier.Verify(key, scope, ip, &r);
  if (r.valid()) d.usage.Note(r.record.account_id, r.key_id, ip, d.clock.Now());
  AppendVerifyBody(r, &body);
  return std::nullopt;
}

}  // namespace

void AddVerifyApi(Router& r, ApiDeps& d) {
  r.AddJsonBody(http::verb::post, "/v1/keys/verify",
                [&d](RequestContext& c, std::string& body) { return Verify(d, c, body); });
}

}  // namespace authledger
