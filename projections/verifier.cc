#include "projections/verifier.h"

#include <optional>

#include "domain/api_key.h"
#include "domain/cidr.h"
#include "domain/scopes.h"

namespace authledger {

std::string_view VerifyCodeName(VerifyCode c) {
  switch (c) {
    case VerifyCode::kValid: return "VALID";
    case VerifyCode::kMalformed: return "MALFORMED";
    case VerifyCode::kNotFound: return "NOT_FOUND";
    case VerifyCode::kRevoked: return "REVOKED";
    case VerifyCode::kExpired: return "EXPIRED";
    case VerifyCode::kInsufficientScope: return "INSUFFICIENT_SCOPE";
    case VerifyCode::kIpNotAllowed: return "IP_NOT_ALLOWED";
  }
  return "UNKNOWN";
}

Verifier::Verifier(ProjectionStore& store, const Clock& clock, std::string pepper, std::string brand)
    : store_(store), clock_(clock), pepper_(pepper), brand_(std::move(brand)) {
  SecureWipe(pepper);
}

VerifyResult Verifier::Verify(std::string_view key, std::string_view scope, std::string_view ip) const {
  VerifyResult r;
  auto parsed = ParseApiKey(key);
  if (!parsed.ok()) {
    r.code = VerifyCode::kMalformed;
    r.detail = parsed.status().message();
    return r;
  }
  if (parsed->brand != brand_) {
    r.code = VerifyCode::kMalformed;
    r.detail = "key was not issued by this service (brand prefix differs)";
    return r;
  }
  r.key_id = std::string(parsed->key_id);
  rocksdb::PinnableSlice value;
  Status s = store_.Get(Cf::kKeyIndex, rocksdb::Slice(parsed->key_id.data(), parsed->key_id.size()), &value);
  if (!s.ok() || !DecodeKeyRecord(std::string_view(value.data(), value.size()), &r.record)) {
    // Spend the same HMAC as for a known id, so timing does not reveal which ids exist.
    Digest burn = HashSecret(pepper_, parsed->key_id, parsed->secret);
    static const Digest kNothing{};
    (void)ConstantTimeEquals(burn, kNothing);
    r.record = KeyRecord{};
    r.code = VerifyCode::kNotFound;
    r.detail = "no such key";
    return r;
  }
  Digest presented = HashSecret(pepper_, parsed->key_id, parsed->secret);
  bool env_matches = r.record.live == (parsed->environment == KeyEnvironment::kLive);
  if (!ConstantTimeEquals(presented, r.record.secret_hash) || !env_matches) {
    r.code = VerifyCode::kNotFound;  // same answer as an unknown key: no oracle
    r.detail = "no such key";
    r.record = KeyRecord{};
    return r;
  }
  if (r.record.revoked) {
    r.code = VerifyCode::kRevoked;
    r.detail = "key has been revoked";
    return r;
  }
  if (r.record.ends_at != 0 && clock_.Now() >= r.record.ends_at) {
    r.code = VerifyCode::kExpired;
    r.detail = "key has expired (or its rotation grace period ended)";
    return r;
  }
  if (!r.record.allowed_cidrs.empty()) {
    // A restricted key is only valid for a caller that says where the request came from.
    auto addr = ip.empty() ? std::nullopt : ParseIp(ip);
    bool allowed = false;
    if (addr) {
      for (const auto& text : r.record.allowed_cidrs) {
        auto c = ParseCidr(text);
        if (c && c->Contains(*addr)) {
          allowed = true;
          break;
        }
      }
    }
    if (!allowed) {
      r.code = VerifyCode::kIpNotAllowed;
      r.detail = addr ? "source IP is outside the key's allowlist"
                      : "key is restricted to allowlisted IPs; pass the client's 'ip' to verify it";
      return r;
    }
  }
  if (!scope.empty() && !GrantsScope(r.record.scopes, scope)) {
    r.code = VerifyCode::kInsufficientScope;
    r.detail = "key does not hold the required scope";
    return r;
  }
  r.code = VerifyCode::kValid;
  return r;
}

}  // namespace authledger
