// What the management APIs (keys_api.cc, clients_api.cc) share: a handler that
// authenticates the caller for one scope, who is acting (for the events: the
// key, and the person it names in X-Actor-Email), and write responses that
// carry the ledger position.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/api.h"

namespace authledger {

// An authenticated management call: the caller's key is valid and holds the scope.
using AdminHandlerFn = HttpResponse (*)(ApiDeps&, RequestContext&, const Principal&);
// The same for a call that writes: it answers through `respond`, once, from any
// thread (the command answers once the ledger and the projector are done).
using AdminWriteFn = void (*)(ApiDeps&, RequestContext&, const Principal&, Respond respond);

// Authenticates for `scope` (or admin:*), checks X-Actor-Email (400 if it is
// malformed or repeated), then runs fn.
Handler AdminHandler(ApiDeps& d, std::string_view scope, AdminHandlerFn fn);
// The same for a call that writes (Router::AddAsync): a read replica redirects it
// to the writer.
AsyncHandler AdminWriteHandler(ApiDeps& d, std::string_view scope, AdminWriteFn fn);

// The key that made the call, for whom (X-Actor-Email), from where, through which endpoint.
Actor ActorOf(const RequestContext& ctx, const Principal& p);
// X-Actor-Email normalised (domain/email.h); "" if absent; InvalidArgument if
// malformed or sent more than once.
Result<std::string> ActorEmail(const RequestContext& ctx);
// The scopes the caller may hand out.
Caller CallerOf(const Principal& p);

// The reason given for a revocation or deletion: `?reason=` or a JSON body
// {"reason"} (the body wins); "" if neither. InvalidArgument for a bad body.
Status ReadReason(const RequestContext& ctx, std::string* reason);

// `body` + "position", with the X-Ledger-Position header when position != 0.
// A write that is durable but not yet `applied` by this node's projections (the
// command's projection_wait ran out: reads here, verify included, do not show it
// yet) answers 202 Accepted instead of `status`, with "applied": false added.
HttpResponse WriteResponse(const RequestContext& ctx, http::status status, nlohmann::json body, Position position,
                           bool applied);

}  // namespace authledger
