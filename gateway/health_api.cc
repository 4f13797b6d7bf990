// Liveness, readiness and Prometheus metrics. A stranger (no Authorization
// header) learns only whether the node is alive and ready; the details — the
// version, ledger positions, partitions, the projector's error, the metrics — need
// `Authorization: Bearer <key>` holding ops:read (or admin:*). A credential that
// fails is answered as on any authenticated endpoint (401, 403, 429).
//   GET /healthz  200 while the process serves HTTP ({"status":"ok"}; + version).
//   GET /readyz   200 while the projector is running without error ({"status":
//                 "ready"}; + ledger head, applied position, partitions); 503
//                 otherwise (problem not-ready; the reason: projector-stopped).
//   GET /metrics  text exposition format 0.0.4; a stranger gets 401.
#include <nlohmann/json.hpp>

#include "domain/scopes.h"
#include "gateway/api.h"
#include "gateway/request_wipe.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

namespace {

// Whether the caller may see the details: false for a stranger (no Authorization
// header); true for a key holding ops:read; else the answer to a failed credential.
std::variant<bool, HttpResponse> Insider(ApiDeps& d, RequestContext& c) {
  if (c.req.find(http::field::authorization) == c.req.end()) return false;
  auto auth = d.auth.Authenticate(c, kOpsReadScope);
  WipeAuthorization(c.req);
  if (auto* res = std::get_if<HttpResponse>(&auth)) return std::move(*res);
  return true;
}

std::string Metrics(ApiDeps& d) {
  // Summed over partitions: with one partition these are plain positions.
  std::uint64_t head = d.projector.ledger_heads().Total(), applied = d.projector.applied().Total();
  return "# HELP authledger_ledger_head_position Events in the ledger (last durable offsets, summed over partitions).\n"
         "# TYPE authledger_ledger_head_position gauge\n"
         "authledger_ledger_head_position " +
         std::to_string(head) +
         "\n"
         "# HELP authledger_projection_applied_position Events the local read models have applied (summed over "
         "partitions).\n"
         "# TYPE authledger_projection_applied_position gauge\n"
         "authledger_projection_applied_position " +
         std::to_string(applied) +
         "\n"
         "# HELP authledger_projection_lag_events Events in the ledger not yet applied locally.\n"
         "# TYPE authledger_projection_lag_events gauge\n"
         "authledger_projection_lag_events " +
         std::to_string(head > applied ? head - applied : 0) +
         "\n"
         "# HELP authledger_projector_up 1 if the projector is running without error.\n"
         "# TYPE authledger_projector_up gauge\n"
         "authledger_projector_up " +
         std::string(d.projector.health().ok() ? "1" : "0") + "\n";
}

}  // namespace

void AddHealthApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::get, "/healthz", HandlerKind::kInline, [&d](RequestContext& c) {
    auto insider = Insider(d, c);
    if (auto* res = std::get_if<HttpResponse>(&insider)) return std::move(*res);
    json body{{"status", "ok"}};
    if (std::get<bool>(insider)) body["version"] = d.version;
    return JsonResponse(c.req, http::status::ok, body.dump());
  });
  r.Add(http::verb::get, "/readyz", HandlerKind::kInline, [&d](RequestContext& c) {
    auto insider = Insider(d, c);
    if (auto* res = std::get_if<HttpResponse>(&insider)) return std::move(*res);
    const bool details = std::get<bool>(insider);
    Status h = d.projector.health();
    if (!h.ok()) {
      if (!details) return Problem(c.req, http::status::service_unavailable, "not-ready", "Not ready", "not ready");
      return Problem(c.req, http::status::service_unavailable, "projector-stopped", "Not ready",
                     "the projector stopped: " + h.message());
    }
    json body{{"status", "ready"}};
    if (details) {
      body["ledger_head"] = d.projector.ledger_heads().Total();
      body["applied"] = d.projector.applied().Total();
      body["partitions"] = d.projector.partitions();
    }
    return JsonResponse(c.req, http::status::ok, body.dump());
  });
  r.Add(http::verb::get, "/metrics", HandlerKind::kInline, [&d](RequestContext& c) {
    auto insider = Insider(d, c);
    if (auto* res = std::get_if<HttpResponse>(&insider)) return std::move(*res);
    if (!std::get<bool>(insider)) {
      auto res = Problem(c.req, http::status::unauthorized, "unauthenticated", "Unauthenticated",
                         "metrics need 'Authorization: Bearer <api key>' holding ops:read");
      res.set(http::field::www_authenticate, "Bearer realm=\"authledger\"");
      return res;
    }
    HttpResponse res{http::status::ok, c.req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = Metrics(d);
    res.prepare_payload();
    return res;
  });
}

}  // namespace authledger
