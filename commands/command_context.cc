#include "commands/command_context.h"

#include <spdlog/spdlog.h>
#include <future>

#include "domain/ids.h"
#include "ledger/partitioner.h"

namespace authledger {

// One submitted command, from its decision to its answer.
struct CommandContext::Work {
  CommandOutcome outcome;
  Done<CommandOutcome> done;
  std::size_t events = 0;         // its events in the batch
  std::vector<std::string> keys;  // the model's keys and clients it holds in memory (pins)
  std::vector<std::string> clients;
};

// One account's write model and its queue.
struct CommandContext::Model {
  explicit Model(std::string id) : account_id(std::move(id)) {}
  const std::string account_id;
  std::timed_mutex mu;  // guards everything below
  bool loaded = false;  // `state` holds the account's header (else it is read at the next command)
  AccountState state;   // header + the entities pinned by unanswered commands
  std::unordered_map<std::string, std::uint32_t> key_pins, client_pins;
  std::vector<std::unique_ptr<Work>> queued;  // decided, not yet handed to the ledger
  std::vector<AppendEvent> queued_events;     // their events
  std::uint64_t queued_from_seq = 0;          // the account's sequence before queued_events
  bool appending = false;                     // a batch of this account is with the ledger
  std::size_t unanswered = 0;                 // decided and not yet answered

  bool idle() const { return !appending && unanswered == 0; }
};

// One append of one account: the commands it answers.
struct CommandContext::Batch {
  ModelPtr model;
  AppendBatch append;
  std::vector<std::unique_ptr<Work>> works;
};

namespace {

// What a failed append tells the client. The ledger's own words (broker addresses,
// file paths) are for the operator's log, not the client.
Status LedgerVerdict(const std::string& account_id, const Status& s) {
  spdlog::warn("append for account {} failed: {}", account_id, s.ToString());
  switch (s.code()) {
    case Status::Code::kOutcomeUnknown:
      return Status::OutcomeUnknown(
          "the ledger did not acknowledge this write in time: it is not applied here, but it was possibly "
          "persisted; list before retrying a create");
    case Status::Code::kUnavailable:
      return Status::Unavailable("the ledger is unavailable: nothing was written; retry");
    case Status::Code::kConflict:
      // This node is the ledger's only writer, so its model of the account was
      // behind (an earlier write's outcome was unknown): the client did nothing
      // wrong. The model is read again, from the ledger's own sequence, at the retry.
      return Status::Unavailable(
          "this node was catching up with an earlier write to this account: nothing was written; retry");
    default: return s;
  }
}

using Pins = std::unordered_map<std::string, std::uint32_t>;

// `work_ids` gains `id`, and the model's pin count of it goes up (once per command).
void Pin(Pins& pins, std::vector<std::string>& work_ids, const std::string& id) {
  for (const auto& held : work_ids)
    if (held == id) return;
  work_ids.push_back(id);
  ++pins[id];
}

// A command is answered: the entities only it held leave the model.
template <typename Entities>
void Release(Pins& pins, Entities& entities, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    auto it = pins.find(id);
    if (it == pins.end() || --it->second > 0) continue;
    pins.erase(it);
    entities.erase(id);
  }
}

// Entities loaded for a decision that appended nothing leave the model, unless held.
template <typename Entities>
void DropUnpinned(const Pins& pins, Entities& entities, const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!pins.count(id)) entities.erase(id);
}

}  // namespace

CommandContext::CommandContext(EventLog& log, Projector& projector, Queries& queries, const Clock& clock,
                               CommandConfig config)
    : log_(log),
      projector_(projector),
      queries_(queries),
      clock_(clock),
      config_(std::move(config)),
      projection_wait_ms_(config_.projection_wait.count()) {}

CommandContext::~CommandContext() {
  Stop();
  // Appends still with the ledger call back into this object: wait for them.
  std::unique_lock g(gate_mu_);
  if (!gate_cv_.wait_for(g, std::chrono::seconds(30), [&] { return appends_in_flight_ == 0 && unanswered_ == 0; }))
    spdlog::error("commands: {} appends and {} answers still pending at shutdown", appends_in_flight_, unanswered_);
}

void CommandContext::Stop() { stopped_.store(true); }

