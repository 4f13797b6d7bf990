#include "gateway/resource_json.h"

#include <optional>
#include <string>

#include "domain/clock.h"

namespace authledger {

using json = nlohmann::json;

namespace {
json TimeOrNull(const std::optional<TimeMs>& t) { return t ? json(FormatRfc3339(*t)) : json(nullptr); }
}  // namespace

// nlohmann::json keeps an object's members sorted by name, so the order below
// does not change the bytes of a response.
json KeyJson(const KeyState& k, KeyStatus status, JsonForm form, std::string_view brand) {
  json j = {{"id", k.id},
            {"name", k.name},
            {"scopes", k.scopes},
            {"environment", k.environment},
            {"status", std::string(KeyStatusName(status))},
            {"created_at", FormatRfc3339(k.created_at)},
            {"created_by", k.created_by},
            {"expires_at", TimeOrNull(k.expires_at)},
            {"allowed_cidrs", k.allowed_cidrs},
            {"rotated_from", k.rotated_from ? json(*k.rotated_from) : json(nullptr)},
            {"replaced_by", k.replaced_by ? json(*k.replaced_by) : json(nullptr)},
            {"grace_until", TimeOrNull(k.grace_until)},
            {"revoked_at", TimeOrNull(k.revoked_at)}};
  if (form == JsonForm::kApi) {
    j["prefix"] = std::string(brand) + "_" + k.environment + "_" + k.id;
    j["last_used_at"] = TimeOrNull(k.last_used_at);
    j["last_used_ip"] = k.last_used_ip.empty() ? json(nullptr) : json(k.last_used_ip);
  }
  return j;
}

json ClientJson(const ClientState& c, JsonForm form) {
  json j = {{"id", c.id},
            {"name", c.name},
            {"redirect_uris", c.redirect_uris},
            {"scopes", c.scopes},
            {"grant_types", c.grant_types},
            {"token_endpoint_auth_method", c.token_endpoint_auth_method},
            {"status", c.deleted() ? "deleted" : "active"},
            {"created_at", FormatRfc3339(c.created_at)},
            {"created_by", c.created_by},
            {"secret_rotated_at", TimeOrNull(c.secret_rotated_at)},
            {"deleted_at", TimeOrNull(c.deleted_at)}};
  if (form == JsonForm::kApi) {
    j["description"] = c.description;
    j["confidential"] = c.confidential();
  }
  return j;
}

}  // namespace authledger
