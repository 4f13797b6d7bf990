#include "projections/projector.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "domain/account_state.h"
#include "projections/audit_entry.h"
#include "projections/key_index.h"

namespace authledger {

using json = nlohmann::json;

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

Status Projector::ApplyBatch(const std::vector<StoredEvent>& events) {
  rocksdb::WriteBatch wb;
  std::map<std::string, AccountState> touched;
  std::set<std::pair<std::string, std::string>> changed_keys;  // (account, key)
  Cursor pos = applied();
  for (const StoredEvent& se : events) {
    const std::uint32_t partition = PartitionOf(se.position);
    if (partition >= partitions_ || OffsetOf(se.position) != pos.offset(partition) + 1)
      return Status::Corruption("ledger position gap: expected " +
                                PositionToString(MakePosition(partition, partition < partitions_ ? pos.offset(partition) + 1 : 1)) +
                                ", got " + PositionToString(se.position));
    auto ev = DecodeEvent(se.bytes);
    if (!ev.ok()) return Status::Corruption("position " + PositionToString(se.position) + ": " + ev.status().message());
    auto it = touched.find(ev->account_id);
    if (it == touched.end()) {
      // The projector is the only writer of the accounts model, so its cache is exact.
      if (auto cached = cache_.find(ev->account_id); cached != cache_.end())
        it = touched.emplace(ev->account_id, cached->second).first;
    }
    if (it == touched.end()) {
      AccountState st;
      std::string stored;
      Status s = store_.Get(Cf::kAccounts, ev->account_id, &stored);
      if (s.ok()) {
        auto parsed = AccountStateFromJson(json::parse(stored, nullptr, false));
        if (!parsed.ok()) return parsed.status();
        st = std::move(parsed).value();
      } else if (s.code() != Status::Code::kNotFound) {
        return s;
      }
      it = touched.emplace(ev->account_id, std::move(st)).first;
    }
    const std::string hash = EventHash(se.bytes);
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
    if (auto k = EventKeyId(ev->data); !k.empty()) changed_keys.emplace(ev->account_id, std::string(k));
    wb.Put(store_.cf(Cf::kAudit), AuditKey(ev->account_id, se.position), AuditEntryToJson(*ev, se.position).dump());
    wb.Put(store_.cf(Cf::kAuditTime), AuditTimeKey(ev->account_id, ev->time, se.position), rocksdb::Slice());
    pos.Advance(se.position);
  }
  for (const auto& [account, key_id] : changed_keys) {
    const KeyState& k = touched.at(account).keys.at(key_id);
    wb.Put(store_.cf(Cf::kKeyIndex), key_id, EncodeKeyRecord(KeyRecord::FromState(account, k)));
    wb.Put(store_.cf(Cf::kAccountKeys), account + "/" + key_id, KeyStateToJson(k).dump());
  }
  for (const auto& [account, st] : touched) wb.Put(store_.cf(Cf::kAccounts), account, AccountStateToJson(st).dump());
  wb.Put(store_.cf(Cf::kMeta), "position", pos.Encode());
  Status s = store_.Write(&wb);
  if (!s.ok()) return s;
  if (cache_.size() + touched.size() > kMaxCachedAccounts) cache_.clear();
  for (auto& [account, st] : touched) cache_.insert_or_assign(account, std::move(st));
  {
    std::lock_guard lock(mu_);
    for (std::uint32_t p = 0; p < partitions_; ++p) applied_[p].store(pos.offset(p), std::memory_order_release);
  }
  applied_cv_.notify_all();
  return Status::Ok();
}

Status Projector::Step(std::size_t max) {
  std::vector<StoredEvent> events;
  Status s = log_.Read(applied(), max, &events);
  if (!s.ok() || events.empty()) return s;
  return ApplyBatch(events);
}

Status Projector::CatchUp(const std::function<void(const Cursor&)>& progress) {
  while (!Covers(log_.Heads())) {
    Status s = Step(kCatchUpBatchEvents);
    if (!s.ok()) {
      Fail(s);
      return s;
    }
    if (progress) progress(applied());
  }
  return Status::Ok();
}

Status Projector::CatchUpTo(const Cursor& limit, const std::function<void(const Cursor&)>& progress) {
  // Clamp to the heads; partitions already at their limit are read as if
  // consumed up to their head, so the log returns only events still wanted.
  const Cursor heads = log_.Heads();
  Cursor target(partitions_);
  for (std::uint32_t p = 0; p < partitions_ && p < limit.partitions(); ++p)
    target.Advance(MakePosition(p, std::min(limit.offset(p), heads.offset(p))));
  int idle_reads = 0;
  while (!Covers(target)) {
    const Cursor before = applied();
    Cursor read_from = before;
    std::uint64_t wanted = 0;
    for (std::uint32_t p = 0; p < partitions_; ++p) {
      if (before.offset(p) >= target.offset(p)) read_from.Advance(heads.at(p));
      else wanted += target.offset(p) - before.offset(p);
    }
    std::vector<StoredEvent> events;
    Status s = log_.Read(read_from, static_cast<std::size_t>(std::min<std::uint64_t>(kCatchUpBatchEvents, wanted)), &events);
    if (s.ok()) {
      std::erase_if(events, [&](const StoredEvent& e) { return !target.Covers(e.position); });
      // A remote log may answer empty while it fetches; only a log that keeps
      // answering nothing below the heads it reported is broken.
      if (events.empty() && ++idle_reads > kMaxIdleReads)
        s = Status::Corruption("the ledger returned no event after position " + before.ToString());
      else if (!events.empty()) {
        idle_reads = 0;
        s = ApplyBatch(events);
      }
    }
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
  std::vector<StoredEvent> events;
  while (!stop_.load(std::memory_order_acquire)) {
    Cursor heads = log_.WaitForAppend(applied(), std::chrono::milliseconds(200));
    if (stop_.load(std::memory_order_acquire)) break;
    if (Covers(heads)) continue;
    Status s = log_.Read(applied(), kBatchEvents, &events);
    if (!s.ok() && s.code() != Status::Code::kCorruption) {
      // The ledger is unreachable for now (a broker outage, a leader move): nothing
      // was applied, so try again; only damage to the ledger itself stops us.
      spdlog::warn("projector: reading the ledger failed, retrying: {}", s.ToString());
      std::unique_lock lock(mu_);
      applied_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return stop_.load(); });
      continue;
    }
    if (s.ok() && !events.empty()) s = ApplyBatch(events);
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
