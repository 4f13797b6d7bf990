// CommandContext: the one way state changes. Execute() runs a decision for one
// account, serialised with every other command of that account:
//
//   lock account -> load state from the projection (waiting until it has applied
//   everything the ledger holds for the account) -> decide(state, now) -> build
//   envelopes (ids, seq, hash chain, actor) -> append (optimistic: expected seq)
//   -> wait until the local projections applied the batch (read-your-writes).
//
// A lost optimistic race is retried from the fresh state; any other failure
// before the append is returned as is and nothing was appended. A failed append
// is Unavailable when the ledger wrote nothing (retry), OutcomeUnknown when it may
// have stored the events (look before repeating a create); the ledger's own words
// go to the log only. Once the append succeeded the command has happened: it is
// reported as a success even if the projections then fail to catch up within
// `projection_wait` — with applied == false, which callers must pass on (the
// gateway answers 202), and the position lets a reader wait for it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
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
  std::string pepper;  // HMAC key for secrets; never logged
  std::string brand = "al";
  KeyPolicy policy;
  // How long a write waits for the local projections to apply the state it decides
  // on (else Unavailable) and its own events (else applied == false). The initial
  // value of CommandContext::projection_wait().
  std::chrono::milliseconds projection_wait{10000};
  // How long a command waits for another command of the same account to finish
  // before giving up with Unavailable (so a slow ledger cannot pile up writers).
  std::chrono::milliseconds account_lock_wait{3000};
};

struct CommandOutcome {
  Position position = 0;  // of the last appended event; 0 if the decision was empty
  std::vector<Event> events;
  AccountState state;   // the aggregate after the events (as the projection will hold it)
  bool applied = true;  // false: durable, but not yet visible in the local projections
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

  // `refs` names the keys and clients the decision reads: only those (and the
  // account's header) are loaded.
  Result<CommandOutcome> Execute(const std::string& account_id, const Actor& actor, const EntityRefs& refs,
                                 const DecideFn& decide);
  // Like Execute, but the append also requires the ledger head the decision was
  // made at; if anything was appended since, it decides again (a few times),
  // then gives up with Conflict.
  Result<CommandOutcome> ExecuteAtHead(const std::string& account_id, const Actor& actor, const DecideAtHeadFn& decide);

  const CommandConfig& config() const { return config_; }
  // The projection wait in force; SetProjectionWait changes it at any time (tests
  // shorten it to see a write that is durable but not yet applied).
  std::chrono::milliseconds projection_wait() const;
  void SetProjectionWait(std::chrono::milliseconds wait);
  const Clock& clock() const { return clock_; }
  const Queries& queries() const { return queries_; }

 private:
  Result<CommandOutcome> Run(const std::string& account_id, const Actor& actor, const EntityRefs& refs,
                             const DecideAtHeadFn& decide, bool bind_head);
  Result<AccountState> LoadCurrent(const std::string& account_id, const EntityRefs& refs);
  std::timed_mutex& LockFor(const std::string& account_id);

  EventLog& log_;
  Projector& projector_;
  Queries& queries_;
  const Clock& clock_;
  CommandConfig config_;
  std::atomic<std::chrono::milliseconds::rep> projection_wait_ms_;
  std::array<std::timed_mutex, 64> account_locks_;
};

}  // namespace authledger
