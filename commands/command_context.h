// CommandContext: the one way state changes. Execute() runs a decision for one
// account, serialised with every other command of that account:
//
//   lock account -> load state from the projection (waiting until it has applied
//   everything the ledger holds for the account) -> decide(state, now) -> build
//   envelopes (ids, seq, hash chain, actor) -> append (optimistic: expected seq)
//   -> wait until the local projections applied the batch (read-your-writes).
//
// A lost optimistic race is retried from the fresh state; any other failure
// before the append is returned as is and nothing was appended. Once the append
// succeeded the command has happened: it is reported as a success even if the
// projections then fail to catch up within `projection_wait` (the outcome says
// so, and the position lets a reader wait for it).
#pragma once

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "domain/decide.h"
#include "domain/envelope.h"
#include "ledger/event_log.h"
#include "projections/projector.h"
#include "projections/queries.h"

namespace authledger {

struct CommandConfig {
  std::string pepper;      // HMAC key for secrets; never logged
  std::string brand = "al";
  KeyPolicy policy;
  std::chrono::milliseconds projection_wait{10000};
  // How long a command waits for another command of the same account to finish
  // before giving up with Unavailable (so a slow ledger cannot pile up writers).
  std::chrono::milliseconds account_lock_wait{3000};
};

struct CommandOutcome {
  Position position = 0;  // of the last appended event; 0 if the decision was empty
  std::vector<Event> events;
  AccountState state;     // the aggregate after the events (as the projection will hold it)
  bool applied = true;    // false: durable, but not yet visible in the local projections
};

using DecideFn = std::function<Decision(const AccountState& state, TimeMs now)>;

// A decision that is only valid while the ledger's head is still `at_head`
// (a checkpoint signs the state right before it).
struct HeadBoundDecision {
  std::vector<EventData> events;
  Position at_head = 0;
};
using DecideAtHeadFn = std::function<Result<HeadBoundDecision>(const AccountState& state, TimeMs now)>;

class CommandContext {
 public:
  CommandContext(EventLog& log, Projector& projector, Queries& queries, const Clock& clock, CommandConfig config);

  Result<CommandOutcome> Execute(const std::string& account_id, const Actor& actor, const DecideFn& decide);
  // Like Execute, but the append also requires the ledger head the decision was
  // made at; if anything was appended since, it decides again (a few times),
  // then gives up with Conflict.
  Result<CommandOutcome> ExecuteAtHead(const std::string& account_id, const Actor& actor,
                                       const DecideAtHeadFn& decide);

  const CommandConfig& config() const { return config_; }
  const Clock& clock() const { return clock_; }
  const Queries& queries() const { return queries_; }

 private:
  Result<CommandOutcome> Run(const std::string& account_id, const Actor& actor, const DecideAtHeadFn& decide,
                             bool bind_head);
  Result<AccountState> LoadCurrent(const std::string& account_id);
  std::timed_mutex& LockFor(const std::string& account_id);

  EventLog& log_;
  Projector& projector_;
  Queries& queries_;
  const Clock& clock_;
  CommandConfig config_;
  std::array<std::timed_mutex, 64> account_locks_;
};

}  // namespace authledger
