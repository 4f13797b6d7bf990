#include "domain/decide.h"

#include <algorithm>

#include "domain/api_key.h"
#include "domain/cidr.h"
#include "domain/redirect_uri.h"

namespace authledger {

namespace {

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

Status CheckCallerMayGrant(const Caller& caller, const std::vector<std::string>& scopes) {
  if (!caller.scopes) return Status::Ok();
  for (const auto& s : scopes)
    if (!Grants(*caller.scopes, s))
      return Status::PermissionDenied("you cannot grant scope '" + s + "' because your credential does not hold it");
  return Status::Ok();
}

// A credential cannot act on a more powerful one (e.g. keys:admin revoking an
// admin:* key): `what` is "revoke a key", "delete a client", ...
Status CheckCallerHoldsAll(const Caller& caller, const std::vector<std::string>& scopes, const char* what) {
  if (caller.scopes)
    for (const auto& sc : scopes)
      if (!Grants(*caller.scopes, sc))
        return Status::PermissionDenied(std::string("you cannot ") + what + " holding scope '" + sc +
                                        "' because your credential does not hold it");
  return Status::Ok();
}

Result<const KeyState*> LiveKey(const AccountState& s, const std::string& key_id, TimeMs now) {
  const KeyState* k = s.FindKey(key_id);
  if (!k) return Status::NotFound("no key '" + key_id + "' in this account");
  auto st = k->StatusAt(now);
  if (st == KeyStatus::kRevoked) return Status::Conflict("key '" + key_id + "' is revoked");
  if (st == KeyStatus::kExpired) return Status::Conflict("key '" + key_id + "' has expired");
  return k;
}

Status CheckScopes(const std::vector<std::string>& scopes, const KeyPolicy& p, bool allow_empty) {
  if (scopes.empty() && !allow_empty) return Status::InvalidArgument("at least one scope is required");
  if (scopes.size() > 64) return Status::InvalidArgument("too many scopes (max 64)");
  return p.catalogue.CheckAll(scopes);
}

}  // namespace

Status ValidateText(const std::string& text, const char* what, std::size_t max_chars, bool allow_empty) {
  if (text.empty() && !allow_empty) return Status::InvalidArgument(std::string(what) + " must not be empty");
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++chars) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > text.size()) return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return Status::InvalidArgument(std::string(what) + " is not valid UTF-8");
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
      return Status::InvalidArgument(std::string(what) + " must not contain control characters");
    i += len;
  }
  if (chars > max_chars)
    return Status::InvalidArgument(std::string(what) + " is longer than " + std::to_string(max_chars) + " characters");
  return Status::Ok();
}

Status ValidateName(const std::string& name, const char* what) { return ValidateText(name, what, 100, false); }

Decision DecideCreateAccount(const AccountState& s, const std::string& name) {
  if (s.exists()) return Status::AlreadyExists("account already exists");
  if (auto st = ValidateName(name, "account name"); !st.ok()) return st;
  return std::vector<EventData>{AccountCreated{name}};
}

Decision DecideCreateKey(const AccountState& s, const CreateKeyInput& in, const NewKey& key, const Caller& caller,
                         const KeyPolicy& p, TimeMs now) {
  if (!s.exists()) return Status::NotFound("account does not exist");
  if (auto st = ValidateName(in.name, "key name"); !st.ok()) return st;
  if (!ParseEnvironment(in.environment)) return Status::InvalidArgument("environment must be 'live' or 'test'");
  if (auto st = CheckScopes(in.scopes, p, false); !st.ok()) return st;
  if (auto st = CheckCallerMayGrant(caller, in.scopes); !st.ok()) return st;
  if (in.expires_at && *in.expires_at <= now) return Status::InvalidArgument("expires_at must be in the future");
  if (in.allowed_cidrs.size() > 32) return Status::InvalidArgument("too many allowed_cidrs (max 32)");
  std::vector<std::string> cidrs;
  for (const auto& c : in.allowed_cidrs) {
    auto parsed = ParseCidr(c);
    if (!parsed) return Status::InvalidArgument("allowed_cidrs: '" + c.substr(0, 64) + "' is not a CIDR block");
    cidrs.push_back(parsed->ToString());
  }
  if (s.keys.count(key.key_id)) return Status::AlreadyExists("key id collision; retry");
  if (s.CountLiveKeys(now) >= p.max_live_keys)
    return Status::FailedPrecondition("account already has " + std::to_string(p.max_live_keys) +
                                      " live keys (the limit); revoke one first");
  KeyCreated e;
  e.key_id = key.key_id;
  e.name = in.name;
  e.scopes = SortedUnique(in.scopes);
  e.environment = in.environment;
  e.secret_hash = key.secret_hash_hex;
  e.expires_at = in.expires_at;
  e.allowed_cidrs = SortedUnique(cidrs);
  return std::vector<EventData>{std::move(e)};
}

