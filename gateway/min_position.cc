#include "gateway/min_position.h"

#include <string>

#include "domain/decimal.h"
#include "gateway/client_address.h"
#include "gateway/responses.h"

namespace authledger {

std::optional<HttpResponse> AwaitMinPosition(const RequestContext& ctx, Projector& projector, bool replica,
                                             ConcurrencyQuota& waits, std::chrono::milliseconds max_wait) {
  auto h = ctx.req[kMinPositionHeader];
  if (h.empty()) return std::nullopt;
  const std::optional<Position> parsed = ParseDecimal(std::string_view(h.data(), h.size()));
  if (!parsed)
    return ProblemFromStatus(
        ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) + " must be a ledger position (an integer)"));
  const Position p = *parsed;
  if (PartitionOf(p) >= projector.partitions())
    return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) + " " + std::string(h) +
                                                              " is not a position of this ledger (partition " +
                                                              std::to_string(PartitionOf(p)) + " does not exist)"));
  if (projector.HasApplied(p)) return std::nullopt;
  // Waiting only helps for positions the ledger is known to hold.
  // A writer knows every position it acknowledged; a replica may not have
  // heard of a fresh one yet, so it also waits for positions a little ahead.
  const Cursor heads = projector.ledger_heads();
  const bool plausible =
      heads.Covers(p) || (replica && OffsetOf(p) <= heads.offset(PartitionOf(p)) + kReplicaLookahead);
  if (max_wait.count() > 0 && plausible) {
    ConcurrencyQuota::Slot slot = waits.Acquire(SourceKey(ctx.remote_ip));
    if (!slot) {
      const bool mine = slot.refusal() == ConcurrencyQuota::Refusal::kPerKey;
      auto res = Problem(ctx.req, mine ? http::status::too_many_requests : http::status::service_unavailable,
                         "too-many-waits", "Too many requests waiting for a ledger position",
                         mine ? "this address already has " + std::to_string(waits.per_key()) +
                                    " requests waiting for a ledger position on this node; retry"
                              : "this node already has " + std::to_string(waits.total()) +
                                    " requests waiting for a ledger position; retry");
      res.set(http::field::retry_after, "1");
      return res;
    }
    if (projector.WaitApplied(p, max_wait).ok()) return std::nullopt;
  }
  return ProblemFromStatus(
      ctx.req, Status::Unavailable("this node has not applied ledger position " + PositionToString(p) + " yet; retry"));
}

}  // namespace authledger
