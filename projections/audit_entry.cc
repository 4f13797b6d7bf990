#include "projections/audit_entry.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "projections/store.h"

namespace authledger {

std::string AuditPrefix(std::string_view account_id) { return std::string(account_id) + "/"; }

void AppendAuditKey(std::string* out, std::string_view account_id, TimeMs time, Position p) {
  out->append(account_id);
  out->push_back('/');
  for (std::uint64_t v : {static_cast<std::uint64_t>(std::max<TimeMs>(time, 0)), p})
    for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::string AuditKey(std::string_view account_id, TimeMs time, Position p) {
  std::string key;
  key.reserve(account_id.size() + 17);
  AppendAuditKey(&key, account_id, time, p);
  return key;
}

bool ParseAuditKey(std::string_view key, std::size_t prefix_len, TimeMs* time, Position* p) {
  if (key.size() != prefix_len + 16) return false;
  std::uint64_t t = 0, pos = 0;
  for (std::size_t i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(key[prefix_len + i]);
  for (std::size_t i = 8; i < 16; ++i) pos = (pos << 8) | static_cast<unsigned char>(key[prefix_len + i]);
  *time = static_cast<TimeMs>(t);
  *p = pos;
  return true;
}

nlohmann::json AuditEntryToJson(const Event& e, Position p) {
  nlohmann::json changes = EventDataToAuditJson(e.data);  // never even a keyed hash (field_table.h kLedgerOnly)
  nlohmann::json actor = {{"type", e.actor.type}, {"id", e.actor.id}};
  if (!e.actor.email.empty()) actor["email"] = e.actor.email;
  if (!e.actor.ip.empty()) actor["ip"] = e.actor.ip;
  if (!e.actor.endpoint.empty()) actor["endpoint"] = e.actor.endpoint;
  nlohmann::json j = {{"position", p},
                      {"id", e.id},
                      {"type", std::string(EventType(e.data))},
                      {"time", FormatRfc3339(e.time)},
                      {"actor", actor},
                      {"subject", EventSubject(e.data)},
                      {"account_seq", e.seq},
                      {"changes", changes}};
  if (auto k = EventKeyId(e.data); !k.empty()) j["key_id"] = std::string(k);
  if (auto c = EventClientId(e.data); !c.empty()) j["client_id"] = std::string(c);
  return j;
}

}  // namespace authledger
