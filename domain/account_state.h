// The account aggregate as a write model: the account's header (chain head and the
// counters its rules need) plus only the keys and OAuth clients loaded for the
// decision at hand — never all of them, so no command or projection step costs
// more as an account grows. Apply() is the only way the state changes, and it
// checks the chain: each event must carry seq+1 and the hash of the previous
// event's stored bytes; an event about a key or client must find it loaded.
//
// Apply() runs on both sides of the ledger, and the two must agree:
//   - in the command (CommandContext::Execute, commands/command_context.cc), on
//     the events just decided and before they are appended: to build the
//     outcome the caller answers with, and to check that the command's own
//     events continue the chain (a failure there is a bug, not bad input);
//   - in the projector (projections/projector.cc), on every event read from the
//     ledger: to build the read models.
// So a change to what an event does to the state is made here once, and shows
// in a write's response and in the read models alike; Apply must stay a pure
// function of (state, event, stored hash) — no clock, no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/envelope.h"

namespace authledger {

// A key's effective status at some time (expiry and grace end are computed, not
// stored, so no event is needed when time passes).
enum class KeyStatus { kActive, kRotating, kExpired, kRevoked };
std::string_view KeyStatusName(KeyStatus s);  // "active", "rotating", "expired", "revoked"

struct KeyState {
  std::string id;
  std::string name;
  std::string environment;
  std::vector<std::string> scopes;  // sorted, unique
  std::string secret_hash;          // hex
  TimeMs created_at = 0;
  std::string created_by;  // actor id
  std::optional<TimeMs> expires_at;
  std::vector<std::string> allowed_cidrs;
  std::optional<std::string> rotated_from;
  std::optional<std::string> replaced_by;
  std::optional<TimeMs> grace_until;
  std::optional<TimeMs> revoked_at;
  std::string revoke_reason;
  std::optional<TimeMs> last_used_at;
  std::string last_used_ip;
  std::uint64_t use_count = 0;

  bool operator==(const KeyState&) const = default;
  KeyStatus StatusAt(TimeMs now) const;
  // When the key stops working, if it does (revocation excluded): the earlier of
  // expires_at and grace_until.
  std::optional<TimeMs> EndsAt() const;
};

// An OAuth client as registered (events.h ClientRegistered), with its history.
struct ClientState {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> scopes;       // sorted, unique
  std::vector<std::string> grant_types;  // sorted, unique
  std::string token_endpoint_auth_method;
  std::string secret_hash;  // hex; "" for a public client
  TimeMs created_at = 0;
  std::string created_by;  // actor id
  std::optional<TimeMs> secret_rotated_at;
  std::optional<TimeMs> deleted_at;
  std::string delete_reason;

  bool operator==(const ClientState&) const = default;
  bool confidential() const { return token_endpoint_auth_method != "none"; }
  bool deleted() const { return deleted_at.has_value(); }
};

// A not-revoked key that stops working at `at` (its expiry or rotation grace end).
struct KeyEnd {
  TimeMs at = 0;
  std::string key_id;
  auto operator<=>(const KeyEnd&) const = default;
};

// The keys and OAuth clients a decision, or an event, is about (EventRefs).
struct EntityRefs {
  std::vector<std::string> keys;
  std::vector<std::string> clients;
  static EntityRefs Keys(std::vector<std::string> ids) { return EntityRefs{std::move(ids), {}}; }
  static EntityRefs Clients(std::vector<std::string> ids) { return EntityRefs{{}, std::move(ids)}; }
};
// Every key and client `d` names, that Apply() needs loaded: the key or client it
// is about, and the key a rotation replaces or is replaced by.
EntityRefs EventRefs(const EventData& d);

struct AccountState {
  std::string id;  // empty until AccountCreated is applied
  std::string name;
  TimeMs created_at = 0;
  std::uint64_t seq = 0;                 // last applied account sequence
  std::string head_hash = kGenesisHash;  // hash of the last applied event's bytes
  TimeMs last_event_time = 0;            // the latest time of any applied event

  // Counters Apply keeps from the events alone (no clock), so limits need no scan:
  std::uint64_t open_keys = 0;       // keys neither revoked nor ending (no expiry, not rotated)
  std::vector<KeyEnd> ending_keys;   // sorted: not revoked, ending after last_event_time
  std::uint64_t active_clients = 0;  // registered, not deleted

  // The write model's entities: the keys and clients loaded for this decision (a
  // command names those it needs; the projector those its events touch), and any
  // its events created. Absent here does not mean absent from the account.
  std::map<std::string, KeyState> keys;
  std::map<std::string, ClientState> clients;

  bool operator==(const AccountState&) const = default;
  bool exists() const { return !id.empty(); }
  // A loaded key or client, or nullptr.
  const KeyState* FindKey(const std::string& key_id) const;
  const ClientState* FindClient(const std::string& client_id) const;
  std::size_t CountActiveClients() const { return active_clients; }
  // Keys that are active or rotating at `now`, from the counters. (A key that
  // ended at or before last_event_time is never counted, so if the clock were
  // ever set back before the account's last event, such a key would be missing.)
  std::size_t CountLiveKeys(TimeMs now) const;
  // The header alone: this state without its loaded keys and clients.
  AccountState Header() const;
};

// Applies one decoded event whose stored bytes hash to `stored_hash`.
// Corruption if the event does not continue the chain (wrong account, seq gap,
// prevhash mismatch) or refers to a key or client that does not exist.
Status Apply(AccountState* state, const Event& e, const std::string& stored_hash);

}  // namespace authledger
