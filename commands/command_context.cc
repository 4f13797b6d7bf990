#include "commands/command_context.h"

#include <spdlog/spdlog.h>

#include "domain/ids.h"
#include "ledger/partitioner.h"

namespace authledger {

CommandContext::CommandContext(EventLog& log, Projector& projector, Queries& queries, const Clock& clock,
                               CommandConfig config)
    : log_(log),
      projector_(projector),
      queries_(queries),
      clock_(clock),
      config_(std::move(config)),
      projection_wait_ms_(config_.projection_wait.count()) {}

void CommandContext::SetProjectionWait(std::chrono::milliseconds wait) { projection_wait_ms_.store(wait.count()); }

std::chrono::milliseconds CommandContext::projection_wait() const {
  return std::chrono::milliseconds(projection_wait_ms_.load());
}

std::timed_mutex& CommandContext::LockFor(const std::string& account_id) {
  return account_locks_[std::hash<std::string>{}(account_id) % account_locks_.size()];
}

Result<AccountState> CommandContext::LoadCurrent(const std::string& account_id, const EntityRefs& refs) {
  // The projection may trail the ledger (another node's writes, or a restart);
  // wait until it has applied everything the ledger holds for this account.
  std::uint64_t ledger_seq = log_.AccountSeq(account_id);
  for (int attempt = 0;; ++attempt) {
    AccountState state;
    auto loaded = queries_.Account(account_id, refs);
    if (loaded.ok()) state = std::move(loaded).value();
    else if (loaded.status().code() != Status::Code::kNotFound) return loaded.status();
    if (state.seq >= ledger_seq) return state;
    if (attempt > 0) return Status::Unavailable("projections are behind the ledger for this account; retry");
    // Only the account's own partition matters (a lagging other partition must not stall this write).
    const std::uint32_t partition = PartitionFor(account_id, log_.Partitions());
    Status s = projector_.WaitApplied(log_.Heads().at(partition), projection_wait());
    if (!s.ok()) return s;
  }
}

Result<CommandOutcome> CommandContext::Execute(const std::string& account_id, const Actor& actor,
                                               const EntityRefs& refs, const DecideFn& decide) {
  return Run(
      account_id, actor, refs,
      [&](const AccountState& s, TimeMs now) -> Result<HeadBoundDecision> {
        Decision d = decide(s, now);
        if (!d.ok()) return d.status();
        return HeadBoundDecision{std::move(d).value(), 0};
      },
      false);
}

Result<CommandOutcome> CommandContext::ExecuteAtHead(const std::string& account_id, const Actor& actor,
                                                     const DecideAtHeadFn& decide) {
  return Run(account_id, actor, {}, decide, true);
}

Result<CommandOutcome> CommandContext::Run(const std::string& account_id, const Actor& actor, const EntityRefs& refs,
                                           const DecideAtHeadFn& decide, bool bind_head) {
  std::unique_lock account_lock(LockFor(account_id), std::defer_lock);
  if (!account_lock.try_lock_for(config_.account_lock_wait))
    return Status::Unavailable("another write to this account is still in progress (the ledger is slow); retry");
  // Never decide on projections that stopped on an error: they may be stale.
  if (Status h = projector_.health(); !h.ok()) return Status::Unavailable("projections are stopped: " + h.message());
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto state = LoadCurrent(account_id, refs);
    if (!state.ok()) return state.status();
    TimeMs now = clock_.Now();
    auto decision = decide(*state, now);
    if (!decision.ok()) return decision.status();
    CommandOutcome outcome;
    outcome.state = std::move(state).value();
    if (decision->events.empty()) return outcome;

    AppendBatch batch;
    batch.account_id = account_id;
    batch.expected_seq = outcome.state.seq;
    if (bind_head) batch.expected_head = decision->at_head;
    std::string prev = outcome.state.head_hash;
    std::uint64_t seq = outcome.state.seq;
    for (EventData& data : decision->events) {
      Event e{NewUuidV7(now), account_id, ++seq, prev, now, actor, std::move(data)};
      AppendEvent event = AppendEventOf(e);
      prev = EventHash(event.bytes);
      if (Status s = Apply(&outcome.state, e, prev); !s.ok())
        return Status::Internal("decided an invalid event: " + s.message());
      batch.events.push_back(std::move(event));
      outcome.events.push_back(std::move(e));
    }
    auto appended = log_.Append(std::move(batch));
    if (!appended.ok()) {
      if (appended.status().code() == Status::Code::kConflict) continue;  // someone else wrote: decide again
      // The ledger's own words (broker addresses, file paths) are for the operator's log, not the client.
      spdlog::warn("append for account {} failed: {}", account_id, appended.status().ToString());
      switch (appended.status().code()) {
        case Status::Code::kOutcomeUnknown:
          return Status::OutcomeUnknown("the ledger did not acknowledge this write in time: it is not applied here, "
                                        "but it was possibly persisted; list before retrying a create");
        case Status::Code::kUnavailable:
          return Status::Unavailable("the ledger is unavailable: nothing was written; retry");
        default: return appended.status();
      }
    }
    outcome.position = *appended;
    outcome.applied = projector_.WaitApplied(outcome.position, projection_wait()).ok();
    return outcome;
  }
  return Status::Conflict("the ledger is being changed concurrently; retry");
}

}  // namespace authledger
