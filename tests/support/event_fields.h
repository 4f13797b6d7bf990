// Field-by-field equality of event data, independent of any JSON codec: each
// type's fields as a tuple of references (EventFields), and SameEventData.
#pragma once

#include <tuple>
#include <type_traits>
#include <variant>

#include "domain/events.h"

namespace authledger::testing {

inline auto EventFields(const AccountCreated& e) { return std::tie(e.name); }
inline auto EventFields(const KeyCreated& e) {
  return std::tie(e.key_id, e.name, e.scopes, e.environment, e.secret_hash, e.expires_at, e.allowed_cidrs,
                  e.rotated_from);
}
inline auto EventFields(const KeyScopesGranted& e) { return std::tie(e.key_id, e.scopes); }
inline auto EventFields(const KeyScopesRevoked& e) { return std::tie(e.key_id, e.scopes); }
inline auto EventFields(const KeyRotated& e) { return std::tie(e.key_id, e.replaced_by, e.grace_until); }
inline auto EventFields(const KeyRevoked& e) { return std::tie(e.key_id, e.reason); }
inline auto EventFields(const KeyUsed& e) { return std::tie(e.key_id, e.last_used_at, e.ip, e.uses); }
inline auto EventFields(const LedgerCheckpoint& e) {
  return std::tie(e.covers_position, e.heads, e.public_key, e.signature);
}
inline auto EventFields(const ClientRegistered& e) {
  return std::tie(e.client_id, e.name, e.description, e.redirect_uris, e.scopes, e.grant_types,
                  e.token_endpoint_auth_method, e.secret_hash);
}
inline auto EventFields(const ClientSecretRotated& e) { return std::tie(e.client_id, e.secret_hash); }
inline auto EventFields(const ClientDeleted& e) { return std::tie(e.client_id, e.reason); }

// Same type and every field equal.
inline bool SameEventData(const EventData& a, const EventData& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) { return EventFields(x) == EventFields(std::get<std::decay_t<decltype(x)>>(b)); }, a);
}

}  // namespace authledger::testing
