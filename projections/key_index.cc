#include "projections/key_index.h"

#include <cstring>

#include "projections/byte_codec.h"

namespace authledger {

namespace {
constexpr std::uint8_t kVersion = 1;
}  // namespace

KeyRecord KeyRecord::FromState(const std::string& account_id, const KeyState& k) {
  KeyRecord r;
  r.account_id = account_id;
  std::string raw;
  if (FromHex(k.secret_hash, &raw) && raw.size() == r.secret_hash.size())
    std::memcpy(r.secret_hash.data(), raw.data(), raw.size());
  r.live = k.environment == "live";
  r.revoked = k.revoked_at.has_value();
  r.ends_at = k.EndsAt().value_or(0);
  r.scopes = k.scopes;
  r.allowed_cidrs = k.allowed_cidrs;
  return r;
}

std::string EncodeKeyRecord(const KeyRecord& r) {
  std::string s;
  s.reserve(64 + r.account_id.size() + 16 * r.scopes.size());
  ByteWriter w(&s);
  w.U8(kVersion);
  w.U8(static_cast<std::uint8_t>((r.live ? 1 : 0) | (r.revoked ? 2 : 0)));
  w.Bytes(std::string_view(reinterpret_cast<const char*>(r.secret_hash.data()), r.secret_hash.size()));
  w.I64(r.ends_at);
  w.Str16(r.account_id);
  w.U16(static_cast<std::uint16_t>(r.scopes.size()));
  for (const auto& x : r.scopes) w.Str16(x);
  w.U16(static_cast<std::uint16_t>(r.allowed_cidrs.size()));
  for (const auto& x : r.allowed_cidrs) w.Str16(x);
  return s;
}

bool DecodeKeyRecord(std::string_view bytes, KeyRecord* r) {
  ByteReader in(bytes);
  if (in.U8() != kVersion) return false;
  const std::uint8_t flags = in.U8();
  r->live = flags & 1;
  r->revoked = flags & 2;
  std::string_view hash = in.Take(32);
  if (!in.ok()) return false;
  std::memcpy(r->secret_hash.data(), hash.data(), 32);
  r->ends_at = in.I64();
  r->account_id = in.Str16();
  r->scopes.clear();
  for (std::size_t i = 0, n = in.U16(); i < n && in.ok(); ++i) r->scopes.push_back(in.Str16());
  r->allowed_cidrs.clear();
  for (std::size_t i = 0, n = in.U16(); i < n && in.ok(); ++i) r->allowed_cidrs.push_back(in.Str16());
  return in.done();
}

}  // namespace authledger
