#include "domain/events.h"

#include <nlohmann/json.hpp>

namespace authledger {

using json = nlohmann::json;

namespace {

// Field readers that turn a mistyped field into a Status instead of an exception.
struct Reader {
  const json& j;
  std::string error;

  const json* Field(const char* name, bool required) {
    auto it = j.find(name);
    if (it == j.end() || it->is_null()) {
      if (required && error.empty()) error = std::string("missing field '") + name + "'";
      return nullptr;
    }
    return &*it;
  }
  void Str(const char* name, std::string* out, bool required = true) {
    if (auto* f = Field(name, required)) {
      if (f->is_string()) *out = f->get<std::string>();
      else if (error.empty()) error = std::string("field '") + name + "' must be a string";
    }
  }
  void OptStr(const char* name, std::optional<std::string>* out) {
    std::string s;
    if (Field(name, false)) {
      Str(name, &s);
      *out = s;
    }
  }
  void Int(const char* name, std::int64_t* out, bool required = true) {
    if (auto* f = Field(name, required)) {
      if (f->is_number_integer()) *out = f->get<std::int64_t>();
      else if (error.empty()) error = std::string("field '") + name + "' must be an integer";
    }
  }
  void Uint(const char* name, std::uint64_t* out) {
    std::int64_t v = 0;
    Int(name, &v);
    if (v < 0 && error.empty()) error = std::string("field '") + name + "' must be >= 0";
    *out = static_cast<std::uint64_t>(v);
  }
  void OptTime(const char* name, std::optional<TimeMs>* out) {
    if (Field(name, false)) {
      std::int64_t v = 0;
      Int(name, &v);
      *out = v;
    }
  }
  void StrList(const char* name, std::vector<std::string>* out, bool required = true) {
    if (auto* f = Field(name, required)) {
      if (!f->is_array()) {
        if (error.empty()) error = std::string("field '") + name + "' must be an array";
        return;
      }
      for (const auto& e : *f) {
        if (!e.is_string()) {
          if (error.empty()) error = std::string("field '") + name + "' must hold strings";
          return;
        }
        out->push_back(e.get<std::string>());
      }
    }
  }
};

json ToJson(const AccountCreated& e) { return {{"name", e.name}}; }
json ToJson(const KeyCreated& e) {
  json j = {{"key_id", e.key_id},           {"name", e.name},
            {"scopes", e.scopes},           {"environment", e.environment},
            {"secret_hash", e.secret_hash}, {"allowed_cidrs", e.allowed_cidrs}};
  if (e.expires_at) j["expires_at"] = *e.expires_at;
  if (e.rotated_from) j["rotated_from"] = *e.rotated_from;
  return j;
}
json ToJson(const KeyScopesGranted& e) { return {{"key_id", e.key_id}, {"scopes", e.scopes}}; }
json ToJson(const KeyScopesRevoked& e) { return {{"key_id", e.key_id}, {"scopes", e.scopes}}; }
json ToJson(const KeyRotated& e) {
  return {{"key_id", e.key_id}, {"replaced_by", e.replaced_by}, {"grace_until", e.grace_until}};
}
json ToJson(const KeyRevoked& e) { return {{"key_id", e.key_id}, {"reason", e.reason}}; }
json ToJson(const KeyUsed& e) {
  return {{"key_id", e.key_id}, {"last_used_at", e.last_used_at}, {"ip", e.ip}, {"uses", e.uses}};
}

json ToJson(const LedgerCheckpoint& e) {
  json heads = json::array();
  for (const auto& h : e.heads) heads.push_back({{"account_id", h.account_id}, {"seq", h.seq}, {"hash", h.hash}});
  return {{"covers_position", e.covers_position}, {"heads", heads}, {"public_key", e.public_key},
          {"signature", e.signature}};
}

json ToJson(const ClientRegistered& e) {
  json j = {{"client_id", e.client_id},         {"name", e.name},
            {"description", e.description},     {"redirect_uris", e.redirect_uris},
            {"scopes", e.scopes},               {"grant_types", e.grant_types},
            {"token_endpoint_auth_method", e.token_endpoint_auth_method}};
  if (!e.secret_hash.empty()) j["secret_hash"] = e.secret_hash;
  return j;
}
json ToJson(const ClientSecretRotated& e) { return {{"client_id", e.client_id}, {"secret_hash", e.secret_hash}}; }
json ToJson(const ClientDeleted& e) { return {{"client_id", e.client_id}, {"reason", e.reason}}; }

template <typename T>
Result<EventData> Finish(Reader& r, T value) {
  if (!r.error.empty()) return Status::InvalidArgument(std::string(T::kType) + ": " + r.error);
  return EventData(std::move(value));
}

}  // namespace

std::string_view EventType(const EventData& d) {
  return std::visit([](const auto& e) { return std::decay_t<decltype(e)>::kType; }, d);
}

std::string CheckpointMessage(std::uint64_t covers_position, const std::vector<ChainHead>& heads) {
  std::string m = "authledger-checkpoint-v1\n" + std::to_string(covers_position) + "\n";
  for (const auto& h : heads) m += h.account_id + " " + std::to_string(h.seq) + " " + h.hash + "\n";
  return m;
}

std::string_view EventKeyId(const EventData& d) {
  return std::visit(
      [](const auto& e) -> std::string_view {
        if constexpr (requires { e.key_id; }) return e.key_id;
        else return {};
      },
      d);
}

std::string_view EventClientId(const EventData& d) {
  return std::visit(
      [](const auto& e) -> std::string_view {
        if constexpr (requires { e.client_id; }) return e.client_id;
        else return {};
      },
      d);
}

std::string EventSubject(const EventData& d) {
  if (std::holds_alternative<LedgerCheckpoint>(d)) return "checkpoint";
  if (std::string_view k = EventKeyId(d); !k.empty()) return "keys/" + std::string(k);
  if (std::string_view c = EventClientId(d); !c.empty()) return "clients/" + std::string(c);
  return "account";
}

std::vector<std::string_view> AllEventTypes() {
  return {AccountCreated::kType,   KeyCreated::kType,       KeyScopesGranted::kType,    KeyScopesRevoked::kType,
          KeyRotated::kType,       KeyRevoked::kType,       KeyUsed::kType,             LedgerCheckpoint::kType,
          ClientRegistered::kType, ClientSecretRotated::kType, ClientDeleted::kType};
}

json EventDataToJson(const EventData& d) {
  return std::visit([](const auto& e) { return ToJson(e); }, d);
}

Result<EventData> EventDataFromJson(std::string_view type, const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("event data must be an object");
  Reader r{j, {}};
  if (type == AccountCreated::kType) {
    AccountCreated e;
    r.Str("name", &e.name);
    return Finish(r, std::move(e));
  }
  if (type == KeyCreated::kType) {
    KeyCreated e;
    r.Str("key_id", &e.key_id);
    r.Str("name", &e.name);
    r.StrList("scopes", &e.scopes);
    r.Str("environment", &e.environment);
    r.Str("secret_hash", &e.secret_hash);
    r.OptTime("expires_at", &e.expires_at);
    r.StrList("allowed_cidrs", &e.allowed_cidrs, false);
    r.OptStr("rotated_from", &e.rotated_from);
    return Finish(r, std::move(e));
  }
  if (type == KeyScopesGranted::kType || type == KeyScopesRevoked::kType) {
    std::string key_id;
    std::vector<std::string> scopes;
    r.Str("key_id", &key_id);
    r.StrList("scopes", &scopes);
    if (type == KeyScopesGranted::kType) return Finish(r, KeyScopesGranted{key_id, scopes});
    return Finish(r, KeyScopesRevoked{key_id, scopes});
  }
  if (type == KeyRotated::kType) {
    KeyRotated e;
    r.Str("key_id", &e.key_id);
    r.Str("replaced_by", &e.replaced_by);
    r.Int("grace_until", &e.grace_until);
    return Finish(r, std::move(e));
  }
  if (type == KeyRevoked::kType) {
    KeyRevoked e;
    r.Str("key_id", &e.key_id);
    r.Str("reason", &e.reason, false);
    return Finish(r, std::move(e));
  }
  if (type == KeyUsed::kType) {
    KeyUsed e;
    r.Str("key_id", &e.key_id);
    r.Int("last_used_at", &e.last_used_at);
    r.Str("ip", &e.ip, false);
    r.Uint("uses", &e.uses);
    return Finish(r, std::move(e));
  }
  if (type == LedgerCheckpoint::kType) {
    LedgerCheckpoint e;
    r.Uint("covers_position", &e.covers_position);
    r.Str("public_key", &e.public_key);
    r.Str("signature", &e.signature);
    if (const json* heads = r.Field("heads", true)) {
      if (!heads->is_array()) return Status::InvalidArgument("checkpoint: 'heads' must be an array");
      for (const auto& hj : *heads) {
        if (!hj.is_object()) return Status::InvalidArgument("checkpoint: a head must be an object");
        Reader hr{hj, {}};
        ChainHead h;
        hr.Str("account_id", &h.account_id);
        hr.Uint("seq", &h.seq);
        hr.Str("hash", &h.hash);
        if (!hr.error.empty()) return Status::InvalidArgument("checkpoint head: " + hr.error);
        e.heads.push_back(std::move(h));
      }
    }
    return Finish(r, std::move(e));
  }
  if (type == ClientRegistered::kType) {
    ClientRegistered e;
    r.Str("client_id", &e.client_id);
    r.Str("name", &e.name);
    r.Str("description", &e.description);
    r.StrList("redirect_uris", &e.redirect_uris);
    r.StrList("scopes", &e.scopes);
    r.StrList("grant_types", &e.grant_types);
    r.Str("token_endpoint_auth_method", &e.token_endpoint_auth_method);
    r.Str("secret_hash", &e.secret_hash, false);
    return Finish(r, std::move(e));
  }
  if (type == ClientSecretRotated::kType) {
    ClientSecretRotated e;
    r.Str("client_id", &e.client_id);
    r.Str("secret_hash", &e.secret_hash);
    return Finish(r, std::move(e));
  }
  if (type == ClientDeleted::kType) {
    ClientDeleted e;
    r.Str("client_id", &e.client_id);
    r.Str("reason", &e.reason, false);
    return Finish(r, std::move(e));
  }
  return Status::InvalidArgument("unknown event type '" + std::string(type) + "'");
}

std::string LedgerAccountId(std::uint32_t partition) {
  std::string id(kLedgerAccountId);
  id[id.size() - 2] = static_cast<char>('0' + partition / 10 % 10);
  id[id.size() - 1] = static_cast<char>('0' + partition % 10);
  return id;
}

std::optional<std::uint32_t> LedgerChainPartition(std::string_view account_id) {
  constexpr std::string_view prefix = kLedgerAccountId.substr(0, kLedgerAccountId.size() - 2);
  if (account_id.size() != kLedgerAccountId.size() || !account_id.starts_with(prefix)) return std::nullopt;
  char a = account_id[account_id.size() - 2], b = account_id[account_id.size() - 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return std::nullopt;
  std::uint32_t p = static_cast<std::uint32_t>((a - '0') * 10 + (b - '0'));
  if (p >= 32) return std::nullopt;
  return p;
}

}  // namespace authledger
