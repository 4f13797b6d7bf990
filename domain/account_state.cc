#include "domain/account_state.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace authledger {

using json = nlohmann::json;

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

std::size_t AccountState::CountLiveKeys(TimeMs now) const {
  std::size_t n = 0;
  for (const auto& [id, k] : keys) {
    auto s = k.StatusAt(now);
    if (s == KeyStatus::kActive || s == KeyStatus::kRotating) ++n;
  }
  return n;
}

namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void SortedUnion(std::vector<std::string>* into, const std::vector<std::string>& add) {
  into->insert(into->end(), add.begin(), add.end());
  std::sort(into->begin(), into->end());
  into->erase(std::unique(into->begin(), into->end()), into->end());
}

}  // namespace

Status Apply(AccountState* s, const Event& e, const std::string& stored_hash) {
  if (s->exists() && e.account_id != s->id)
    return Status::Corruption("event " + e.id + " belongs to another account");
  if (e.seq != s->seq + 1)
    return Status::Corruption("account " + e.account_id + ": expected seq " + std::to_string(s->seq + 1) +
                              ", got " + std::to_string(e.seq));
  if (e.prev_hash != s->head_hash)
    return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) +
                              ": prevhash does not match the previous event");
  bool ledger_chain = LedgerChainPartition(e.account_id).has_value();
  if (ledger_chain != std::holds_alternative<LedgerCheckpoint>(e.data))
    return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) +
                              (ledger_chain ? ": only checkpoints belong to the ledger chain"
                                            : ": a checkpoint outside the ledger chain"));
  if (!s->exists() && !ledger_chain && !std::holds_alternative<AccountCreated>(e.data))
    return Status::Corruption("account " + e.account_id + ": first event is not account.created");

  KeyState* key = nullptr;
  std::string_view key_id = EventKeyId(e.data);
  if (!key_id.empty() && !std::holds_alternative<KeyCreated>(e.data)) {
    auto it = s->keys.find(std::string(key_id));
    if (it == s->keys.end())
      return Status::Corruption("account " + e.account_id + " seq " + std::to_string(e.seq) +
                                ": unknown key " + std::string(key_id));
    key = &it->second;
  }

  Status st = std::visit(
      Overloaded{
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
            s->keys.emplace(d.key_id, std::move(k));
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
  s->seq = e.seq;
  s->head_hash = stored_hash;
  return Status::Ok();
}

// ---- JSON codec --------------------------------------------------------------

json KeyStateToJson(const KeyState& k) {
  json j = {{"id", k.id},
            {"name", k.name},
            {"environment", k.environment},
            {"scopes", k.scopes},
            {"secret_hash", k.secret_hash},
            {"created_at", k.created_at},
            {"created_by", k.created_by},
            {"allowed_cidrs", k.allowed_cidrs},
            {"revoke_reason", k.revoke_reason},
            {"last_used_ip", k.last_used_ip},
            {"use_count", k.use_count}};
  auto opt = [&](const char* n, const auto& v) {
    if (v) j[n] = *v;
  };
  opt("expires_at", k.expires_at);
  opt("rotated_from", k.rotated_from);
  opt("replaced_by", k.replaced_by);
  opt("grace_until", k.grace_until);
  opt("revoked_at", k.revoked_at);
  opt("last_used_at", k.last_used_at);
  return j;
}

Result<KeyState> KeyStateFromJson(const json& j) {
  try {
    KeyState k;
    k.id = j.at("id").get<std::string>();
    k.name = j.at("name").get<std::string>();
    k.environment = j.at("environment").get<std::string>();
    k.scopes = j.at("scopes").get<std::vector<std::string>>();
    k.secret_hash = j.at("secret_hash").get<std::string>();
    k.created_at = j.at("created_at").get<TimeMs>();
    k.created_by = j.at("created_by").get<std::string>();
    k.allowed_cidrs = j.at("allowed_cidrs").get<std::vector<std::string>>();
    k.revoke_reason = j.at("revoke_reason").get<std::string>();
    k.last_used_ip = j.at("last_used_ip").get<std::string>();
    k.use_count = j.at("use_count").get<std::uint64_t>();
    auto opt = [&](const char* n, auto* out) {
      if (auto it = j.find(n); it != j.end()) *out = it->get<typename std::decay_t<decltype(*out)>::value_type>();
    };
    opt("expires_at", &k.expires_at);
    opt("rotated_from", &k.rotated_from);
    opt("replaced_by", &k.replaced_by);
    opt("grace_until", &k.grace_until);
    opt("revoked_at", &k.revoked_at);
    opt("last_used_at", &k.last_used_at);
    return k;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("stored key state: ") + e.what());
  }
}

json AccountStateToJson(const AccountState& s) {
  json keys = json::object();
  for (const auto& [id, k] : s.keys) keys[id] = KeyStateToJson(k);
  return {{"id", s.id},     {"name", s.name},           {"created_at", s.created_at},
          {"seq", s.seq},   {"head_hash", s.head_hash}, {"keys", keys}};
}

Result<AccountState> AccountStateFromJson(const json& j) {
  try {
    AccountState s;
    s.id = j.at("id").get<std::string>();
    s.name = j.at("name").get<std::string>();
    s.created_at = j.at("created_at").get<TimeMs>();
    s.seq = j.at("seq").get<std::uint64_t>();
    s.head_hash = j.at("head_hash").get<std::string>();
    for (const auto& [id, kj] : j.at("keys").items()) {
      auto k = KeyStateFromJson(kj);
      if (!k.ok()) return k.status();
      s.keys.emplace(id, std::move(k).value());
    }
    return s;
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("stored account state: ") + e.what());
  }
}

}  // namespace authledger