Decision DecideGrantScopes(const AccountState& s, const std::string& key_id, const std::vector<std::string>& scopes,
                           const Caller& caller, const KeyPolicy& p, TimeMs now) {
  auto k = LiveKey(s, key_id, now);
  if (!k.ok()) return k.status();
  if (auto st = CheckScopes(scopes, p, false); !st.ok()) return st;
  if (auto st = CheckCallerHoldsAll(caller, (*k)->scopes, "change the scopes of a key"); !st.ok()) return st;
  if (auto st = CheckCallerMayGrant(caller, scopes); !st.ok()) return st;
  std::vector<std::string> added;
  for (const auto& sc : SortedUnique(scopes))
    if (!std::binary_search((*k)->scopes.begin(), (*k)->scopes.end(), sc)) added.push_back(sc);
  if (added.empty()) return std::vector<EventData>{};
  return std::vector<EventData>{KeyScopesGranted{key_id, added}};
}

Decision DecideRevokeScope(const AccountState& s, const std::string& key_id, const std::string& scope,
                           const Caller& caller, TimeMs now) {
  auto k = LiveKey(s, key_id, now);
  if (!k.ok()) return k.status();
  if (!std::binary_search((*k)->scopes.begin(), (*k)->scopes.end(), scope))
    return Status::NotFound("key '" + key_id + "' does not hold scope '" + scope.substr(0, 64) + "'");
  if ((*k)->scopes.size() == 1)
    return Status::FailedPrecondition("cannot remove the last scope of a key; revoke the key instead");
  // Taking a scope away is part of revoking the key: the same rule as revoking it.
  if (auto st = CheckCallerHoldsAll(caller, (*k)->scopes, "change the scopes of a key"); !st.ok()) return st;
  return std::vector<EventData>{KeyScopesRevoked{key_id, {scope}}};
}

Decision DecideRotateKey(const AccountState& s, const std::string& key_id, const NewKey& key,
                         std::optional<TimeMs> grace, const Caller& caller, const KeyPolicy& p, TimeMs now) {
  auto k = LiveKey(s, key_id, now);
  if (!k.ok()) return k.status();
  const KeyState& old = **k;
  if (old.replaced_by)
    return Status::Conflict("key '" + key_id + "' was already rotated to '" + *old.replaced_by +
                            "'; rotate that one instead");
  TimeMs g = grace.value_or(p.default_grace);
  if (g < 0 || g > p.max_grace)
    return Status::InvalidArgument("grace period must be between 0 and " + std::to_string(p.max_grace / kSecondMs) +
                                   " seconds");
  if (auto st = CheckCallerMayGrant(caller, old.scopes); !st.ok()) return st;
  if (s.keys.count(key.key_id)) return Status::AlreadyExists("key id collision; retry");
  TimeMs grace_until = now + g;
  if (old.expires_at) grace_until = std::min(grace_until, *old.expires_at);
  // The replacement is a new live key; the old one stays live through its grace
  // period, so a rotation with one is a create and counts against the limit.
  if (grace_until > now && s.CountLiveKeys(now) >= p.max_live_keys)
    return Status::FailedPrecondition("account already has " + std::to_string(p.max_live_keys) +
                                      " live keys (the limit), and a rotation with a grace period keeps the old "
                                      "key live beside its replacement: rotate with grace_period_seconds = 0, or "
                                      "revoke a key first");
  KeyCreated created;
  created.key_id = key.key_id;
  created.name = old.name;
  created.scopes = old.scopes;
  created.environment = old.environment;
  created.secret_hash = key.secret_hash_hex;
  created.allowed_cidrs = old.allowed_cidrs;
  created.expires_at = old.expires_at;  // rotating never extends a key's lifetime
  created.rotated_from = old.id;
  return std::vector<EventData>{std::move(created), KeyRotated{key_id, key.key_id, grace_until}};
}

Decision DecideRevokeKey(const AccountState& s, const std::string& key_id, const std::string& reason, TimeMs now,
                         const Caller& caller) {
  const KeyState* k = s.FindKey(key_id);
  if (!k) return Status::NotFound("no key '" + key_id + "' in this account");
  if (k->revoked_at) return Status::Conflict("key '" + key_id + "' is already revoked");
  if (auto st = ValidateText(reason, "reason", 500, true); !st.ok()) return st;
  if (auto st = CheckCallerHoldsAll(caller, k->scopes, "revoke a key"); !st.ok()) return st;
  return std::vector<EventData>{KeyRevoked{key_id, reason}};
}

Decision DecideRecordUsage(const AccountState& s, const std::string& key_id, TimeMs used_at, const std::string& ip,
                           std::uint64_t uses) {
  const KeyState* k = s.FindKey(key_id);
  if (!k || uses == 0) return std::vector<EventData>{};
  if (k->last_used_at && *k->last_used_at >= used_at) return std::vector<EventData>{};
  return std::vector<EventData>{KeyUsed{key_id, used_at, ip, uses}};
}

