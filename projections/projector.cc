#include "projections/projector.h"

#include <algorithm>
#include <map>

#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "domain/account_state.h"
#include "ledger/batch_reader.h"
#include "projections/audit_entry.h"
#include "projections/key_index.h"
#include "projections/queries.h"
#include "projections/state_codec.h"

namespace authledger {

Projector::Projector(EventLog& log, ProjectionStore& store)
    : log_(log),
      store_(store),
      partitions_(log.Partitions()),
      applied_(std::make_unique<std::atomic<std::uint64_t>[]>(log.Partitions())) {}

Projector::~Projector() { Stop(); }

Status Projector::Init() {
  auto c = store_.LoadCursor(partitions_);
  if (!c.ok()) return c.status();
  const Cursor heads = log_.Heads();
  if (!heads.CoversAll(*c))
    return Status::Corruption("projections are at position " + c->ToString() + " but the ledger ends at " +
                              heads.ToString() + "; run `authledger rebuild`");
  for (std::uint32_t p = 0; p < partitions_; ++p) applied_[p].store(c->offset(p), std::memory_order_release);
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
    failure_ = std::move(s);
  }
  applied_cv_.notify_all();
}

Status Projector::ApplyBatch(DecodedBatch& batch) {
  const std::vector<StoredEvent>& events = batch.events;
  // Reused: its buffer keeps its capacity, so large catch-up batches do not
  // allocate (and page-fault in) megabytes afresh each time.
  rocksdb::WriteBatch& wb = batch_;
  wb.Clear();
  std::map<std::string, AccountState> touched;
  // (account, key) whose state changed; the views point into `touched`'s stable nodes.
  std::vector<std::pair<std::string_view, std::string_view>> changed_keys;
  Cursor pos = applied();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const StoredEvent& se = events[i];
    const std::uint32_t partition = PartitionOf(se.position);
    if (partition >= partitions_ || OffsetOf(se.position) != pos.offset(partition) + 1)
      return Status::Corruption("ledger position gap: expected " +
                                PositionToString(MakePosition(partition, partition < partitions_ ? pos.offset(partition) + 1 : 1)) +
                                ", got " + PositionToString(se.position));
    Result<Event>& ev = batch.decoded[i];
    if (!ev.ok()) return Status::Corruption("position " + PositionToString(se.position) + ": " + ev.status().message());
    auto it = touched.find(ev->account_id);
    if (it == touched.end()) {
      // The projector is the only writer of the accounts model, so its cache is exact.
      if (auto cached = cache_.find(ev->account_id); cached != cache_.end()) {
        it = touched.emplace(ev->account_id, std::move(cached->second)).first;
        cache_.erase(cached);
      }
    }
    if (it == touched.end()) {
      AccountState st;
      auto stored = Queries(store_).Account(ev->account_id);
      if (stored.ok()) st = std::move(stored).value();
      else if (stored.status().code() != Status::Code::kNotFound) return stored.status();
      it = touched.emplace(ev->account_id, std::move(st)).first;
    }
    const std::string& hash = batch.hashes[i];
    if (ev->seq != 0 && ev->seq == it->second.seq && hash == it->second.head_hash) {
      // The account's last event, delivered again (a producer retry outside the
      // idempotent session): already applied, so it changes nothing. Any other
      // repeat or gap is not a redelivery and stops the projector below.
      spdlog::warn("projector: skipped a second copy of account {} seq {} at position {} (already applied)",
                   ev->account_id, ev->seq, PositionToString(se.position));
      pos.Advance(se.position);
      continue;
    }
    Status s = Apply(&it->second, *ev, hash);
    if (!s.ok()) return Status::Corruption("position " + PositionToString(se.position) + ": " + s.message());
    if (auto k = EventKeyId(ev->data); !k.empty()) changed_keys.emplace_back(it->first, it->second.keys.find(std::string(k))->first);
    if (std::holds_alternative<LedgerCheckpoint>(ev->data))
      wb.Put(store_.cf(Cf::kMeta), ProjectionStore::CheckpointMetaKey(partition),
             ProjectionStore::EncodePosition(se.position));
    wb.Put(store_.cf(Cf::kAudit), AuditKey(ev->account_id, ev->time, se.position), se.bytes);
    pos.Advance(se.position);
  }
  std::sort(changed_keys.begin(), changed_keys.end());
  changed_keys.erase(std::unique(changed_keys.begin(), changed_keys.end()), changed_keys.end());
  for (const auto& [account, key_id] : changed_keys) {
    const std::string account_id(account);
    const KeyState& k = touched.find(account_id)->second.keys.find(std::string(key_id))->second;
    wb.Put(store_.cf(Cf::kKeyIndex), key_id, EncodeKeyRecord(KeyRecord::FromState(account_id, k)));
    wb.Put(store_.cf(Cf::kAccountKeys), account_id + "/" + k.id, EncodeKeyState(k));
  }
  for (const auto& [account, st] : touched) wb.Put(store_.cf(Cf::kAccounts), account, EncodeAccountState(st));
  wb.Put(store_.cf(Cf::kMeta), "position", pos.Encode());
  Status s = store_.Write(&wb);
  if (!s.ok()) return s;  // the touched accounts left the cache: they are read back from the store
  if (cache_.size() + touched.size() > kMaxCachedAccounts) cache_.clear();
  for (auto& [account, st] : touched) cache_.insert_or_assign(account, std::move(st));
  {
    std::lock_guard lock(mu_);
    for (std::uint32_t p = 0; p < partitions_; ++p) applied_[p].store(pos.offset(p), std::memory_order_release);
  }
  applied_cv_.notify_all();
  return Status::Ok();
}

Status Projector::CatchUp(const std::function<void(const Cursor&)>& progress) {
  // The heads move while the server appends: catch up to them until they stand still.
  while (!Covers(log_.Heads()))
    if (Status s = CatchUpTo(log_.Heads(), progress); !s.ok()) return s;
  return Status::Ok();
}

Status Projector::CatchUpTo(const Cursor& limit, const std::function<void(const Cursor&)>& progress) {
  // Reading, decoding and hashing the next batch (on another thread) overlaps applying this one.
  BatchReader reader(log_, applied(), limit, kCatchUpBatchEvents, /*decode=*/true);
  DecodedBatch batch;
  while (!reader.done()) {
    Status s = reader.Next(&batch);
    if (s.ok()) s = ApplyBatch(batch);
    if (!s.ok()) {
      Fail(s);
      return s;
    }
    if (progress) progress(applied());
  }
  return Status::Ok();
}

void Projector::Start() {
  stop_.store(false);
  thread_ = std::thread([this] { Run(); });
}

void Projector::Stop() {
  stop_.store(true);
  log_.WakeAll();
  if (thread_.joinable()) thread_.join();
}

void Projector::Run() {
  DecodedBatch batch;
  while (!stop_.load(std::memory_order_acquire)) {
    Cursor heads = log_.WaitForAppend(applied(), std::chrono::milliseconds(200));
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
    if (s.ok() && !batch.events.empty()) s = ApplyBatch(batch);
    if (!s.ok()) {
      Fail(s);
      return;  // stop loudly: health() reports it, /readyz fails
    }
  }
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
