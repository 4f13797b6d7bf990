#include "projections/projector.h"

#include <algorithm>

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "domain/account_state.h"
#include "ledger/batch_reader.h"
#include "projections/audit_entry.h"
#include "projections/key_index.h"
#include "projections/merkle_rows.h"
#include "projections/queries.h"
#include "projections/state_codec.h"

namespace authledger {

Projector::Projector(EventLog& log, ProjectionStore& store, Options options)
    : log_(log),
      store_(store),
      partitions_(log.Partitions()),
      options_(options),
      applied_(std::make_unique<std::atomic<std::uint64_t>[]>(log.Partitions())),
      trees_(log.Partitions()) {}

Projector::~Projector() { Stop(); }

Status Projector::Init() {
  auto c = store_.LoadCursor(partitions_);
  if (!c.ok()) return c.status();
  const Cursor heads = log_.Heads();
  if (!heads.CoversAll(*c))
    return Status::Corruption("projections are at position " + c->ToString() + " but the ledger ends at " +
                              heads.ToString() + "; run `authledger rebuild`");
  for (std::uint32_t p = 0; p < partitions_; ++p) applied_[p].store(c->offset(p), std::memory_order_release);
  trees_.clear();
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    auto tree = MerkleFrontier::Load(c->offset(p), StoredMerkleNodes(store_, p));
    if (!tree.ok())
      return Status::Corruption("projections lack the Merkle tree of partition " + std::to_string(p) + " (" +
                                tree.status().message() + "); run `authledger rebuild`");
    trees_.push_back(std::move(tree).value());
  }
  return Status::Ok();
}

Cursor Projector::applied() const {
  Cursor c(partitions_);
  for (std::uint32_t p = 0; p < partitions_; ++p)
    c.Advance(MakePosition(p, applied_[p].load(std::memory_order_acquire)));
  return c;
}

bool Projector::Covers(const Cursor& c) const {
  for (std::uint32_t p = 0; p < c.partitions(); ++p)
    if (c.offset(p) > 0 && !HasApplied(c.at(p))) return false;
  return true;
}

Status Projector::health() const {
  std::lock_guard lock(mu_);
  return failure_;
}

void Projector::Fail(Status s) {
  {
    std::lock_guard lock(mu_);
    failure_ = s;
  }
  applied_cv_.notify_all();
  ReleaseWaiters([&](const Waiter&) { return std::optional<Status>(s); });
}

void Projector::ReleaseWaiters(const std::function<std::optional<Status>(const Waiter&)>& ready) {
  std::vector<std::pair<std::function<void(Status)>, Status>> calls;
  {
    std::lock_guard lock(mu_);
    std::erase_if(waiters_, [&](Waiter& w) {
      std::optional<Status> s = ready(w);
      if (!s) return false;
      calls.emplace_back(std::move(w.done), std::move(*s));
      return true;
    });
  }
  for (auto& [done, s] : calls) done(std::move(s));
}

void Projector::WhenApplied(Position p, std::chrono::milliseconds timeout, std::function<void(Status)> done) {
  if (PartitionOf(p) >= partitions_) return done(WaitApplied(p, std::chrono::milliseconds(0)));
  Status now;
  {
    std::lock_guard lock(mu_);
    if (!failure_.ok()) now = failure_;
    else if (HasApplied(p)) now = Status::Ok();
    else if (stop_.load()) now = Status::Unavailable("the projector stopped");  // Stop released the others
    else return waiters_.push_back(Waiter{p, std::chrono::steady_clock::now() + timeout, std::move(done)});
  }
  done(now);
}

Result<Projector::CacheEntry*> Projector::CachedState(const std::string& account_id) {
  // An account's events often come in runs (one append, several events).
  if (last_ && last_->first == account_id) return last_;
  // The projector is the only writer of the accounts model, so its cache is exact.
  if (auto it = cache_.find(account_id); it != cache_.end()) return last_ = &*it;
  CachedAccount entry;
  if (store_has_states_) {
    auto stored = Queries(store_).Account(account_id);  // the header; entities are loaded per event
    if (stored.ok()) entry.state = std::move(stored).value();
    else if (stored.status().code() != Status::Code::kNotFound) return stored.status();
  }
  return last_ = &*cache_.emplace(account_id, std::move(entry)).first;
}

