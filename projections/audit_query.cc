#include "projections/audit_query.h"

#include <memory>

#include "domain/decimal.h"
#include "projections/audit_entry.h"

namespace authledger {

using json = nlohmann::json;

std::string AuditCursor::Encode() const { return std::to_string(time) + "." + std::to_string(position); }

std::optional<AuditCursor> AuditCursor::Decode(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || text.size() > 41) return std::nullopt;
  const auto t = ParseDecimal(text.substr(0, dot), INT64_MAX);
  const auto p = ParseDecimal(text.substr(dot + 1));
  if (!t || !p) return std::nullopt;
  return AuditCursor{static_cast<TimeMs>(*t), *p};
}

namespace {
bool Matches(const Event& e, const AuditFilter& f) {
  if (!f.types.empty() && !f.types.count(std::string(EventType(e.data)))) return false;
  if (!f.key_id.empty() && EventKeyId(e.data) != f.key_id) return false;
  if (!f.client_id.empty() && EventClientId(e.data) != f.client_id) return false;
  if (!f.actor_id.empty() && e.actor.id != f.actor_id && e.actor.email != f.actor_id) return false;
  if (!f.ip.empty() && e.actor.ip != f.ip) return false;
  return true;
}
}  // namespace

Result<AuditResult> QueryAudit(ProjectionStore& store, const std::string& account_id, const AuditFilter& f) {
  if (f.limit == 0) return Status::InvalidArgument("limit must be at least 1");
  const std::string prefix = AuditPrefix(account_id);
  const TimeMs since = f.since.value_or(0);
  const TimeMs until = f.until.value_or(INT64_MAX);
  AuditResult out;
  if (since > until) return out;
  rocksdb::ReadOptions ro;
  // Bound the scan to this account ('0' follows '/'): the iterator never steps into the next one.
  const std::string upper = account_id + "0";
  const rocksdb::Slice lower_bound(prefix), upper_bound(upper);
  ro.iterate_lower_bound = &lower_bound;
  ro.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(Cf::kAudit)));
  if (f.newest_first) {
    std::string start =
        f.after ? AuditKey(account_id, f.after->time, f.after->position) : AuditKey(account_id, until, UINT64_MAX);
    it->SeekForPrev(start);
    if (f.after && it->Valid() && it->key() == rocksdb::Slice(start)) it->Prev();
  } else {
    std::string start =
        f.after ? AuditKey(account_id, f.after->time, f.after->position) : AuditKey(account_id, since, 0);
    it->Seek(start);
    if (f.after && it->Valid() && it->key() == rocksdb::Slice(start)) it->Next();
  }
  std::size_t examined = 0;
  bool stopped_early = false;  // more entries may follow in range
  for (; it->Valid() && it->key().starts_with(prefix); f.newest_first ? it->Prev() : it->Next()) {
    TimeMs t = 0;
    Position pos = 0;
    if (!ParseAuditKey(it->key().ToStringView(), prefix.size(), &t, &pos))
      return Status::Corruption("audit view: damaged key for account " + account_id);
    if (f.newest_first ? t < since : t > until) break;  // left the range
    if (f.newest_first ? t > until : t < since) continue;
    if (out.entries.size() == f.limit || examined == f.scan_budget) {
      stopped_early = true;  // continue after the last entry examined
      break;
    }
    ++examined;
    auto ev = DecodeEvent(it->value().ToStringView());
    if (!ev.ok()) return Status::Corruption("audit view: damaged entry at position " + PositionToString(pos));
    out.next = AuditCursor{t, pos};
    if (Matches(*ev, f)) out.entries.push_back(AuditEntryToJson(*ev, pos));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  if (!stopped_early) out.next.reset();
  return out;
}

}  // namespace authledger