namespace {

constexpr std::string_view kGrantTypes[] = {"authorization_code", "client_credentials", "refresh_token"};
constexpr std::string_view kAuthMethods[] = {"client_secret_basic", "client_secret_post", "none"};

template <std::size_t N>
bool OneOf(const std::string& v, const std::string_view (&options)[N]) {
  for (auto o : options)
    if (v == o) return true;
  return false;
}

Result<const ClientState*> ActiveClient(const AccountState& s, const std::string& client_id) {
  const ClientState* c = s.FindClient(client_id);
  if (!c) return Status::NotFound("no client '" + client_id + "' in this account");
  if (c->deleted()) return Status::Conflict("client '" + client_id + "' is deleted");
  return c;
}

}  // namespace

Decision DecideRegisterClient(const AccountState& s, const RegisterClientInput& in, const NewClient& client,
                              const Caller& caller, const KeyPolicy& p) {
  if (!s.exists()) return Status::NotFound("account does not exist");
  if (auto st = ValidateName(in.name, "client name"); !st.ok()) return st;
  if (auto st = ValidateText(in.description, "description", 500, true); !st.ok()) return st;
  if (auto st = CheckScopes(in.scopes, p, false); !st.ok()) return st;
  if (auto st = CheckCallerMayGrant(caller, in.scopes); !st.ok()) return st;
  if (!OneOf(in.token_endpoint_auth_method, kAuthMethods))
    return Status::InvalidArgument(
        "token_endpoint_auth_method must be client_secret_basic, client_secret_post or none");
  const bool confidential = in.token_endpoint_auth_method != "none";
  if (confidential == client.secret_hash_hex.empty())
    return Status::Internal("a client secret must be generated for a confidential client and only for one");
  std::vector<std::string> grants = SortedUnique(in.grant_types);
  if (grants.empty()) return Status::InvalidArgument("at least one grant type is required");
  for (const auto& g : grants)
    if (!OneOf(g, kGrantTypes))
      return Status::InvalidArgument("grant_types: '" + g.substr(0, 64) +
                                     "' is not one of authorization_code, client_credentials, refresh_token");
  auto has = [&](std::string_view g) { return std::binary_search(grants.begin(), grants.end(), g); };
  if (has("client_credentials") && !confidential)
    return Status::InvalidArgument("the client_credentials grant needs a confidential client "
                                   "(token_endpoint_auth_method other than none)");
  if (has("refresh_token") && !has("authorization_code"))
    return Status::InvalidArgument("the refresh_token grant comes only with authorization_code");
  if (in.redirect_uris.size() > 10) return Status::InvalidArgument("too many redirect_uris (max 10)");
  for (std::size_t i = 0; i < in.redirect_uris.size(); ++i)
    if (auto st = ValidateRedirectUri(in.redirect_uris[i]); !st.ok())
      return Status::InvalidArgument("redirect_uris[" + std::to_string(i) + "]: " + st.message());
  if (SortedUnique(in.redirect_uris).size() != in.redirect_uris.size())
    return Status::InvalidArgument("redirect_uris must not repeat a URI");
  if (has("authorization_code") && in.redirect_uris.empty())
    return Status::InvalidArgument("the authorization_code grant needs at least one redirect URI");
  if (s.clients.count(client.client_id)) return Status::AlreadyExists("client id collision; retry");
  if (s.CountActiveClients() >= p.max_clients)
    return Status::FailedPrecondition("account already has " + std::to_string(p.max_clients) +
                                      " OAuth clients (the limit); delete one first");
  ClientRegistered e;
  e.client_id = client.client_id;
  e.name = in.name;
  e.description = in.description;
  e.redirect_uris = in.redirect_uris;
  e.scopes = SortedUnique(in.scopes);
  e.grant_types = std::move(grants);
  e.token_endpoint_auth_method = in.token_endpoint_auth_method;
  e.secret_hash = client.secret_hash_hex;
  return std::vector<EventData>{std::move(e)};
}

Decision DecideRotateClientSecret(const AccountState& s, const std::string& client_id,
                                  const std::string& secret_hash_hex, const Caller& caller) {
  auto c = ActiveClient(s, client_id);
  if (!c.ok()) return c.status();
  if (!(*c)->confidential())
    return Status::Conflict("client '" + client_id +
                            "' is a public client (token_endpoint_auth_method none): "
                            "it has no secret");
  if (auto st = CheckCallerHoldsAll(caller, (*c)->scopes, "rotate the secret of a client"); !st.ok()) return st;
  if (secret_hash_hex.size() != 64) return Status::Internal("a rotated client secret needs a fresh hash");
  return std::vector<EventData>{ClientSecretRotated{client_id, secret_hash_hex}};
}

Decision DecideDeleteClient(const AccountState& s, const std::string& client_id, const std::string& reason,
                            const Caller& caller) {
  auto c = ActiveClient(s, client_id);
  if (!c.ok()) return c.status();
  if (auto st = ValidateText(reason, "reason", 500, true); !st.ok()) return st;
  if (auto st = CheckCallerHoldsAll(caller, (*c)->scopes, "delete a client"); !st.ok()) return st;
  return std::vector<EventData>{ClientDeleted{client_id, reason}};
}

}  // namespace authledger
