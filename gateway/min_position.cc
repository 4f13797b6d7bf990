#include "gateway/min_position.h"

#include <string>

#include "gateway/responses.h"

namespace authledger {

std::optional<HttpResponse> AwaitMinPosition(const RequestContext& ctx, Projector& projector, bool replica,
                                             std::chrono::milliseconds max_wait) {
  auto h = ctx.req[kMinPositionHeader];
  if (h.empty()) return std::nullopt;
  Position p = 0;
  for (char c : h) {
    if (c < '0' || c > '9' || p > (UINT64_MAX - 9) / 10)
      return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) +
                                                                " must be a ledger position (an integer)"));
    p = p * 10 + static_cast<Position>(c - '0');
  }
  if (PartitionOf(p) >= projector.partitions())
    return ProblemFromStatus(ctx.req, Status::InvalidArgument(std::string(kMinPositionHeader) + " " + std::string(h) +
                                                              " is not a position of this ledger (partition " +
                                                              std::to_string(PartitionOf(p)) + " does not exist)"));
  if (projector.HasApplied(p)) return std::nullopt;
  // Waiting only helps for positions the ledger is known to hold.
  // A writer knows every position it acknowledged; a replica may not have
  // heard of a fresh one yet, so it also waits for positions a little ahead.
  const Cursor heads = projector.ledger_heads();
  const bool plausible = heads.Covers(p) || (replica && OffsetOf(p) <= heads.offset(PartitionOf(p)) + kReplicaLookahead);
  if (max_wait.count() > 0 && plausible && projector.WaitApplied(p, max_wait).ok())
    return std::nullopt;
  return ProblemFromStatus(ctx.req, Status::Unavailable("this node has not applied ledger position " +
                                                        PositionToString(p) + " yet; retry"));
}

}  // namespace authledger