Status Projector::ApplyBatch(DecodedBatch& batch, Cursor* at, bool commit) {
  const std::vector<StoredEvent>& events = batch.events;
  // Reused: its buffer keeps its capacity, so large catch-up batches do not
  // allocate (and page-fault in) megabytes afresh each time.
  rocksdb::WriteBatch& wb = batch_;
  wb.Clear();
  Cursor pos = *at;
  // The partitions' trees as of this batch, kept only if it applies in full.
  std::vector<MerkleFrontier> trees = trees_;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const StoredEvent& se = events[i];
    const std::uint32_t partition = PartitionOf(se.position);
    if (partition >= partitions_ || OffsetOf(se.position) != pos.offset(partition) + 1)
      return Status::Corruption(
          "ledger position gap: expected " +
          PositionToString(MakePosition(partition, partition < partitions_ ? pos.offset(partition) + 1 : 1)) +
          ", got " + PositionToString(se.position));
    Result<Event>& ev = batch.decoded[i];
    if (!ev.ok()) return Status::Corruption("position " + PositionToString(se.position) + ": " + ev.status().message());
    // Every position is a leaf, a redelivered copy included: the tree is over the ledger as stored.
    if (Status t = AppendMerkleLeaf(store_, wb, partition, &trees[partition], batch.hashes[i]); !t.ok()) return t;
    auto entry = CachedState(ev->account_id);
    if (!entry.ok()) return entry.status();
    CachedAccount& account = (*entry)->second;
    const std::string& hash = batch.hashes[i];
    if (ev->seq != 0 && ev->seq == account.state.seq && hash == account.state.head_hash) {
      // The account's last event, delivered again (a producer retry outside the
      // idempotent session): already applied, so it changes nothing. Any other
      // repeat or gap is not a redelivery and stops the projector below.
      spdlog::warn("projector: skipped a second copy of account {} seq {} at position {} (already applied)",
                   ev->account_id, ev->seq, PositionToString(se.position));
      pos.Advance(se.position);
      continue;
    }
    if (!account.dirty) {  // before Apply: a half-applied event must be dropped too (DropDirty)
      account.dirty = true;
      dirty_.push_back(*entry);
    }
    // The keys and clients the event names, unless cached (only dirty accounts hold any).
    const std::size_t entities_before = account.state.keys.size() + account.state.clients.size();
    if (store_has_states_)
      if (Status l = Queries(store_).LoadEntities(&account.state, EventRefs(ev->data)); !l.ok()) return l;
    // The same Apply the command ran on these events before appending them (domain/account_state.h).
    Status s = Apply(&account.state, *ev, hash);
    if (!s.ok()) return Status::Corruption("position " + PositionToString(se.position) + ": " + s.message());
    cached_entities_ += account.state.keys.size() + account.state.clients.size() - entities_before;
    if (auto k = EventKeyId(ev->data); !k.empty()) MarkKeyDirty(account, account.state.FindKey(std::string(k)));
    if (auto c = EventClientId(ev->data); !c.empty()) {  // client events are rare: a scan keeps the list unique
      const ClientState* client = account.state.FindClient(std::string(c));
      if (std::find(account.dirty_clients.begin(), account.dirty_clients.end(), client) == account.dirty_clients.end())
        account.dirty_clients.push_back(client);
    }
    if (const auto* cp = std::get_if<LedgerCheckpoint>(&ev->data)) {
      wb.Put(store_.cf(Cf::kMeta), ProjectionStore::CheckpointMetaKey(partition),
             ProjectionStore::EncodePosition(se.position));
      if (cp->tree_size) wb.Put(store_.cf(Cf::kMeta), ProjectionStore::TreeHeadMetaKey(partition), se.bytes);
    }
    if (fill_) {
      if (Status a = fill_->Add(ev->account_id, ev->time, se.position, se.bytes); !a.ok()) return a;
    } else {
      wb.Put(store_.cf(Cf::kAudit), AuditKey(ev->account_id, ev->time, se.position), se.bytes);
    }
    pos.Advance(se.position);
  }
  *at = pos;
  if (commit) {
    Status s = Commit(wb, pos);
    if (s.ok()) trees_ = std::move(trees);
    return s;
  }
  // Filling: the states wait in the cache, unless it overflows.
  const bool evict = cache_.size() > options_.max_cached_accounts || cached_entities_ > options_.max_cached_entities;
  if (evict) PutDirty(wb);
  if (wb.Count() == 0) return Status::Ok();
  if (Status s = store_.Write(&wb); !s.ok()) return s;
  trees_ = std::move(trees);
  if (evict) ClearCache();
  return Status::Ok();
}

