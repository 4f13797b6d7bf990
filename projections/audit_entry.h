// The audit view (column family "audit"): one row per event, keyed so that an
// account's history reads in time order (newest first with a reverse scan).
//
//   key:   <account id> "/" u64 BE time ms (times before 1970 sort as 0) u64 BE position
//   value: the event's stored bytes, exactly as in the ledger
//
// The value is rendered for readers by AuditEntryToJson:
//   {"position":P, "id":"<event id>", "type":"...", "time":"RFC 3339",
//    "actor":{"type","id","email","ip","endpoint"} (email, ip, endpoint when known), "subject":"keys/<id>",
//    "account_seq":N, "key_id":"<id>" (key events), "client_id":"<id>" (client events), "changes":{event data without
//    its kLedgerOnly fields (keyed hashes)}}
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "domain/envelope.h"
#include "ledger/event_log.h"

namespace authledger {

std::string AuditPrefix(std::string_view account_id);  // "<account id>/"
std::string AuditKey(std::string_view account_id, TimeMs time, Position p);
void AppendAuditKey(std::string* out, std::string_view account_id, TimeMs time, Position p);  // AuditKey onto *out
// Decodes a key that starts with a prefix of `prefix_len` bytes; false if damaged.
bool ParseAuditKey(std::string_view key, std::size_t prefix_len, TimeMs* time, Position* p);
nlohmann::json AuditEntryToJson(const Event& e, Position p);

}  // namespace authledger
