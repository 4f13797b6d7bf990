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

// A signed statement of every account chain's head, appended by the server at
// an interval and at shutdown. `covers_position` is the ledger position right
// before this event: the heads are exactly the chains' state there. The
// signature is Ed25519 over CheckpointMessage(covers_position, heads).
struct ChainHead {
  std::string account_id;
  std::uint64_t seq = 0;
  std::string hash;  // hex SHA-256 of the account's event `seq`
  bool operator==(const ChainHead&) const = default;
};
struct LedgerCheckpoint {
  static constexpr std::string_view kType = "io.authledger.ledger.checkpoint.v1";
  std::uint64_t covers_position = 0;
  std::vector<ChainHead> heads;  // sorted by account id; the ledger chain itself excluded
  std::string public_key;        // hex, 32 bytes
  std::string signature;         // hex, 64 bytes
};
// The exact bytes a checkpoint's signature covers:
//   "authledger-checkpoint-v1\n<covers_position>\n" + "<account> <seq> <hash>\n" per head.
std::string CheckpointMessage(std::uint64_t covers_position, const std::vector<ChainHead>& heads);

// Checkpoints form their own chains under reserved account ids, one per ledger
// partition: "acct_0000000000NN" for partition NN (00..31). kLedgerAccountId is
// partition 0's (the only one of a one-partition ledger).
inline constexpr std::string_view kLedgerAccountId = "acct_000000000000";
std::string LedgerAccountId(std::uint32_t partition);
// The partition whose checkpoint chain `account_id` is, or nullopt for any other account.
std::optional<std::uint32_t> LedgerChainPartition(std::string_view account_id);

struct KeyUsed {
  static constexpr std::string_view kType = "io.authledger.key.used.v1";
  std::string key_id;
  TimeMs last_used_at = 0;
  std::string ip;  // source IP of that use, "" if unknown
  std::uint64_t uses = 0;  // uses observed since the previous KeyUsed event
};

// An OAuth 2.0 client of the account. Confidential clients (auth method not
// "none") have a secret, stored as hex HMAC-SHA256(pepper, client_id ":" secret);
// public clients have none (secret_hash "").
struct ClientRegistered {
  static constexpr std::string_view kType = "io.authledger.client.registered.v1";
  std::string client_id;
  std::string name;
  std::string description;
  std::vector<std::string> redirect_uris;  // as registered, unique
  std::vector<std::string> scopes;         // sorted, unique
  std::vector<std::string> grant_types;    // sorted, unique
  std::string token_endpoint_auth_method;  // "client_secret_basic" | "client_secret_post" | "none"
  std::string secret_hash;                 // "" for a public client (the field is then absent)
};

struct ClientSecretRotated {  // the old secret stops working at once
  static constexpr std::string_view kType = "io.authledger.client.secret_rotated.v1";
  std::string client_id;
  std::string secret_hash;
};

struct ClientDeleted {  // terminal
  static constexpr std::string_view kType = "io.authledger.client.deleted.v1";
  std::string client_id;
  std::string reason;
};

using EventData = std::variant<AccountCreated, KeyCreated, KeyScopesGranted, KeyScopesRevoked, KeyRotated, KeyRevoked,
                               KeyUsed, LedgerCheckpoint, ClientRegistered, ClientSecretRotated, ClientDeleted>;

std::string_view EventType(const EventData& d);
// The CloudEvents subject: "keys/<id>" for key events, "clients/<id>" for
// client events, "checkpoint" for checkpoints, "account" otherwise.
std::string EventSubject(const EventData& d);
// The key an event is about, or "" for other events.
std::string_view EventKeyId(const EventData& d);
// The OAuth client an event is about, or "" for other events.
std::string_view EventClientId(const EventData& d);
// All known type names (for schema tests and docs).
std::vector<std::string_view> AllEventTypes();

nlohmann::json EventDataToJson(const EventData& d);
// Strict: unknown type, missing or mistyped field -> InvalidArgument.
Result<EventData> EventDataFromJson(std::string_view type, const nlohmann::json& j);

}  // namespace authledger