namespace {
void SortUnique(std::vector<const KeyState*>& keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}
}  // namespace

void Projector::MarkKeyDirty(CachedAccount& account, const KeyState* key) {
  std::vector<const KeyState*>& keys = account.dirty_keys;
  // Most accounts have a few keys, each changed many times between writes: a short
  // scan keeps the list short. Past kScannedDirtyKeys, duplicates are sorted out
  // whenever the size reaches a power of two, so the list stays within twice the
  // account's keys, whatever the number of events.
  constexpr std::size_t kScannedDirtyKeys = 64;
  if (keys.size() <= kScannedDirtyKeys && std::find(keys.begin(), keys.end(), key) != keys.end()) return;
  keys.push_back(key);
  if (keys.size() > kScannedDirtyKeys && (keys.size() & (keys.size() - 1)) == 0) SortUnique(keys);
}

void Projector::PutDirty(rocksdb::WriteBatch& wb) {
  store_has_states_ = true;
  for (CacheEntry* entry : dirty_) {
    const std::string& account_id = entry->first;
    CachedAccount& account = entry->second;
    SortUnique(account.dirty_keys);
    for (const KeyState* k : account.dirty_keys) {
      wb.Put(store_.cf(Cf::kKeyIndex), k->id, EncodeKeyRecord(KeyRecord::FromState(account_id, *k)));
      wb.Put(store_.cf(Cf::kAccountKeys), account_id + "/" + k->id, EncodeKeyState(*k));
    }
    for (const ClientState* c : account.dirty_clients)
      wb.Put(store_.cf(Cf::kAccountClients), account_id + "/" + c->id, EncodeClientState(*c));
    wb.Put(store_.cf(Cf::kAccounts), account_id, EncodeAccountState(account.state));
    account.dirty = false;
    account.dirty_keys.clear();
    account.dirty_clients.clear();
    // Written: the next event about them reads them back, so only headers stay cached.
    cached_entities_ -= std::min(cached_entities_, account.state.keys.size() + account.state.clients.size());
    account.state.keys.clear();
    account.state.clients.clear();
  }
  dirty_.clear();
}

void Projector::ClearCache() {
  cache_.clear();
  cached_entities_ = 0;
  last_ = nullptr;
}

void Projector::DropDirty() {
  for (CacheEntry* entry : dirty_) {
    const AccountState& st = entry->second.state;
    cached_entities_ -= std::min(cached_entities_, st.keys.size() + st.clients.size());
    cache_.erase(cache_.find(entry->first));
  }
  dirty_.clear();
  last_ = nullptr;
}

Status Projector::Commit(rocksdb::WriteBatch& wb, const Cursor& at) {
  PutDirty(wb);
  wb.Put(store_.cf(Cf::kMeta), "position", at.Encode());
  if (Status s = store_.Write(&wb); !s.ok()) return s;
  if (cache_.size() > options_.max_cached_accounts) ClearCache();
  {
    std::lock_guard lock(mu_);
    for (std::uint32_t p = 0; p < partitions_; ++p) applied_[p].store(at.offset(p), std::memory_order_release);
  }
  applied_cv_.notify_all();
  ReleaseWaiters([&](const Waiter& w) { return HasApplied(w.position) ? std::optional(Status::Ok()) : std::nullopt; });
  return Status::Ok();
}

Status Projector::CatchUp(const std::function<void(const Cursor&)>& progress) {
  // The heads move while the server appends: catch up to them until they stand still.
  while (!Covers(log_.Heads()))
    if (Status s = CatchUpTo(log_.Heads(), progress); !s.ok()) return s;
  return Status::Ok();
}

Status Projector::FinishFill(const Cursor& at) {
  Status s = fill_->Finish();
  fill_.reset();
  batch_.Clear();
  batch_.Delete(store_.cf(Cf::kMeta), ProjectionStore::kFillingKey);  // with the cursor: the store is complete
  if (s.ok()) s = Commit(batch_, at);
  if (s.ok()) s = store_.Flush();
  return s;
}

