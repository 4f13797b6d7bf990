// AuditQuery: reads one account's audit view through its time index
// (column family audit_time), newest or oldest first, filtered by time range,
// event types, key id, OAuth client id, actor id and source IP, paged by an opaque cursor.
//
// Each call examines at most `scan_budget` index entries, so a page stays fast
// however selective the filters are: when the budget runs out before `limit`
// entries matched, the page is shorter and `next` says where to continue.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/clock.h"
#include "projections/store.h"

namespace authledger {

struct AuditCursor {
  TimeMs time = 0;
  Position position = 0;
  std::string Encode() const;  // "<time>.<position>"
  static std::optional<AuditCursor> Decode(std::string_view text);
};

struct AuditFilter {
  std::optional<TimeMs> since;  // inclusive
  std::optional<TimeMs> until;  // inclusive
  std::set<std::string> types;  // empty: every type
  std::string key_id;           // "" : any
  std::string client_id;        // "" : any (an OAuth client's id)
  std::string actor_id;         // "" : any; matches the actor's id, or its email when it holds '@'
                                //      (give an email normalised by NormalizeEmail)
  std::string ip;               // "" : any (the actor's source IP)
  bool newest_first = true;
  std::optional<AuditCursor> after;  // continue after this entry (in the iteration order)
  std::size_t limit = 50;
  std::size_t scan_budget = 20000;
};

struct AuditResult {
  std::vector<nlohmann::json> entries;
  std::optional<AuditCursor> next;  // nullopt: nothing more in range
};

Result<AuditResult> QueryAudit(ProjectionStore& store, const std::string& account_id, const AuditFilter& filter);

}  // namespace authledger
