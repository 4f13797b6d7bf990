#include "domain/account_state.h"

#include <algorithm>

#include "domain/ids.h"

namespace authledger {

std::string_view KeyStatusName(KeyStatus s) {
  switch (s) {
    case KeyStatus::kActive: return "active";
    case KeyStatus::kRotating: return "rotating";
    case KeyStatus::kExpired: return "expired";
    case KeyStatus::kRevoked: return "revoked";
  }
  return "unknown";
}

std::optional<TimeMs> KeyState::EndsAt() const {
  if (expires_at && grace_until) return std::min(*expires_at, *grace_until);
  return expires_at ? expires_at : grace_until;
}

KeyStatus KeyState::StatusAt(TimeMs now) const {
  if (revoked_at) return KeyStatus::kRevoked;
  auto ends = EndsAt();
  if (ends && now >= *ends) return KeyStatus::kExpired;
  if (replaced_by) return KeyStatus::kRotating;
  return KeyStatus::kActive;
}

const KeyState* AccountState::FindKey(const std::string& key_id) const {
  auto it = keys.find(key_id);
  return it == keys.end() ? nullptr : &it->second;
}

const ClientState* AccountState::FindClient(const std::string& client_id) const {
  auto it = clients.find(client_id);
  return it == clients.end() ? nullptr : &it->second;
}

std::size_t AccountState::CountLiveKeys(TimeMs now) const {
  auto ended =
      std::partition_point(ending_keys.begin(), ending_keys.end(), [&](const KeyEnd& k) { return k.at <= now; });
  return static_cast<std::size_t>(open_keys) + static_cast<std::size_t>(ending_keys.end() - ended);
}

AccountState AccountState::Header() const {
  AccountState h;
  h.id = id;
  h.name = name;
  h.created_at = created_at;
  h.seq = seq;
  h.head_hash = head_hash;
  h.last_event_time = last_event_time;
  h.open_keys = open_keys;
  h.ending_keys = ending_keys;
  h.active_clients = active_clients;
  return h;
}

EntityRefs EventRefs(const EventData& d) {
  EntityRefs refs;
  if (auto k = EventKeyId(d); !k.empty()) refs.keys.emplace_back(k);
  if (auto c = EventClientId(d); !c.empty()) refs.clients.emplace_back(c);
  if (const auto* created = std::get_if<KeyCreated>(&d); created && created->rotated_from)
    refs.keys.push_back(*created->rotated_from);
  if (const auto* rotated = std::get_if<KeyRotated>(&d)) refs.keys.push_back(rotated->replaced_by);
  return refs;
}

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// A key's part in the live-key counters (AccountState::CountLiveKeys): nothing once
// revoked, open_keys while it has no end, an ending_keys entry while its end is
// after the account's last event. An event that changes a key takes the part the
// key had (Uncount, with what CountedAs said before) and adds the part it has (Count).
struct CountedAs {
  bool revoked = false;
  std::optional<TimeMs> ends;
};
CountedAs CountOf(const KeyState& k) { return {k.revoked_at.has_value(), k.EndsAt()}; }

void Uncount(AccountState* s, const std::string& key_id, const CountedAs& was) {
  if (was.revoked) return;
  if (was.ends) {
    auto it = std::lower_bound(s->ending_keys.begin(), s->ending_keys.end(), KeyEnd{*was.ends, key_id});
    if (it != s->ending_keys.end() && it->at == *was.ends && it->key_id == key_id) s->ending_keys.erase(it);
  } else if (s->open_keys > 0) {
    --s->open_keys;
  }
}

void Count(AccountState* s, const KeyState& k) {
  if (k.revoked_at) return;
  if (auto ends = k.EndsAt()) {
    if (*ends <= s->last_event_time) return;  // already over
    KeyEnd entry{*ends, k.id};
    s->ending_keys.insert(std::lower_bound(s->ending_keys.begin(), s->ending_keys.end(), entry), std::move(entry));
  } else {
    ++s->open_keys;
  }
}

// Drops the keys that ended by the account's last event: they are no longer live
// at any later time, and the list stays as short as the live keys that end.
void PruneEnded(AccountState* s) {
  auto ended = std::partition_point(s->ending_keys.begin(), s->ending_keys.end(),
                                    [&](const KeyEnd& k) { return k.at <= s->last_event_time; });
  s->ending_keys.erase(s->ending_keys.begin(), ended);
}

void SortedUnion(std::vector<std::string>* into, const std::vector<std::string>& add) {
  into->insert(into->end(), add.begin(), add.end());
  std::sort(into->begin(), into->end());
  into->erase(std::unique(into->begin(), into->end()), into->end());
}

}  // namespace

