// Key management endpoints. Every call needs keys:admin (or admin:*) and acts on
// the caller's own account; another account's key is simply "not found".
#include <nlohmann/json.hpp>

#include "commands/handlers.h"
#include "domain/api_key.h"
#include "domain/crypto.h"
#include "gateway/admin_handlers.h"
#include "gateway/api.h"
#include "gateway/json_input.h"
#include "gateway/min_position.h"
#include "gateway/resource_json.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

namespace {

// The key as the API shows it, its status as of `now` (gateway/resource_json.h).
json KeyToJson(const KeyState& k, const std::string& brand, TimeMs now) {
  return KeyJson(k, k.StatusAt(now), JsonForm::kApi, brand);
}

Status CheckKeyIdParam(const std::string& id) {
  if (!IsKeyId(id)) return Status::NotFound("no such key in this account (key ids are 12 letters and digits)");
  return Status::Ok();
}

HttpResponse IssuedResponse(ApiDeps& d, const RequestContext& ctx, Result<IssuedKey>& issued) {
  if (!issued.ok()) return ProblemFromStatus(ctx.req, issued.status());
  json body = KeyToJson(issued->key, d.commands.config().brand, d.clock.Now());
  body["key"] = issued->full_key;  // the only time the full key leaves the server
  SecureWipe(issued->full_key);
  auto res = WriteResponse(ctx, http::status::created, std::move(body), issued->position, issued->applied);
  res.set(http::field::location, "/v1/keys/" + issued->key.id);
  return res;
}

// Answers a command that issued a key with IssuedResponse.
Done<IssuedKey> AnswerIssued(ApiDeps& d, const RequestContext& ctx, Respond respond) {
  return
      [&d, &ctx, respond = std::move(respond)](Result<IssuedKey> issued) { respond(IssuedResponse(d, ctx, issued)); };
}

void CreateKeyHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  auto in = JsonInput::Parse(ctx.req, {"name", "scopes", "environment", "expires_at", "allowed_cidrs"});
  if (!in.ok()) return respond(ProblemFromStatus(ctx.req, in.status()));
  CreateKeyInput input;
  std::string expires;
  for (Status s :
       {in->String("name", &input.name, true, 400), in->StringList("scopes", &input.scopes, true, 64, 64),
        in->String("environment", &input.environment, false, 8), in->String("expires_at", &expires, false, 40),
        in->StringList("allowed_cidrs", &input.allowed_cidrs, false, 32, 64)})
    if (!s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  if (!expires.empty()) {
    auto t = ParseRfc3339(expires);
    if (!t) return respond(ProblemFromStatus(ctx.req, Status::InvalidArgument("expires_at must be an RFC 3339 time")));
    input.expires_at = *t;
  }
  CreateKey(d.commands, p.account_id, input, CallerOf(p), ActorOf(ctx, p), AnswerIssued(d, ctx, std::move(respond)));
}

HttpResponse ListKeysHandler(ApiDeps& d, RequestContext& ctx, const Principal& p) {
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, d.min_position_waits, kBlockingMinPositionWait))
    return std::move(*wait);
  auto keys = d.queries.ListKeys(p.account_id);
  if (!keys.ok()) return ProblemFromStatus(ctx.req, keys.status());
  std::string status_filter;
  if (ctx.QueryParam("status", &status_filter) && status_filter != "active" && status_filter != "rotating" &&
      status_filter != "expired" && status_filter != "revoked")
    return ProblemFromStatus(ctx.req,
                             Status::InvalidArgument("status must be one of active, rotating, expired, revoked"));
  TimeMs now = d.clock.Now();
  json items = json::array();
  for (const auto& k : *keys) {
    if (!status_filter.empty() && KeyStatusName(k.StatusAt(now)) != status_filter) continue;
    items.push_back(KeyToJson(k, d.commands.config().brand, now));
  }
  return JsonResponse(ctx.req, http::status::ok, json{{"keys", items}}.dump());
}

HttpResponse GetKeyHandler(ApiDeps& d, RequestContext& ctx, const Principal& p) {
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, d.min_position_waits, kBlockingMinPositionWait))
    return std::move(*wait);
  if (Status s = CheckKeyIdParam(ctx.params[0]); !s.ok()) return ProblemFromStatus(ctx.req, s);
  auto k = d.queries.Key(p.account_id, ctx.params[0]);
  if (!k.ok()) return ProblemFromStatus(ctx.req, k.status());
  return JsonResponse(ctx.req, http::status::ok, KeyToJson(*k, d.commands.config().brand, d.clock.Now()).dump());
}