void CommandContext::SetProjectionWait(std::chrono::milliseconds wait) { projection_wait_ms_.store(wait.count()); }

std::chrono::milliseconds CommandContext::projection_wait() const {
  return std::chrono::milliseconds(projection_wait_ms_.load());
}

CommandContext::ModelPtr CommandContext::ModelFor(const std::string& account_id) {
  std::lock_guard lock(models_mu_);
  auto [it, inserted] = models_.try_emplace(account_id);
  if (inserted) {
    it->second = std::make_shared<Model>(account_id);
    if (models_.size() > config_.max_cached_accounts) EvictIdleModels();
  }
  return it->second;
}

void CommandContext::EvictIdleModels() {
  // Under models_mu_. An idle model holds nothing the projections lack: dropping it
  // costs one header read when the account writes again.
  const std::size_t target = config_.max_cached_accounts - config_.max_cached_accounts / 10;
  for (auto it = models_.begin(); it != models_.end() && models_.size() > target;) {
    Model& m = *it->second;
    std::unique_lock lock(m.mu, std::try_to_lock);
    if (it->second.use_count() == 1 && lock.owns_lock() && m.idle() && m.queued.empty()) {
      lock.unlock();
      it = models_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<AccountState> CommandContext::LoadHeader(const std::string& account_id, const EntityRefs& refs) {
  // The projections may trail the ledger (another node's writes, or a restart):
  // wait until they have applied everything the ledger holds for this account.
  const std::uint64_t ledger_seq = log_.AccountSeq(account_id);
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

void CommandContext::Submit(const std::string& account_id, const Actor& actor, const EntityRefs& refs,
                            const DecideFn& decide, Done<CommandOutcome> done) {
  if (stopped_.load()) return done(Status::Unavailable("the server is stopping; retry"));
  // Never decide on projections that stopped on an error: they may be stale.
  if (Status h = projector_.health(); !h.ok())
    return done(Status::Unavailable("projections are stopped: " + h.message()));
  ModelPtr m = ModelFor(account_id);
  std::unique_lock lock(m->mu, std::defer_lock);
  if (!lock.try_lock_for(config_.account_lock_wait))
    return done(Status::Unavailable("other writes to this account are still being decided; retry"));
  if (!m->loaded) {
    // Only once nothing of the account is unanswered do the projections hold all of it.
    if (!m->idle())
      return done(Status::Unavailable("an earlier write to this account failed and is being settled; retry"));
    auto header = LoadHeader(account_id, {});
    if (!header.ok()) return done(header.status());
    m->state = std::move(header).value();
    m->key_pins.clear();
    m->client_pins.clear();
    m->loaded = true;
  }
  // What the decision reads and the model lacks is as the projections hold it:
  // nothing unanswered has touched it (that would hold it in the model).
  if (Status s = queries_.LoadEntities(&m->state, refs); !s.ok()) {
    DropUnpinned(m->key_pins, m->state.keys, refs.keys);
    DropUnpinned(m->client_pins, m->state.clients, refs.clients);
    return done(s);
  }
  const TimeMs now = clock_.Now();
  Decision decision = decide(m->state, now);
  auto work = std::make_unique<Work>();
  if (!decision.ok() || decision->empty()) {
    Result<CommandOutcome> answer = decision.status();
    if (decision.ok()) {
      work->outcome.state = m->state.Header();
      for (const auto& k : refs.keys)
        if (const KeyState* key = m->state.FindKey(k)) work->outcome.state.keys.emplace(k, *key);
      for (const auto& c : refs.clients)
        if (const ClientState* client = m->state.FindClient(c)) work->outcome.state.clients.emplace(c, *client);
      answer = std::move(work->outcome);
    }
    DropUnpinned(m->key_pins, m->state.keys, refs.keys);
    DropUnpinned(m->client_pins, m->state.clients, refs.clients);
    lock.unlock();
    return done(std::move(answer));
  }

  // Envelopes, chained onto the model (which now runs ahead of the ledger).
  AccountState& s = m->state;
  for (const auto& k : refs.keys) Pin(m->key_pins, work->keys, k);
  for (const auto& c : refs.clients) Pin(m->client_pins, work->clients, c);
  std::vector<AppendEvent> appends;
  for (EventData& data : *decision) {
    Event e{NewUuidV7(now), account_id, s.seq + 1, s.head_hash, now, actor, std::move(data)};
    AppendEvent appended = AppendEventOf(e);
    if (Status a = Apply(&s, e, EventHash(appended.bytes)); !a.ok()) {
      // A rule decided an event its own state refuses: a bug. The model is no
      // longer the ledger's; it is read again once the account is settled.
      m->loaded = false;
      Release(m->key_pins, s.keys, work->keys);
      Release(m->client_pins, s.clients, work->clients);
      lock.unlock();
      return done(Status::Internal("decided an invalid event: " + a.message()));
    }
    const EntityRefs touched = EventRefs(e.data);
    for (const auto& k : touched.keys) Pin(m->key_pins, work->keys, k);
    for (const auto& c : touched.clients) Pin(m->client_pins, work->clients, c);
    appends.push_back(std::move(appended));
    work->outcome.events.push_back(std::move(e));
  }
  if (m->queued_events.empty()) m->queued_from_seq = work->outcome.events.front().seq - 1;
  for (AppendEvent& a : appends) m->queued_events.push_back(std::move(a));
  work->events = work->outcome.events.size();
  work->outcome.state = s.Header();
  for (const auto& k : work->keys)
    if (const KeyState* key = s.FindKey(k)) work->outcome.state.keys.emplace(k, *key);
  for (const auto& c : work->clients)
    if (const ClientState* client = s.FindClient(c)) work->outcome.state.clients.emplace(c, *client);
  work->done = std::move(done);
  m->queued.push_back(std::move(work));
  ++m->unanswered;
  {
    std::lock_guard g(gate_mu_);
    ++unanswered_;
  }
  std::unique_ptr<Batch> batch = TakeBatch(m);
  lock.unlock();
  if (batch) Launch(std::move(batch));
}

std::unique_ptr<CommandContext::Batch> CommandContext::TakeBatch(const ModelPtr& m) {
  if (m->appending || m->queued.empty()) return nullptr;
  {
    std::lock_guard g(gate_mu_);
    if (gate_closed_) {  // a checkpoint is being taken: this account appends after it
      held_.push_back(m);
      return nullptr;
    }
    ++appends_in_flight_;
  }
  m->appending = true;
  auto b = std::make_unique<Batch>();
  b->model = m;
  b->append.account_id = m->account_id;
  b->append.expected_seq = m->queued_from_seq;
  b->append.events = std::move(m->queued_events);
  b->works = std::move(m->queued);
  m->queued_events.clear();
  m->queued.clear();
  return b;
}

void CommandContext::Launch(std::unique_ptr<Batch> batch) {
  AppendBatch append = std::move(batch->append);
  Batch* raw = batch.release();  // back in a unique_ptr in OnAppended
  log_.AppendAsync(std::move(append),
                   [this, raw](Result<Position> r) { OnAppended(std::unique_ptr<Batch>(raw), std::move(r)); });
}

void CommandContext::OnAppended(std::unique_ptr<Batch> batch, Result<Position> appended) {
  const ModelPtr m = batch->model;
  if (!appended.ok()) {
    // The model holds events the ledger may not: drop it, and answer what was
    // decided on top of them too.
    std::vector<std::unique_ptr<Work>> later;
    {
      std::lock_guard lock(m->mu);
      m->appending = false;
      m->loaded = false;
      later = std::move(m->queued);
      m->queued.clear();
      m->queued_events.clear();
      m->state = AccountState();
      m->key_pins.clear();
      m->client_pins.clear();
      m->unanswered -= batch->works.size() + later.size();
    }
    const Status verdict = LedgerVerdict(m->account_id, appended.status());
    for (auto& w : batch->works) w->done(verdict);
    for (auto& w : later)
      w->done(Status::Unavailable("an earlier write to this account failed, so this one was not written; retry"));
    std::lock_guard g(gate_mu_);
    --appends_in_flight_;
    unanswered_ -= batch->works.size() + later.size();
    gate_cv_.notify_all();
    return;
  }
  // Each command's last event: the batch's events sit at consecutive positions.
  const Position last = *appended;
  std::size_t after = 0;
  for (auto it = batch->works.rbegin(); it != batch->works.rend(); ++it) {
    (*it)->outcome.position = last - after;
    after += (*it)->events;
  }
  std::unique_ptr<Batch> next;
  {
    std::lock_guard lock(m->mu);
    m->appending = false;
    next = TakeBatch(m);
  }
  {
    std::lock_guard g(gate_mu_);
    --appends_in_flight_;
    gate_cv_.notify_all();
  }
  if (next) Launch(std::move(next));
  auto works = std::make_shared<std::vector<std::unique_ptr<Work>>>(std::move(batch->works));
  projector_.WhenApplied(last, projection_wait(),
                         [this, m, works](Status applied) { OnApplied(m, std::move(*works), std::move(applied)); });
}

void CommandContext::OnApplied(const ModelPtr& m, std::vector<std::unique_ptr<Work>> works, Status applied) {
  {
    std::lock_guard lock(m->mu);
    for (auto& w : works) {
      Release(m->key_pins, m->state.keys, w->keys);
      Release(m->client_pins, m->state.clients, w->clients);
    }
    m->unanswered -= works.size();
    // Not applied in time: the projections may not hold these events yet, so the
    // entities dropped above must not be read back before they do.
    if (!applied.ok()) m->loaded = false;
  }
  for (auto& w : works) {
    w->outcome.applied = applied.ok();
    w->done(std::move(w->outcome));
  }
  std::lock_guard g(gate_mu_);
  unanswered_ -= works.size();
  gate_cv_.notify_all();
}

Result<CommandOutcome> CommandContext::Execute(const std::string& account_id, const Actor& actor,
                                               const EntityRefs& refs, const DecideFn& decide) {
  std::promise<Result<CommandOutcome>> answer;
  std::future<Result<CommandOutcome>> future = answer.get_future();
  Submit(account_id, actor, refs, decide, [&answer](Result<CommandOutcome> r) { answer.set_value(std::move(r)); });
  return future.get();
}

Result<CommandOutcome> CommandContext::ExecuteAtHead(const std::string& account_id, const Actor& actor,
                                                     const DecideAtHeadFn& decide) {
  std::lock_guard serial(at_head_mu_);
  {
    std::unique_lock g(gate_mu_);
    gate_closed_ = true;
    // Bounded: if appends are still out, the head check below refuses and it decides again.
    gate_cv_.wait_for(g, projection_wait(), [&] { return appends_in_flight_ == 0; });
  }
  auto run = [&]() -> Result<CommandOutcome> {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto state = LoadHeader(account_id, {});
      if (!state.ok()) return state.status();
      const TimeMs now = clock_.Now();
      auto decision = decide(*state, now);
      if (!decision.ok()) return decision.status();
      CommandOutcome outcome;
      outcome.state = std::move(state).value();
      if (decision->events.empty()) return outcome;
      AppendBatch batch;
      batch.account_id = account_id;
      batch.expected_seq = outcome.state.seq;
      batch.expected_head = decision->at_head;
      for (EventData& data : decision->events) {
        Event e{NewUuidV7(now), account_id,     outcome.state.seq + 1, outcome.state.head_hash, now,
                actor,          std::move(data)};
        AppendEvent appended = AppendEventOf(e);
        if (Status s = Apply(&outcome.state, e, EventHash(appended.bytes)); !s.ok())
          return Status::Internal("decided an invalid event: " + s.message());
        batch.events.push_back(std::move(appended));
        outcome.events.push_back(std::move(e));
      }
      auto appended = log_.Append(std::move(batch));
      if (!appended.ok()) {
        if (appended.status().code() == Status::Code::kConflict) continue;  // the head moved: decide again
        return LedgerVerdict(account_id, appended.status());
      }
      outcome.position = *appended;
      outcome.applied = projector_.WaitApplied(outcome.position, projection_wait()).ok();
      return outcome;
    }
    return Status::Conflict("the ledger is being changed concurrently; retry");
  };
  Result<CommandOutcome> result = run();
  std::vector<ModelPtr> held;
  {
    std::lock_guard g(gate_mu_);
    gate_closed_ = false;
    held.swap(held_);
  }
  for (const ModelPtr& m : held) {
    std::unique_ptr<Batch> batch;
    {
      std::lock_guard lock(m->mu);
      batch = TakeBatch(m);
    }
    if (batch) Launch(std::move(batch));
  }
  return result;
}

}  // namespace authledger
