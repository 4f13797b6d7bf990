#include "gateway/admin_handlers.h"

#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

Handler AdminHandler(ApiDeps& d, std::string_view scope, AdminHandlerFn fn) {
  return [&d, scope, fn](RequestContext& ctx) -> HttpResponse {
    auto auth = d.auth.Authenticate(ctx, scope);
    if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
    return fn(d, ctx, std::get<Principal>(auth));
  };
}

Handler AdminWriteHandler(ApiDeps& d, std::string_view scope, AdminHandlerFn fn) {
  if (d.replica) return [&d](RequestContext& ctx) { return RedirectToWriter(d, ctx); };
  return AdminHandler(d, scope, fn);
}

Actor ActorOf(const RequestContext& ctx, const Principal& p) { return Actor{"key", p.key_id, ctx.remote_ip, ctx.endpoint}; }

Caller CallerOf(const Principal& p) { return Caller{p.scopes}; }

HttpResponse WriteResponse(const RequestContext& ctx, http::status status, json body, Position position) {
  body["position"] = position;
  auto res = JsonResponse(ctx.req, status, body.dump());
  if (position != 0) res.set(kPositionHeader, std::to_string(position));
  return res;
}

json TimeOrNull(const std::optional<TimeMs>& t) { return t ? json(FormatRfc3339(*t)) : json(nullptr); }

}  // namespace authledger
