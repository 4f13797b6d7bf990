// OAuth client management. Every call needs clients:admin (or admin:*) and acts
// on the caller's own account; another account's client is simply "not found".
// A client secret leaves the server only in the response that creates it.
#include <nlohmann/json.hpp>

#include "commands/handlers.h"
#include "domain/ids.h"
#include "domain/redirect_uri.h"
#include "gateway/admin_handlers.h"
#include "gateway/api.h"
#include "gateway/json_input.h"
#include "gateway/min_position.h"
#include "gateway/resource_json.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

namespace {

// The client as the API shows it (gateway/resource_json.h).
json ClientToJson(const ClientState& c) { return ClientJson(c, JsonForm::kApi); }

Status CheckClientIdParam(const std::string& id) {
  if (!IsClientId(id))
    return Status::NotFound("no such client in this account (client ids are clnt_ and 12 letters or digits)");
  return Status::Ok();
}

// The client with its secret: 201 + Location for a new client, 200 for a new secret.
HttpResponse SecretResponse(RequestContext& ctx, http::status status, Result<ClientWithSecret> issued) {
  if (!issued.ok()) return ProblemFromStatus(ctx.req, issued.status());
  json body = ClientToJson(issued->client);
  if (!issued->client_secret.empty()) body["client_secret"] = issued->client_secret;  // the only time it is shown
  SecureWipe(issued->client_secret);
  auto res = WriteResponse(ctx, status, std::move(body), issued->position, issued->applied);
  if (status == http::status::created) res.set(http::field::location, "/v1/oauth/clients/" + issued->client.id);
  return res;
}

// Answers a command that issued a client secret with SecretResponse.
Done<ClientWithSecret> AnswerSecret(RequestContext& ctx, http::status status, Respond respond) {
  return [&ctx, status, respond = std::move(respond)](Result<ClientWithSecret> issued) {
    respond(SecretResponse(ctx, status, std::move(issued)));
  };
}

void RegisterClientHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  auto in = JsonInput::Parse(
      ctx.req, {"name", "description", "redirect_uris", "scopes", "grant_types", "token_endpoint_auth_method"});
  if (!in.ok()) return respond(ProblemFromStatus(ctx.req, in.status()));
  RegisterClientInput input;
  for (Status s :
       {in->String("name", &input.name, true, 400), in->String("description", &input.description, false, 2000),
        in->StringList("redirect_uris", &input.redirect_uris, false, 10, kMaxRedirectUriLength),
        in->StringList("scopes", &input.scopes, true, 64, 64),
        in->StringList("grant_types", &input.grant_types, false, 3, 32),
        in->String("token_endpoint_auth_method", &input.token_endpoint_auth_method, false, 32)})
    if (!s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  RegisterClient(d.commands, p.account_id, input, CallerOf(p), ActorOf(ctx, p),
                 AnswerSecret(ctx, http::status::created, std::move(respond)));
}

HttpResponse ListClientsHandler(ApiDeps& d, RequestContext& ctx, const Principal& p) {
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, d.min_position_waits, kBlockingMinPositionWait))
    return std::move(*wait);
  std::string status;
  if (ctx.QueryParam("status", &status) && status != "active" && status != "deleted")
    return ProblemFromStatus(ctx.req, Status::InvalidArgument("status must be active or deleted"));
  auto clients = d.queries.ListClients(p.account_id);
  if (!clients.ok()) return ProblemFromStatus(ctx.req, clients.status());
  json items = json::array();
  for (const auto& c : *clients)
    if (status.empty() || c.deleted() == (status == "deleted")) items.push_back(ClientToJson(c));
  return JsonResponse(ctx.req, http::status::ok, json{{"clients", items}}.dump());
}

HttpResponse GetClientHandler(ApiDeps& d, RequestContext& ctx, const Principal& p) {
  if (auto wait = AwaitMinPosition(ctx, d.projector, d.replica, d.min_position_waits, kBlockingMinPositionWait))
    return std::move(*wait);
  if (Status s = CheckClientIdParam(ctx.params[0]); !s.ok()) return ProblemFromStatus(ctx.req, s);
  auto c = d.queries.Client(p.account_id, ctx.params[0]);
  if (!c.ok()) return ProblemFromStatus(ctx.req, c.status());
  return JsonResponse(ctx.req, http::status::ok, ClientToJson(*c).dump());
}

void RotateSecretHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  if (Status s = CheckClientIdParam(ctx.params[0]); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  if (auto in = JsonInput::Parse(ctx.req, {}, /*empty_ok=*/true); !in.ok())
    return respond(ProblemFromStatus(ctx.req, in.status()));
  RotateClientSecret(d.commands, p.account_id, ctx.params[0], CallerOf(p), ActorOf(ctx, p),
                     AnswerSecret(ctx, http::status::ok, std::move(respond)));
}

void DeleteClientHandler(ApiDeps& d, RequestContext& ctx, const Principal& p, Respond respond) {
  if (Status s = CheckClientIdParam(ctx.params[0]); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  std::string reason;
  if (Status s = ReadReason(ctx, &reason); !s.ok()) return respond(ProblemFromStatus(ctx.req, s));
  DeleteClient(d.commands, p.account_id, ctx.params[0], reason, CallerOf(p), ActorOf(ctx, p),
               [&ctx, respond = std::move(respond)](Result<CommandOutcome> out) {
                 if (!out.ok()) return respond(ProblemFromStatus(ctx.req, out.status()));
                 const ClientState* c = out->state.FindClient(ctx.params[0]);
                 if (!c) return respond(ProblemFromStatus(ctx.req, Status::NotFound("no such client in this account")));
                 respond(WriteResponse(ctx, http::status::ok, ClientToJson(*c), out->position, out->applied));
               });
}

}  // namespace

void AddClientsApi(Router& r, ApiDeps& d) {
  using V = http::verb;
  auto read = [&d](AdminHandlerFn fn) { return AdminHandler(d, kClientsAdminScope, fn); };
  auto write = [&d](AdminWriteFn fn) { return AdminWriteHandler(d, kClientsAdminScope, fn); };
  r.AddAsync(V::post, "/v1/oauth/clients", write(RegisterClientHandler));
  r.Add(V::get, "/v1/oauth/clients", HandlerKind::kBlocking, read(ListClientsHandler));
  r.Add(V::get, "/v1/oauth/clients/{id}", HandlerKind::kBlocking, read(GetClientHandler));
  r.AddAsync(V::post, "/v1/oauth/clients/{id}/rotate-secret", write(RotateSecretHandler));
  r.AddAsync(V::delete_, "/v1/oauth/clients/{id}", write(DeleteClientHandler));
}

}  // namespace authledger
