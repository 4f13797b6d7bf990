// CommandContext: the one way state changes. A command names its account, the
// keys and clients its decision reads (EntityRefs), and the decision — a pure
// Decide* rule of domain/decide.h. Submit() then runs, per account in submission
// order:
//
//   the account's write model (header + the entities in use; loaded from the
//   projections, once they hold everything the ledger has for the account) ->
//   decide(model, now) -> envelopes (ids, seq, hash chain, actor) applied to the
//   model -> queued for the ledger.
//
// Each account has at most one append in flight; what is decided meanwhile goes
// out together as its next batch (one append; the embedded ledger also syncs the
// batches of many accounts at once). Once a batch is durable, its commands wait —
// holding no thread — until the local projector has applied it (read-your-writes),
// then `done` gets the outcome. A command waits for the disk or the projector only
// in the blocking Execute(), never in Submit().
//
// The write model is exact because this node is the only writer of the ledger:
// an entity stays in it while a command that touched it is unanswered, and is
// read back from the projections afterwards. A failed append answers its commands
// with the ledger's verdict — Unavailable: nothing was written (retry; this
// includes the ledger's Conflict, which can only mean the model was behind after
// an unknown outcome); OutcomeUnknown: it may be stored (look before repeating a
// create) — drops the
// account's model, and answers the commands decided on top of the failed ones
// with Unavailable (they assumed events the ledger may not have). A write that is
// durable but not applied here within projection_wait is still a success, with
// applied == false, which callers must pass on (the gateway answers 202).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/crypto.h"
#include "domain/decide.h"
#include "domain/envelope.h"
#include "ledger/event_log.h"
#include "projections/projector.h"
#include "projections/queries.h"

namespace authledger {

struct CommandConfig {
  SecretString pepper;  // HMAC key for secrets; never logged; wiped with the config
  std::string brand = "al";
  KeyPolicy policy;
  // How long a write waits for the local projections to apply the state it decides
  // on (else Unavailable) and its own events (else applied == false). The initial
  // value of CommandContext::projection_wait().
  std::chrono::milliseconds projection_wait{10000};
  // How long a command waits for another command of the same account to be
  // decided before giving up with Unavailable.
  std::chrono::milliseconds account_lock_wait{3000};
  // Write models of idle accounts kept in memory (each a small header).
  std::size_t max_cached_accounts = 100000;
};

struct CommandOutcome {
  Position position = 0;  // of the command's last event; 0 if the decision was empty
  std::vector<Event> events;
  // The account's header after the events, with the keys and clients the command
  // named or its events touched (as the projections will hold them).
  AccountState state;
  bool applied = true;  // false: durable, but not yet visible in the local projections
};

template <typename T>
using Done = std::function<void(Result<T>)>;
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
  ~CommandContext();

  // Decides on the calling thread (which may wait for the account's turn, or for
  // the projections to catch up with the ledger, but never for the disk) and
  // calls `done` exactly once: at once for a refusal or an empty decision, else
  // from the ledger's or the projector's thread once the events are durable and
  // applied here (or projection_wait ran out). `decide` is called at most once,
  // before Submit returns.
  void Submit(const std::string& account_id, const Actor& actor, const EntityRefs& refs, const DecideFn& decide,
              Done<CommandOutcome> done);
  // Submit, and wait for `done`.
  Result<CommandOutcome> Execute(const std::string& account_id, const Actor& actor, const EntityRefs& refs,
                                 const DecideFn& decide);
  // Blocking, for checkpoints: holds every account's next append back until no
  // append is in flight, decides, and appends only if the ledger's head is still
  // the one decided at; if anything was appended since, decides again (a few
  // times), then gives up with Conflict.
  Result<CommandOutcome> ExecuteAtHead(const std::string& account_id, const Actor& actor, const DecideAtHeadFn& decide);

  // Refuses new commands (Unavailable); those already submitted are answered as usual.
  void Stop();

  const CommandConfig& config() const { return config_; }
  // The projection wait in force; SetProjectionWait changes it at any time (tests
  // shorten it to see a write that is durable but not yet applied).
  std::chrono::milliseconds projection_wait() const;
  void SetProjectionWait(std::chrono::milliseconds wait);
  const Clock& clock() const { return clock_; }
  const Queries& queries() const { return queries_; }

 private:
  struct Work;
  struct Batch;
  struct Model;
  using ModelPtr = std::shared_ptr<Model>;

  ModelPtr ModelFor(const std::string& account_id);
  // The account's header once the projections hold everything the ledger has for it.
  Result<AccountState> LoadHeader(const std::string& account_id, const EntityRefs& refs);
  // Under the model's lock: the next batch to append, if one may start now.
  std::unique_ptr<Batch> TakeBatch(const ModelPtr& m);
  void Launch(std::unique_ptr<Batch> batch);
  void OnAppended(std::unique_ptr<Batch> batch, Result<Position> appended);
  void OnApplied(const ModelPtr& m, std::vector<std::unique_ptr<Work>> works, Status applied);
  void EvictIdleModels();

  EventLog& log_;
  Projector& projector_;
  Queries& queries_;
  const Clock& clock_;
  CommandConfig config_;
  std::atomic<std::chrono::milliseconds::rep> projection_wait_ms_;
  std::atomic<bool> stopped_{false};

  std::mutex models_mu_;
  std::unordered_map<std::string, ModelPtr> models_;

  // The checkpoint gate: appends in flight, and accounts whose next append waits
  // while ExecuteAtHead holds the gate.
  std::mutex at_head_mu_;  // one ExecuteAtHead at a time
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_closed_ = false;
  std::size_t appends_in_flight_ = 0;
  std::size_t unanswered_ = 0;  // decided commands not yet answered, all accounts
  std::vector<ModelPtr> held_;
};

}  // namespace authledger
