// Liveness, readiness and Prometheus metrics.
//   GET /healthz  200 while the process serves HTTP.
//   GET /readyz   200 while the projector is running without error (with the
//                 ledger head and applied position); 503 with the reason otherwise.
//   GET /metrics  text exposition format 0.0.4.
#include <nlohmann/json.hpp>

#include "gateway/api.h"
#include "gateway/responses.h"

namespace authledger {

using json = nlohmann::json;

void AddHealthApi(Router& r, ApiDeps& d) {
  r.Add(http::verb::get, "/healthz", HandlerKind::kInline, [&d](RequestContext& c) {
    return JsonResponse(c.req, http::status::ok, json{{"status", "ok"}, {"version", d.version}}.dump());
  });
  r.Add(http::verb::get, "/readyz", HandlerKind::kInline, [&d](RequestContext& c) {
    Status h = d.projector.health();
    if (!h.ok())
      return Problem(c.req, http::status::service_unavailable, "projector-stopped", "Not ready",
                     "the projector stopped: " + h.message());
    return JsonResponse(c.req, http::status::ok,
                        json{{"status", "ready"},
                             {"ledger_head", d.projector.ledger_heads().Total()},
                             {"applied", d.projector.applied().Total()},
                             {"partitions", d.projector.partitions()}}
                            .dump());
  });
  r.Add(http::verb::get, "/metrics", HandlerKind::kInline, [&d](RequestContext& c) {
    // Summed over partitions: with one partition these are plain positions.
    std::uint64_t head = d.projector.ledger_heads().Total(), applied = d.projector.applied().Total();
    std::string body =
        "# HELP authledger_ledger_head_position Events in the ledger (last durable offsets, summed over partitions).\n"
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
    HttpResponse res{http::status::ok, c.req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  });
}

}  // namespace authledger