Status Projector::CatchUpTo(const Cursor& limit, const std::function<void(const Cursor&)>& progress) {
  Cursor at = applied();
  // Reading, decoding and hashing the next batch (on another thread) overlaps applying this one.
  BatchReader reader(log_, at, limit, kCatchUpBatchEvents, /*decode=*/true);
  Status s;
  if (at.Total() == 0 && !reader.done()) {  // an empty store: a bulk load (see the header)
    fill_ = std::make_unique<AuditBulkLoad>(store_, ProjectionStore::FillDir(store_.dir()), options_.fill_run_bytes);
    store_has_states_ = false;  // an empty store: every state is in cache_ until the first PutDirty
    rocksdb::WriteBatch mark;
    mark.Put(store_.cf(Cf::kMeta), ProjectionStore::kFillingKey, "");
    s = store_.Write(&mark);
    if (s.ok()) s = store_.Flush();  // on disk before anything it covers
  }
  DecodedBatch batch;
  while (s.ok() && !reader.done()) {
    s = reader.Next(&batch);
    if (s.ok()) s = ApplyBatch(batch, &at, /*commit=*/!fill_);
    if (s.ok() && progress) progress(at);
  }
  if (s.ok() && fill_) s = FinishFill(at);
  store_has_states_ = true;
  if (!s.ok()) {
    fill_.reset();
    DropDirty();
    Fail(s);
  }
  return s;
}

void Projector::Start() {
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
}

void Projector::Stop() {
  {
    std::lock_guard lock(mu_);  // WhenApplied sees it under mu_: no waiter is added after the release below
    stop_.store(true);
  }
  log_.WakeAll();
  if (thread_.joinable()) thread_.join();
  ReleaseWaiters([](const Waiter&) { return std::optional(Status::Unavailable("the projector stopped")); });
}

void Projector::Run() {
  DecodedBatch batch;
  while (!stop_.load(std::memory_order_acquire)) {
    ExpireWaiters();
    Cursor heads = log_.WaitForAppend(applied(), NextWait());
    if (stop_.load(std::memory_order_acquire)) break;
    if (Covers(heads)) continue;
    Status s = batch.Read(log_, applied(), kBatchEvents, nullptr, /*decode=*/true);
    if (!s.ok() && s.code() != Status::Code::kCorruption) {
      // The ledger is unreachable for now (a broker outage, a leader move): nothing
      // was applied, so try again; only damage to the ledger itself stops us.
      spdlog::warn("projector: reading the ledger failed, retrying: {}", s.ToString());
      std::unique_lock lock(mu_);
      applied_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop_.load(); });
      continue;
    }
    Cursor at = applied();
    if (s.ok() && !batch.events.empty()) s = ApplyBatch(batch, &at, /*commit=*/true);
    if (!s.ok()) {
      DropDirty();
      Fail(s);
      return;  // stop loudly: health() reports it, /readyz fails
    }
  }
}

void Projector::ExpireWaiters() {
  const auto now = std::chrono::steady_clock::now();
  ReleaseWaiters([&](const Waiter& w) -> std::optional<Status> {
    if (w.deadline > now) return std::nullopt;
    return Status::Unavailable("projections have not reached position " + PositionToString(w.position) + " yet");
  });
}

std::chrono::milliseconds Projector::NextWait() {
  auto wait = std::chrono::milliseconds(200);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  for (const Waiter& w : waiters_)
    wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(std::max(w.deadline - now, now - now)));
  return std::max(wait, std::chrono::milliseconds(1));
}

Status Projector::WaitApplied(Position p, std::chrono::milliseconds timeout) {
  if (PartitionOf(p) >= partitions_)
    return Status::InvalidArgument("position " + PositionToString(p) + " names partition " +
                                   std::to_string(PartitionOf(p)) + ", but the ledger has " +
                                   std::to_string(partitions_));
  Cursor c(partitions_);
  c.Advance(p);
  return WaitApplied(c, timeout);
}

Status Projector::WaitApplied(const Cursor& c, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool done = applied_cv_.wait_for(lock, timeout, [&] { return Covers(c) || !failure_.ok(); });
  if (!failure_.ok()) return failure_;
  if (!done) return Status::Unavailable("projections have not reached position " + c.ToString() + " yet");
  return Status::Ok();
}

}  // namespace authledger