Status Apply(AccountState* s, const Event& e, const std::string& stored_hash) {
  if (s->exists() && e.account_id != s->id) return Status::Corruption("event " + e.id + " belongs to another account");
  if (e.seq != s->seq + 1)
    return Status::Corruption("account " + e.account_id + ": expected seq " + std::to_string(s->seq + 1) + ", got " +
                              std::to_string(e.seq));
  if (e.prev_hash != s->head_hash)
    return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) +
                              ": prevhash does not match the previous event");
  bool ledger_chain = LedgerChainPartition(e.account_id).has_value();
  if (ledger_chain != std::holds_alternative<LedgerCheckpoint>(e.data))
    return Status::Corruption(
        "account " + e.account_id + " seq " + std::to_string(e.seq) +
        (ledger_chain ? ": only checkpoints belong to the ledger chain" : ": a checkpoint outside the ledger chain"));
  if (!s->exists() && !ledger_chain && !std::holds_alternative<AccountCreated>(e.data))
    return Status::Corruption("account " + e.account_id + ": first event is not account.created");

  // Every event about an existing key or client must name one this account has
  // (an empty or unknown id is damage, never a null pointer below).
  const bool about_key = std::visit([](const auto& d) { return AboutKey<decltype(d)>; }, e.data);
  const bool about_client = std::visit([](const auto& d) { return AboutClient<decltype(d)>; }, e.data);
  KeyState* key = nullptr;
  std::string_view key_id = EventKeyId(e.data);
  if (about_key && !std::holds_alternative<KeyCreated>(e.data)) {
    auto it = s->keys.find(std::string(key_id));
    if (it == s->keys.end())
      return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) + ": unknown key " +
                                std::string(key_id));
    key = &it->second;
  }
  ClientState* client = nullptr;
  std::string_view client_id = EventClientId(e.data);
  if (about_client && !std::holds_alternative<ClientRegistered>(e.data)) {
    auto it = s->clients.find(std::string(client_id));
    if (it == s->clients.end())
      return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) + ": unknown client " +
                                std::string(client_id));
    if (it->second.deleted())
      return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) + ": client " +
                                std::string(client_id) + " was deleted");
    client = &it->second;
  }

  const CountedAs key_was = key ? CountOf(*key) : CountedAs{};  // a rejected event must change nothing
  KeyState* created = nullptr;
  Status st =
      std::visit(Overloaded{
                     [&](const AccountCreated& d) -> Status {
                       if (s->exists()) return Status::Corruption("account created twice: " + e.account_id);
                       s->id = e.account_id;
                       s->name = d.name;
                       s->created_at = e.time;
                       return Status::Ok();
                     },
                     [&](const KeyCreated& d) -> Status {
                       if (s->keys.count(d.key_id)) return Status::Corruption("key created twice: " + d.key_id);
                       if (d.rotated_from && !s->keys.count(*d.rotated_from))
                         return Status::Corruption("key " + d.key_id + " rotated from unknown key " + *d.rotated_from);
                       KeyState k;
                       k.id = d.key_id;
                       k.name = d.name;
                       k.environment = d.environment;
                       k.scopes = d.scopes;
                       k.secret_hash = d.secret_hash;
                       k.created_at = e.time;
                       k.created_by = e.actor.id;
                       k.expires_at = d.expires_at;
                       k.allowed_cidrs = d.allowed_cidrs;
                       k.rotated_from = d.rotated_from;
                       created = &s->keys.emplace(d.key_id, std::move(k)).first->second;
                       return Status::Ok();
                     },
                     [&](const KeyScopesGranted& d) -> Status {
                       SortedUnion(&key->scopes, d.scopes);
                       return Status::Ok();
                     },
                     [&](const KeyScopesRevoked& d) -> Status {
                       std::erase_if(key->scopes, [&](const std::string& x) {
                         return std::find(d.scopes.begin(), d.scopes.end(), x) != d.scopes.end();
                       });
                       return Status::Ok();
                     },
                     [&](const KeyRotated& d) -> Status {
                       if (!s->keys.count(d.replaced_by))
                         return Status::Corruption("key " + d.key_id + " rotated to unknown key " + d.replaced_by);
                       key->replaced_by = d.replaced_by;
                       key->grace_until = d.grace_until;
                       return Status::Ok();
                     },
                     [&](const KeyRevoked& d) -> Status {
                       key->revoked_at = e.time;
                       key->revoke_reason = d.reason;
                       return Status::Ok();
                     },
                     [&](const LedgerCheckpoint&) -> Status {
                       if (!s->exists()) {
                         s->id = e.account_id;
                         s->name = "ledger";
                         s->created_at = e.time;
                       }
                       return Status::Ok();
                     },
                     [&](const ClientRegistered& d) -> Status {
                       if (!IsClientId(d.client_id))
                         return Status::Corruption("a client registered with a malformed id");
                       if (s->clients.count(d.client_id))
                         return Status::Corruption("client registered twice: " + d.client_id);
                       ClientState c;
                       c.id = d.client_id;
                       c.name = d.name;
                       c.description = d.description;
                       c.redirect_uris = d.redirect_uris;
                       c.scopes = d.scopes;
                       c.grant_types = d.grant_types;
                       c.token_endpoint_auth_method = d.token_endpoint_auth_method;
                       c.secret_hash = d.secret_hash;
                       if (c.confidential() == c.secret_hash.empty())
                         return Status::Corruption("client " + d.client_id +
                                                   ": a secret hash must come with a confidential "
                                                   "client and only with one");
                       c.created_at = e.time;
                       c.created_by = e.actor.id;
                       s->clients.emplace(d.client_id, std::move(c));
                       ++s->active_clients;
                       return Status::Ok();
                     },
                     [&](const ClientSecretRotated& d) -> Status {
                       if (!client->confidential())
                         return Status::Corruption("client " + d.client_id + " is public: it has no secret to rotate");
                       client->secret_hash = d.secret_hash;
                       client->secret_rotated_at = e.time;
                       return Status::Ok();
                     },
                     [&](const ClientDeleted& d) -> Status {
                       client->deleted_at = e.time;
                       client->delete_reason = d.reason;
                       if (s->active_clients > 0) --s->active_clients;
                       return Status::Ok();
                     },
                     [&](const KeyUsed& d) -> Status {
                       if (!key->last_used_at || d.last_used_at >= *key->last_used_at) {
                         key->last_used_at = d.last_used_at;
                         key->last_used_ip = d.ip;
                       }
                       key->use_count += d.uses;
                       return Status::Ok();
                     },
                 },
                 e.data);
  if (!st.ok()) return st;
  if (key) Uncount(s, key->id, key_was);
  s->last_event_time = std::max(s->last_event_time, e.time);
  PruneEnded(s);
  if (key) Count(s, *key);
  if (created) Count(s, *created);
  s->seq = e.seq;
  s->head_hash = stored_hash;
  return Status::Ok();
}

}  // namespace authledger
