#include "projections/audit_query.h"

#include <memory>

#include "projections/audit_entry.h"

namespace authledger {

using json = nlohmann::json;

std::string AuditCursor::Encode() const { return std::to_string(time) + "." + std::to_string(position); }

std::optional<AuditCursor> AuditCursor::Decode(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size() || text.size() > 41) return std::nullopt;
  auto num = [](std::string_view s, std::uint64_t* out) {
    std::uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return false;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    *out = v;
    return true;
  };
  std::uint64_t t = 0, p = 0;
  if (!num(text.substr(0, dot), &t) || !num(text.substr(dot + 1), &p) || t > INT64_MAX) return std::nullopt;
  return AuditCursor{static_cast<TimeMs>(t), p};
}

namespace {
bool Matches(const json& e, const AuditFilter& f) {
  if (!f.types.empty() && !f.types.count(e.value("type", ""))) return false;
  if (!f.key_id.empty() && e.value("key_id", "") != f.key_id) return false;
  const json& actor = e.contains("actor") ? e["actor"] : json::object();
  if (!f.actor_id.empty() && actor.value("id", "") != f.actor_id) return false;
  if (!f.ip.empty() && actor.value("ip", "") != f.ip) return false;
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
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(Cf::kAuditTime)));
  if (f.newest_first) {
    std::string start = f.after ? AuditTimeKey(account_id, f.after->time, f.after->position)
                                : AuditTimeKey(account_id, until, UINT64_MAX);
    it->SeekForPrev(start);
    if (f.after && it->Valid() && it->key() == rocksdb::Slice(start)) it->Prev();
  } else {
    std::string start = f.after ? AuditTimeKey(account_id, f.after->time, f.after->position)
                                : AuditTimeKey(account_id, since, 0);
    it->Seek(start);
    if (f.after && it->Valid() && it->key() == rocksdb::Slice(start)) it->Next();
  }
  std::size_t examined = 0;
  for (; it->Valid() && it->key().starts_with(prefix); f.newest_first ? it->Prev() : it->Next()) {
    TimeMs t = 0;
    Position pos = 0;
    if (!ParseAuditTimeKey(it->key().ToStringView(), prefix.size(), &t, &pos))
      return Status::Corruption("audit time index: damaged key for account " + account_id);
    if (f.newest_first ? t < since : t > until) break;  // left the range
    if (f.newest_first ? t > until : t < since) continue;
    if (out.entries.size() == f.limit || examined == f.scan_budget) {
      // More may follow: continue after the last entry examined.
      break;
    }
    ++examined;
    std::string value;
    Status s = store.Get(Cf::kAudit, AuditKey(account_id, pos), &value);
    if (!s.ok()) return s.code() == Status::Code::kNotFound ? Status::Corruption("audit entry missing for position " + std::to_string(pos)) : s;
    json entry = json::parse(value, nullptr, false);
    if (entry.is_discarded() || !entry.is_object())
      return Status::Corruption("audit view: damaged entry at position " + std::to_string(pos));
    out.next = AuditCursor{t, pos};
    if (Matches(entry, f)) out.entries.push_back(std::move(entry));
  }
  if (!it->status().ok()) return FromRocks(it->status());
  // `next` is only needed if the loop stopped early inside the range.
  bool stopped_early = it->Valid() && it->key().starts_with(prefix) && (out.entries.size() == f.limit || examined == f.scan_budget);
  if (stopped_early) {
    TimeMs t = 0;
    Position pos = 0;
    ParseAuditTimeKey(it->key().ToStringView(), prefix.size(), &t, &pos);
    if (f.newest_first ? t < since : t > until) stopped_early = false;
  }
  if (!stopped_early) out.next.reset();
  return out;
}

}  // namespace authledger
