// The audit view's entry: one per event, keyed by account and position so an
// account's history reads newest-first with a reverse scan.
//
//   key:   <account id> "/" <u64 big-endian position>
//   value: {"position":P, "id":"<event id>", "type":"...", "time":"RFC 3339",
//           "actor":{"type","id","ip","endpoint"}, "subject":"keys/<id>",
//           "key_id":"<id>" (key events), "changes":{event data, secrets' hashes removed}}
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "domain/envelope.h"
#include "ledger/event_log.h"

namespace authledger {

std::string AuditKey(const std::string& account_id, Position p);
std::string AuditPrefix(const std::string& account_id);  // "<account id>/"
// The time index: "<account id>/" + u64 BE time + u64 BE position (times before
// 1970 sort as 0). Decodes back with ParseAuditTimeKey.
std::string AuditTimeKey(const std::string& account_id, TimeMs time, Position p);
bool ParseAuditTimeKey(std::string_view key, std::size_t prefix_len, TimeMs* time, Position* p);
nlohmann::json AuditEntryToJson(const Event& e, Position p);

}  // namespace authledger
