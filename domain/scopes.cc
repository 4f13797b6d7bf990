#include "domain/scopes.h"

namespace authledger {

bool IsWellFormedScope(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos || colon + 1 == s.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || i == colon ||
              (i > colon && c == '*');
    if (!ok) return false;
  }
  return true;
}

ScopeCatalogue ScopeCatalogue::Default() {
  ScopeCatalogue c;
  c.scopes_ = {"monitors:read",  "monitors:write", "alerts:read",  "alerts:write", "metrics:read",
               "incidents:read", "teams:admin",    "billing:read", "keys:admin",   "clients:admin",
               "events:read",    "ops:read",       "admin:*"};
  return c;
}

Result<ScopeCatalogue> ScopeCatalogue::FromList(const std::vector<std::string>& names) {
  ScopeCatalogue c;
  for (const auto& n : names) {
    if (!IsWellFormedScope(n)) return Status::InvalidArgument("malformed scope in catalogue: '" + n + "'");
    c.scopes_.insert(n);
  }
  if (c.scopes_.empty()) return Status::InvalidArgument("scope catalogue is empty");
  return c;
}

Status ScopeCatalogue::CheckAll(const std::vector<std::string>& scopes) const {
  for (const auto& s : scopes) {
    if (!Contains(s)) {
      if (s.size() > 64) return Status::InvalidArgument("unknown scope (longer than 64 characters)");
      return Status::InvalidArgument("unknown scope '" + s + "'; see the scope catalogue");
    }
  }
  return Status::Ok();
}

bool Grants(const ScopeSet& held, std::string_view required) {
  return held.count(std::string(required)) > 0 || held.count(std::string(kAdminWildcard)) > 0;
}

}  // namespace authledger
