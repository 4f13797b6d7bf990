// Event data: one struct per versioned event type, and their JSON codecs.
//
// Types are "io.authledger.<aggregate>.<what>.v<N>". A type's data fields never
// change meaning; a new meaning is a new version. Each struct lists its fields once,
// in Fields() (domain/field_table.h); the codecs, the audit view and the tests
// follow from that table. Every type has a JSON Schema in
// schemas/events/<type>.schema.json, and tests/unit/event_catalogue_test.cc fails,
// naming the file to edit, until the schema, the enums and a test sample agree with
// the table. No field ever holds a secret: keys appear only as their public id and
// HMAC hash. Adding a type: docs/architecture.md, "Adding an event type".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/clock.h"
#include "domain/field_table.h"
#include "domain/status.h"

namespace authledger {

struct AccountCreated {
  static constexpr std::string_view kType = "io.authledger.account.created.v1";
  std::string name;
  static constexpr auto Fields() { return std::tuple{Field("name", &AccountCreated::name)}; }
};

struct KeyCreated {
  static constexpr std::string_view kType = "io.authledger.key.created.v1";
  std::string key_id;
  std::string name;
  std::vector<std::string> scopes;  // sorted, unique
  std::string environment;          // "live" | "test"
  std::string secret_hash;          // hex HMAC-SHA256(pepper, id:secret)
  std::optional<TimeMs> expires_at;
  std::vector<std::string> allowed_cidrs;   // canonical CIDR text; empty = any IP
  std::optional<std::string> rotated_from;  // key id this one replaces
  static constexpr auto Fields() {
    using T = KeyCreated;
    return std::tuple{Field("key_id", &T::key_id),
                      Field("name", &T::name),
                      Field("scopes", &T::scopes),
                      Field("environment", &T::environment),
                      Field("secret_hash", &T::secret_hash, kRequired, kLedgerOnly),
                      Field("expires_at", &T::expires_at, kOmitEmpty),
                      Field("allowed_cidrs", &T::allowed_cidrs, kDefault),
                      Field("rotated_from", &T::rotated_from, kOmitEmpty)};
  }
};

struct KeyScopesGranted {
  static constexpr std::string_view kType = "io.authledger.key.scopes_granted.v1";
  std::string key_id;
  std::vector<std::string> scopes;  // only the newly added ones, sorted
  static constexpr auto Fields() {
    return std::tuple{Field("key_id", &KeyScopesGranted::key_id), Field("scopes", &KeyScopesGranted::scopes)};
  }
};

struct KeyScopesRevoked {
  static constexpr std::string_view kType = "io.authledger.key.scopes_revoked.v1";
  std::string key_id;
  std::vector<std::string> scopes;  // only the removed ones, sorted
  static constexpr auto Fields() {
    return std::tuple{Field("key_id", &KeyScopesRevoked::key_id), Field("scopes", &KeyScopesRevoked::scopes)};
  }
};

struct KeyRotated {
  static constexpr std::string_view kType = "io.authledger.key.rotated.v1";
  std::string key_id;       // the old key
  std::string replaced_by;  // the new key's id
  TimeMs grace_until = 0;   // the old key stops working at this time
  static constexpr auto Fields() {
    return std::tuple{Field("key_id", &KeyRotated::key_id), Field("replaced_by", &KeyRotated::replaced_by),
                      Field("grace_until", &KeyRotated::grace_until)};
  }
};

struct KeyRevoked {
  static constexpr std::string_view kType = "io.authledger.key.revoked.v1";
  std::string key_id;
  std::string reason;
  static constexpr auto Fields() {
    return std::tuple{Field("key_id", &KeyRevoked::key_id), Field("reason", &KeyRevoked::reason, kDefault)};
  }
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
  static constexpr auto Fields() {
    return std::tuple{Field("account_id", &ChainHead::account_id), Field("seq", &ChainHead::seq),
                      Field("hash", &ChainHead::hash)};
  }
};
struct LedgerCheckpoint {
  static constexpr std::string_view kType = "io.authledger.ledger.checkpoint.v1";
  std::uint64_t covers_position = 0;
  std::vector<ChainHead> heads;  // sorted by account id; the ledger chain itself excluded
  std::string public_key;        // hex, 32 bytes
  std::string signature;         // hex, 64 bytes
  // Checkpoint format 2 (docs/ledger-format.md): a signed tree head of the
  // partition's Merkle tree (domain/merkle_tree.h) over its events before this
  // one. Absent from format-1 checkpoints, which still verify without them.
  std::optional<std::uint64_t> tree_size;     // leaves: the partition's events before this one
  std::optional<std::string> tree_root;       // hex RFC 9162 root of those leaves
  std::optional<std::string> tree_signature;  // hex Ed25519 over TreeHeadMessage, by public_key
  static constexpr auto Fields() {
    using T = LedgerCheckpoint;
    return std::tuple{Field("covers_position", &T::covers_position),
                      Field("heads", &T::heads),
                      Field("public_key", &T::public_key),
                      Field("signature", &T::signature),
                      Field("tree_size", &T::tree_size, kOmitEmpty),
                      Field("tree_root", &T::tree_root, kOmitEmpty),
                      Field("tree_signature", &T::tree_signature, kOmitEmpty)};
  }
};
// The exact bytes a checkpoint's signature covers:
//   "authledger-checkpoint-v1\n<covers_position>\n" + "<account> <seq> <hash>\n" per head.
std::string CheckpointMessage(std::uint64_t covers_position, const std::vector<ChainHead>& heads);
// The exact bytes a signed tree head's signature covers (`timestamp` is the
// checkpoint event's time, Unix milliseconds; `root_hex` lowercase hex):
//   "authledger-tree-head-v1\n<partition>\n<tree_size>\n<root_hex>\n<timestamp>\n"
std::string TreeHeadMessage(std::uint32_t partition, std::uint64_t tree_size, std::string_view root_hex,
                            TimeMs timestamp);

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
  std::string ip;          // source IP of that use, "" if unknown
  std::uint64_t uses = 0;  // uses observed since the previous KeyUsed event
  static constexpr auto Fields() {
    return std::tuple{Field("key_id", &KeyUsed::key_id), Field("last_used_at", &KeyUsed::last_used_at),
                      Field("ip", &KeyUsed::ip, kDefault), Field("uses", &KeyUsed::uses)};
  }
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
  static constexpr auto Fields() {
    using T = ClientRegistered;
    return std::tuple{Field("client_id", &T::client_id),
                      Field("name", &T::name),
                      Field("description", &T::description),
                      Field("redirect_uris", &T::redirect_uris),
                      Field("scopes", &T::scopes),
                      Field("grant_types", &T::grant_types),
                      Field("token_endpoint_auth_method", &T::token_endpoint_auth_method),
                      Field("secret_hash", &T::secret_hash, kOmitEmpty, kLedgerOnly)};
  }
};

