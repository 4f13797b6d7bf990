#include "projections/projector.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <rocksdb/write_batch.h>

#include "domain/account_state.h"
#include "projections/audit_entry.h"
#include "projections/key_index.h"

namespace authledger {

using json = nlohmann::json;

Projector::Projector(EventLog& log, ProjectionStore& store) : log_(log), store_(store) {}

Projector::~Projector() { Stop(); }

Status Projector::Init() {
  auto p = store_.LoadPosition();
  if (!p.ok()) return p.status();
  if (*p > log_.Head())
    return Status::Corruption("projections are at position " + std::to_string(*p) + " but the ledger ends at " +
                              std::to_string(log_.Head()) + "; run `authledger rebuild`");
  applied_.store(*p, std::memory_order_release);
  return Status::Ok();
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
  Position pos = applied();
  for (const StoredEvent& se : events) {
    if (se.position != pos + 1)
      return Status::Corruption("ledger position gap: expected " + std::to_string(pos + 1) + ", got " +
                                std::to_string(se.position));
    auto ev = DecodeEvent(se.bytes);
    if (!ev.ok()) return Status::Corruption("position " + std::to_string(se.position) + ": " + ev.status().message());
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
    Status s = Apply(&it->second, *ev, EventHash(se.bytes));
    if (!s.ok()) return Status::Corruption("position " + std::to_string(se.position) + ": " + s.message());
    if (auto k = EventKeyId(ev->data); !k.empty()) changed_keys.emplace(ev->account_id, std::string(k));
    wb.Put(store_.cf(Cf::kAudit), AuditKey(ev->account_id, se.position), AuditEntryToJson(*ev, se.position).dump());
    wb.Put(store_.cf(Cf::kAuditTime), AuditTimeKey(ev->account_id, ev->time, se.position), rocksdb::Slice());
    pos = se.position;
  }
  for (const auto& [account, key_id] : changed_keys) {
    const KeyState& k = touched.at(account).keys.at(key_id);
    wb.Put(store_.cf(Cf::kKeyIndex), key_id, EncodeKeyRecord(KeyRecord::FromState(account, k)));
    wb.Put(store_.cf(Cf::kAccountKeys), account + "/" + key_id, KeyStateToJson(k).dump());
  }
  for (const auto& [account, st] : touched) wb.Put(store_.cf(Cf::kAccounts), account, AccountStateToJson(st).dump());
  wb.Put(store_.cf(Cf::kMeta), "position", ProjectionStore::EncodePosition(pos));
  Status s = store_.Write(&wb);
  if (!s.ok()) return s;
  if (cache_.size() + touched.size() > kMaxCachedAccounts) cache_.clear();
  for (auto& [account, st] : touched) cache_.insert_or_assign(account, std::move(st));
  {
    std::lock_guard lock(mu_);
    applied_.store(pos, std::memory_order_release);
  }
  applied_cv_.notify_all();
  return Status::Ok();
}

Status Projector::Step(std::size_t max) {
  std::vector<StoredEvent> events;
  Status s = log_.Read(applied() + 1, max, &events);
  if (!s.ok() || events.empty()) return s;
  return ApplyBatch(events);
}

Status Projector::CatchUp(const std::function<void(Position)>& progress) {
  while (applied() < log_.Head()) {
    Status s = Step(kCatchUpBatchEvents);
    if (!s.ok()) {
      Fail(s);
      return s;
    }
    if (progress) progress(applied());
  }
  return Status::Ok();
}

Status Projector::CatchUpTo(Position limit, const std::function<void(Position)>& progress) {
  limit = std::min(limit, log_.Head());
  while (applied() < limit) {
    Position before = applied();
    Status s = Step(static_cast<std::size_t>(std::min<Position>(kCatchUpBatchEvents, limit - before)));
    if (s.ok() && applied() == before)
      s = Status::Corruption("the ledger returned no event at position " + std::to_string(before + 1));
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
  while (!stop_.load(std::memory_order_acquire)) {
    Position head = log_.WaitForAppend(applied(), std::chrono::milliseconds(200));
    if (stop_.load(std::memory_order_acquire)) break;
    if (head <= applied()) continue;
    Status s = Step();
    if (!s.ok()) {
      Fail(s);
      return;  // stop loudly: health() reports it, /readyz fails
    }
  }
}

Status Projector::WaitApplied(Position p, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool done = applied_cv_.wait_for(lock, timeout, [&] { return applied() >= p || !failure_.ok(); });
  if (!failure_.ok()) return failure_;
  if (!done) return Status::Unavailable("projections have not reached position " + std::to_string(p) + " yet");
  return Status::Ok();
}

}  // namespace authledger
