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

void VerifyResult::Reset() {
  code = VerifyCode::kNotFound;
  key_id = {};
  record = KeyRecordView{};
  detail = {};
  value.Reset();
  detail_storage.clear();
}

void Verifier::Verify(std::string_view key, std::string_view scope, std::string_view ip, VerifyResult* out) const {
  VerifyResult& r = *out;
  r.Reset();
  auto parsed = ParseApiKey(key);
  if (!parsed.ok()) {
    r.code = VerifyCode::kMalformed;
    r.detail_storage = parsed.status().message();
    r.detail = r.detail_storage;
    return;
  }
  if (parsed->brand != brand_) {
    r.code = VerifyCode::kMalformed;
    r.detail = "key was not issued by this service (brand prefix differs)";
    return;
  }
  r.key_id = parsed->key_id;
  Status s = store_.Get(Cf::kKeyIndex, rocksdb::Slice(parsed->key_id.data(), parsed->key_id.size()), &r.value);
  if (!s.ok() || !DecodeKeyRecord(std::string_view(r.value.data(), r.value.size()), &r.record)) {
    // Spend the same HMAC as for a known id, so timing does not reveal which ids exist.
    Digest burn = HashSecret(pepper_, parsed->key_id, parsed->secret);
    static const Digest kNothing{};
    (void)ConstantTimeEquals(burn, kNothing);
    r.record = KeyRecordView{};
    r.code = VerifyCode::kNotFound;
    r.detail = "no such key";
    return;
  }
  Digest presented = HashSecret(pepper_, parsed->key_id, parsed->secret);
  bool env_matches = r.record.live == (parsed->environment == KeyEnvironment::kLive);
  if (!ConstantTimeEquals(std::string_view(reinterpret_cast<const char*>(presented.data()), presented.size()),
                          r.record.secret_hash) ||
      !env_matches) {
    r.code = VerifyCode::kNotFound;  // same answer as an unknown key: no oracle
    r.detail = "no such key";
    r.record = KeyRecordView{};
    return;
  }
  if (r.record.revoked) {
    r.code = VerifyCode::kRevoked;
    r.detail = "key has been revoked";
    return;
  }
  if (r.record.ends_at != 0 && clock_.Now() >= r.record.ends_at) {
    r.code = VerifyCode::kExpired;
    r.detail = "key has expired (or its rotation grace period ended)";
    return;
  }
  if (!r.record.allowed_cidrs.empty()) {
    // A restricted key is only valid for a caller that says where the request came from.
    auto addr = ip.empty() ? std::nullopt : ParseIp(ip);
    if (!addr || !r.record.allowed_cidrs.AnyContains(*addr)) {
      r.code = VerifyCode::kIpNotAllowed;
      r.detail = addr ? "source IP is outside the key's allowlist"
                      : "key is restricted to allowlisted IPs; pass the client's 'ip' to verify it";
      return;
    }
  }
  if (!scope.empty() && !GrantsScope(r.record.scopes, scope)) {
    r.code = VerifyCode::kInsufficientScope;
    r.detail = "key does not hold the required scope";
    return;
  }
  r.code = VerifyCode::kValid;
}

}  // namespace authledger