struct ClientSecretRotated {  // the old secret stops working at once
  static constexpr std::string_view kType = "io.authledger.client.secret_rotated.v1";
  std::string client_id;
  std::string secret_hash;
  static constexpr auto Fields() {
    return std::tuple{Field("client_id", &ClientSecretRotated::client_id),
                      Field("secret_hash", &ClientSecretRotated::secret_hash, kRequired, kLedgerOnly)};
  }
};

struct ClientDeleted {  // terminal
  static constexpr std::string_view kType = "io.authledger.client.deleted.v1";
  std::string client_id;
  std::string reason;
  static constexpr auto Fields() {
    return std::tuple{Field("client_id", &ClientDeleted::client_id), Field("reason", &ClientDeleted::reason, kDefault)};
  }
};

// Every event type, once. The order is not stored anywhere (events carry their
// type name), so a new type may go anywhere; keep an aggregate's types together.
using EventData = std::variant<AccountCreated, KeyCreated, KeyScopesGranted, KeyScopesRevoked, KeyRotated, KeyRevoked,
                               KeyUsed, LedgerCheckpoint, ClientRegistered, ClientSecretRotated, ClientDeleted>;

// Event data about one API key (it has a key_id) / one OAuth client (a client_id).
template <typename T>
concept AboutKey = requires(const T& t) {
  t.key_id;
};
template <typename T>
concept AboutClient = requires(const T& t) {
  t.client_id;
};

// Calls f(std::type_identity<T>{}) for every type T in EventData, in order.
template <typename F>
constexpr void ForEachEventType(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(std::type_identity<std::variant_alternative_t<I, EventData>>{}), ...);
  }
  (std::make_index_sequence<std::variant_size_v<EventData>>{});
}

static_assert(
    [] {
      bool ok = ValidFieldTable<ChainHead>();
      ForEachEventType([&](auto type) { ok = ok && ValidFieldTable<typename decltype(type)::type>(); });
      return ok;
    }(),
    "every event type's Fields() must list unique snake_case names (domain/field_table.h)");

std::string_view EventType(const EventData& d);
// The CloudEvents subject: "keys/<id>" for key events, "clients/<id>" for
// client events, "checkpoint" for checkpoints, "account" otherwise.
std::string EventSubject(const EventData& d);
// The key an event is about, or "" for other events.
std::string_view EventKeyId(const EventData& d);
// The OAuth client an event is about, or "" for other events.
std::string_view EventClientId(const EventData& d);
// All known type names, in EventData's order (for schema tests and docs).
std::vector<std::string_view> AllEventTypes();

// The `data` object of an event, as stored (field_table.h says what is written).
nlohmann::json EventDataToJson(const EventData& d);
// The same without the fields kept out of the audit view (keyed hashes).
nlohmann::json EventDataToAuditJson(const EventData& d);
// Strict: unknown type, missing or mistyped field -> InvalidArgument naming the
// type and the field. Members the table does not know are ignored.
Result<EventData> EventDataFromJson(std::string_view type, const nlohmann::json& j);

}  // namespace authledger
