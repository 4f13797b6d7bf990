// AwaitMinPosition: read-your-writes across calls and nodes.
//
// A write's response carries the ledger position of its last event
// (X-Ledger-Position, gateway/responses.h). A later read may send it back as
// X-Min-Position to be answered from read models that have applied at least
// that position — on this node or on a replica that follows the same ledger.
//
// For a request that carries the header, AwaitMinPosition:
//   - answers 400 if the value is not a decimal integer (domain/decimal.h), or
//     names a partition this ledger does not have;
//   - goes ahead at once if the projector has applied the position;
//   - otherwise waits at most `max_wait` for it, but only when waiting can help:
//     the ledger's heads hold the position (a writer knows every position it
//     acknowledged), or, on a replica, it is at most kReplicaLookahead events
//     beyond them (a replica may not have heard of a fresh write yet);
//   - else answers 503 with Retry-After (nothing waited for a position the
//     ledger is not known to hold).
// A wait holds a thread of the command pool, and verify calls need no
// credential: so waits are bounded by `waits` (a ConcurrencyQuota keyed by the
// client's address, SourceKey of RequestContext::remote_ip). Beyond its
// per-client cap the request is answered at once with 429 too-many-waits,
// beyond its total with 503 too-many-waits, both with Retry-After: 1. A request
// whose position is applied already never takes a place.
// A request without the header goes ahead at once.
//
// Waiting blocks the calling thread: requests carrying the header always run on
// the command pool (HttpServer), never on an I/O thread, whatever their route.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "gateway/concurrency_quota.h"
#include "gateway/http_types.h"
#include "projections/projector.h"

namespace authledger {

// Empty optional: go ahead; otherwise the problem response to send.
// `replica`: this node follows a writer's ledger (server.role = replica).
std::optional<HttpResponse> AwaitMinPosition(const RequestContext& ctx, Projector& projector, bool replica,
                                             ConcurrencyQuota& waits, std::chrono::milliseconds max_wait);

inline constexpr std::chrono::milliseconds kBlockingMinPositionWait{2000};  // reads on the command pool
inline constexpr std::chrono::milliseconds kVerifyMinPositionWait{250};     // the verify hot path
inline constexpr std::uint64_t kReplicaLookahead = 100000;

}  // namespace authledger
