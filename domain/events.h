// Event data: one struct per versioned event type, and their JSON codecs.
//
// Types are "io.authledger.<aggregate>.<what>.v<N>". A type's data fields never
// change meaning; a new meaning is a new version. Every type has a JSON Schema
// in schemas/events/<type>.schema.json. No field ever holds a secret: keys appear only
// as their public id and HMAC hash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/clock.h"
#include "domain/status.h"

namespace authledger {

struct AccountCreated {
  static constexpr std::string_view kType = "io.authledger.account.created.v1";
  std::string name;
};

struct KeyCreated {
  static constexpr std::string_view kType = "io.authledger.key.created.v1";
  std::string key_id;
  std::string name;
  std::vector<std::string> scopes;  // sorted, unique
  std::string environment;          // "live" | "test"
  std::string secret_hash;          // hex HMAC-SHA256(pepper, id:secret)
  std::optional<TimeMs> expires_at;
  std::vector<std::string> allowed_cidrs;  // canonical CIDR text; empty = any IP
  std::optional<std::string> rotated_from;  // key id this one replaces
};

struct KeyScopesGranted {
  static constexpr std::string_view kType = "io.authledger.key.scopes_granted.v1";
  std::string key_id;
  std::vector<std::string> scopes;  // only the newly added ones, sorted
};

struct KeyScopesRevoked {
  static constexpr std::string_view kType = "io.authledger.key.scopes_revoked.v1";
  std::string key_id;
  std::vector<std::string> scopes;  // only the removed ones, sorted
};

struct KeyRotated {
  static constexpr std::string_view kType = "io.authledger.key.rotated.v1";
  std::string key_id;       // the old key
  std::string replaced_by;  // the new key's id
  TimeMs grace_until = 0;   // the old key stops working at this time
};

struct KeyRevoked {
  static constexpr std::string_view kType = "io.authledger.key.revoked.v1";
  std::string key_id;
  std::string reason;
};

struct KeyUsed {
  static constexpr std::string_view kType = "io.authledger.key.used.v1";
  std::string key_id;
  TimeMs last_used_at = 0;
  std::string ip;  // source IP of that use, "" if unknown
  std::uint64_t uses = 0;  // uses observed since the previous KeyUsed event
};

using EventData =
    std::variant<AccountCreated, KeyCreated, KeyScopesGranted, KeyScopesRevoked, KeyRotated, KeyRevoked, KeyUsed>;

std::string_view EventType(const EventData& d);
// The CloudEvents subject: "keys/<id>" for key events, "account" otherwise.
std::string EventSubject(const EventData& d);
// The key an event is about, or "" for account-level events.
std::string_view EventKeyId(const EventData& d);
// All known type names (for schema tests and docs).
std::vector<std::string_view> AllEventTypes();

nlohmann::json EventDataToJson(const EventData& d);
// Strict: unknown type, missing or mistyped field -> InvalidArgument.
Result<EventData> EventDataFromJson(std::string_view type, const nlohmann::json& j);

}  // namespace authledger
