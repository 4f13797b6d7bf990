#include "projections/audit_entry.h"

#include <nlohmann/json.hpp>

#include "projections/store.h"

namespace authledger {

std::string AuditPrefix(const std::string& account_id) { return account_id + "/"; }

std::string AuditKey(const std::string& account_id, Position p) {
  return AuditPrefix(account_id) + ProjectionStore::EncodePosition(p);
}

nlohmann::json AuditEntryToJson(const Event& e, Position p) {
  nlohmann::json changes = EventDataToJson(e.data);
  changes.erase("secret_hash");  // the audit view never shows even a keyed hash
  nlohmann::json actor = {{"type", e.actor.type}, {"id", e.actor.id}};
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
  return j;
}

}  // namespace authledger
