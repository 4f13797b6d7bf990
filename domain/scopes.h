// Scopes and the scope catalogue. A scope is "<resource>:<action>" text; the set
// of scopes that exist is configuration (the default mirrors the product pages).
// "admin:*" is the wildcard: it grants every scope in the catalogue.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace authledger {

using ScopeSet = std::set<std::string>;

constexpr std::string_view kAdminWildcard = "admin:*";
constexpr std::string_view kKeysAdminScope = "keys:admin";
constexpr std::string_view kClientsAdminScope = "clients:admin";  // /v1/oauth/clients
constexpr std::string_view kEventsReadScope = "events:read";      // GET /v1/events
constexpr std::string_view kOpsReadScope = "ops:read";            // /healthz, /readyz, /metrics in detail

class ScopeCatalogue {
 public:
  // The default: monitors:read, monitors:write, alerts:read, alerts:write,
  // metrics:read, incidents:read, teams:admin, billing:read, keys:admin,
  // clients:admin, events:read, ops:read, admin:*.
  static ScopeCatalogue Default();
  // Fails if a name is malformed (not [a-z0-9_.-]+:[a-z0-9_.*-]+, max 64 chars).
  static Result<ScopeCatalogue> FromList(const std::vector<std::string>& names);

  bool Contains(std::string_view scope) const { return scopes_.find(std::string(scope)) != scopes_.end(); }
  const ScopeSet& all() const { return scopes_; }
  // OK, or InvalidArgument naming the first scope that is not in the catalogue.
  Status CheckAll(const std::vector<std::string>& scopes) const;

 private:
  ScopeSet scopes_;
};

bool IsWellFormedScope(std::string_view scope);

// True if `held` grants `required`: it contains it, or contains admin:*.
bool Grants(const ScopeSet& held, std::string_view required);
template <typename Range>
bool GrantsScope(const Range& held, std::string_view required) {
  for (const auto& s : held)
    if (s == required || s == kAdminWildcard) return true;
  return false;
}

}  // namespace authledger