// Answers a command on the key in the path with the key as it left it.
Done<CommandOutcome> AnswerKey(ApiDeps& d, const RequestContext& ctx, Respond respond) {
  return [&d, &ctx, respond = std::move(respond)](Result<CommandOutcome> out) {
    if (!out.ok()) return respond(ProblemFromStatus(ctx.req, out.status()));
    const KeyState* k = out->state.FindKey(ctx.params[0]);
    if (!k) return respond(ProblemFromStatus(ctx.req, Status::NotFound("no such key in this account")));
    respond(WriteResponse(ctx, http::status::ok, KeyToJson(*k, d.commands.config().brand, d.clock.Now()), out->position,
                          out->applied));
  };
}

void GrantScopesHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  if (Status s = CheckKeyIdParam(ctx.params[0]); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  auto in = JsonInput::Parse(ctx.req, {"scopes"});
  if (!in.ok()) return respond(ProblemFromStatus(ctx.req, in.status()));
  std::vector<std::string> scopes;
  if (Status s = in->StringList("scopes", &scopes, true, 64, 64); !s.ok())
    return respond(ProblemFromStatus(ctx.req, s));
  GrantScopes(d.commands, p.account_id, ctx.params[0], scopes, CallerOf(p), ActorOf(ctx, p),
              AnswerKey(d, ctx, std::move(respond)));
}

void RevokeScopeHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  if (Status s = CheckKeyIdParam(ctx.params[0]); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  RevokeScope(d.commands, p.account_id, ctx.params[0], ctx.params[1], CallerOf(p), ActorOf(ctx, p),
              AnswerKey(d, ctx, std::move(respond)));
}

void RotateKeyHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  if (Status s = CheckKeyIdParam(ctx.params[0]); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  auto in = JsonInput::Parse(ctx.req, {"grace_period_seconds"}, /*empty_ok=*/true);
  if (!in.ok()) return respond(ProblemFromStatus(ctx.req, in.status()));
  std::optional<std::int64_t> grace_s;
  if (Status s = in->Integer("grace_period_seconds", &grace_s, 0, 10LL * 365 * 86400); !s.ok())
    return respond(ProblemFromStatus(ctx.req, s));
  std::optional<TimeMs> grace;
  if (grace_s) grace = *grace_s * kSecondMs;
  RotateKey(d.commands, p.account_id, ctx.params[0], grace, CallerOf(p), ActorOf(ctx, p),
            AnswerIssued(d, ctx, std::move(respond)));
}

void RevokeKeyHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  if (Status s = CheckKeyIdParam(ctx.params[0]); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  std::string reason;
  if (Status s = ReadReason(ctx, &reason); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  RevokeKey(d.commands, p.account_id, ctx.params[0], reason, CallerOf(p), ActorOf(ctx, p),
            AnswerKey(d, ctx, std::move(respond)));
}

}  // namespace

void AddKeysApi(Router& r, ApiDeps& d) {
  using V = http::verb;
  auto bind = [&d](AdminHandlerFn fn) { return AdminHandler(d, kKeysAdminScope, fn); };
  auto write = [&d](AdminWriteFn fn) { return AdminWriteHandler(d, kKeysAdminScope, fn); };
  r.AddAsync(V::post, "/v1/keys", write(CreateKeyHandler));
  r.Add(V::get, "/v1/keys", HandlerKind::kBlocking, bind(ListKeysHandler));
  r.Add(V::get, "/v1/keys/{id}", HandlerKind::kBlocking, bind(GetKeyHandler));
  r.AddAsync(V::delete_, "/v1/keys/{id}", write(RevokeKeyHandler));
  r.AddAsync(V::post, "/v1/keys/{id}/rotate", write(RotateKeyHandler));
  r.AddAsync(V::post, "/v1/keys/{id}/scopes", write(GrantScopesHandler));
  r.AddAsync(V::delete_, "/v1/keys/{id}/scopes/{scope}", write(RevokeScopeHandler));
}

}  // namespace authledger
