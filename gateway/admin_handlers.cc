#include "gateway/admin_handlers.h"

#include "domain/email.h"
#include "gateway/json_input.h"
#include "gateway/request_wipe.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

Handler AdminHandler(ApiDeps& d, std::string_view scope, AdminHandlerFn fn) {
  return [&d, scope, fn](RequestContext& ctx) -> HttpResponse {
    auto auth = d.auth.Authenticate(ctx, scope);
    WipeAuthorization(ctx.req);  // checked: the presented key is not needed again
    if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
    if (auto email = ActorEmail(ctx); !email.ok()) return ProblemFromStatus(ctx.req, email.status());
    return fn(d, ctx, std::get<Principal>(auth));
  };
}

AsyncHandler AdminWriteHandler(ApiDeps& d, std::string_view scope, AdminWriteFn fn) {
  if (d.replica) return [&d](RequestContext& ctx, Respond respond) { respond(RedirectToWriter(d, ctx)); };
  return [&d, scope, fn](RequestContext& ctx, Respond respond) {
    auto auth = d.auth.Authenticate(ctx, scope);
    WipeAuthorization(ctx.req);
    if (auto* res = std::get_if<HttpResponse>(&auth)) return respond(std::move(*res));
    if (auto email = ActorEmail(ctx); !email.ok()) return respond(ProblemFromStatus(ctx.req, email.status()));
    fn(d, ctx, std::get<Principal>(auth), std::move(respond));
  };
}

Result<std::string> ActorEmail(const RequestContext& ctx) {
  const std::size_t n = ctx.req.count(kActorEmailHeader);
  if (n == 0) return std::string();
  if (n > 1) return Status::InvalidArgument(std::string(kActorEmailHeader) + " must be sent at most once");
  const auto value = ctx.req[kActorEmailHeader];
  auto email = NormalizeEmail(std::string_view(value.data(), value.size()));
  if (!email.ok()) return Status::InvalidArgument(std::string(kActorEmailHeader) + ": " + email.status().message());
  return email;
}

Actor ActorOf(const RequestContext& ctx, const Principal& p) {
  auto email = ActorEmail(ctx);  // AdminHandler has refused a bad one already
  return Actor::Key(p.key_id, ctx.remote_ip, ctx.endpoint, email.ok() ? *email : std::string());
}

Caller CallerOf(const Principal& p) { return Caller{p.scopes}; }

Status ReadReason(const RequestContext& ctx, std::string* reason) {
  ctx.QueryParam("reason", reason);
  if (ctx.req.body().empty()) return Status::Ok();
  auto in = JsonInput::Parse(ctx.req, {"reason"}, /*empty_ok=*/true);
  if (!in.ok()) return in.status();
  return in->String("reason", reason, false, 2000);
}

HttpResponse WriteResponse(const RequestContext& ctx, http::status status, json body, Position position, bool applied) {
  body["position"] = position;
  if (!applied) {
    body["applied"] = false;
    status = http::status::accepted;
  }
  auto res = JsonResponse(ctx.req, status, body.dump());
  if (position != 0) res.set(kPositionHeader, std::to_string(position));
  return res;
}

}  // namespace authledger
