// The REST API: each Add*Api registers one group of endpoints on a Router.
// ApiDeps must outlive the router. See docs/api.md for the contract of each.
#pragma once

#include "commands/command_context.h"
#include "commands/usage_recorder.h"
#include "gateway/auth.h"
#include "gateway/concurrency_quota.h"
#include "gateway/router.h"
#include "ledger/event_log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/verifier.h"

namespace authledger {

struct ApiDeps {
  CommandContext& commands;
  const Queries& queries;
  const Verifier& verifier;
  Authenticator& auth;
  UsageRecorder& usage;
  Projector& projector;
  const Clock& clock;
  std::string version;
  TimeMs audit_retention = 365 * kDayMs;
  std::string checkpoint_public_key;  // hex Ed25519 key that signs checkpoints; "" if this node does not hold it
  bool replica = false;               // read-only node: write calls are redirected to writer_url
  std::string writer_url;             // "" = no writer known: writes get 503
  EventLog& events;                   // the ledger this node follows (GET /v1/events reads it)
  std::chrono::milliseconds event_keepalive{15000};  // idle time before an event stream's keep-alive
  ConcurrencyQuota& event_streams;                   // GET /v1/events streams open, per account
  ConcurrencyQuota& min_position_waits;              // X-Min-Position waits, per client (min_position.h)
};

// POST/GET /v1/keys, GET/DELETE /v1/keys/{id}, POST /v1/keys/{id}/rotate,
// POST /v1/keys/{id}/scopes, DELETE /v1/keys/{id}/scopes/{scope}.
void AddKeysApi(Router& router, ApiDeps& deps);
// POST/GET /v1/oauth/clients, GET/DELETE /v1/oauth/clients/{id},
// POST /v1/oauth/clients/{id}/rotate-secret.
void AddClientsApi(Router& router, ApiDeps& deps);
// POST /v1/keys/verify: the hot path.
void AddVerifyApi(Router& router, ApiDeps& deps);
// GET /v1/audit-log, GET /v1/audit/public-key.
void AddAuditApi(Router& router, ApiDeps& deps);
// GET /healthz, /readyz, /metrics.
void AddHealthApi(Router& router, ApiDeps& deps);
// GET /v1/events: the caller's account's events as Server-Sent Events.
void AddEventsApi(Router& router, ApiDeps& deps);

// What a read replica answers to a write call: 307 Temporary Redirect to the
// same path on deps.writer_url (method and body are kept by clients), or 503
// when no writer is configured; problem+json either way.
HttpResponse RedirectToWriter(const ApiDeps& deps, const RequestContext& ctx);

}  // namespace authledger
