#include "projections/key_index.h"

#include <cstring>

namespace authledger {

namespace {
constexpr unsigned char kVersion = 1;

void PutU16(std::string* s, std::size_t v) {
  s->push_back(static_cast<char>(v & 0xFF));
  s->push_back(static_cast<char>((v >> 8) & 0xFF));
}
void PutStr(std::string* s, std::string_view v) {
  PutU16(s, v.size());
  s->append(v);
}

struct Cursor {
  std::string_view in;
  bool ok = true;
  bool Take(std::size_t n, std::string_view* out) {
    if (!ok || in.size() < n) return ok = false;
    *out = in.substr(0, n);
    in.remove_prefix(n);
    return true;
  }
  std::size_t U16() {
    std::string_view b;
    if (!Take(2, &b)) return 0;
    return static_cast<unsigned char>(b[0]) | (static_cast<std::size_t>(static_cast<unsigned char>(b[1])) << 8);
  }
  std::string Str() {
    std::string_view b;
    std::size_t n = U16();
    return Take(n, &b) ? std::string(b) : std::string();
  }
};
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
  s.push_back(static_cast<char>(kVersion));
  s.push_back(static_cast<char>((r.live ? 1 : 0) | (r.revoked ? 2 : 0)));
  s.append(reinterpret_cast<const char*>(r.secret_hash.data()), r.secret_hash.size());
  auto ends = static_cast<std::uint64_t>(r.ends_at);
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((ends >> (8 * i)) & 0xFF));
  PutStr(&s, r.account_id);
  PutU16(&s, r.scopes.size());
  for (const auto& x : r.scopes) PutStr(&s, x);
  PutU16(&s, r.allowed_cidrs.size());
  for (const auto& x : r.allowed_cidrs) PutStr(&s, x);
  return s;
}

bool DecodeKeyRecord(std::string_view bytes, KeyRecord* r) {
  Cursor c{bytes};
  std::string_view b;
  if (!c.Take(2, &b) || static_cast<unsigned char>(b[0]) != kVersion) return false;
  r->live = b[1] & 1;
  r->revoked = b[1] & 2;
  if (!c.Take(32, &b)) return false;
  std::memcpy(r->secret_hash.data(), b.data(), 32);
  if (!c.Take(8, &b)) return false;
  std::uint64_t ends = 0;
  for (int i = 7; i >= 0; --i) ends = (ends << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
  r->ends_at = static_cast<TimeMs>(ends);
  r->account_id = c.Str();
  std::size_t n = c.U16();
  r->scopes.clear();
  for (std::size_t i = 0; i < n && c.ok; ++i) r->scopes.push_back(c.Str());
  n = c.U16();
  r->allowed_cidrs.clear();
  for (std::size_t i = 0; i < n && c.ok; ++i) r->allowed_cidrs.push_back(c.Str());
  return c.ok && c.in.empty();
}

}  // namespace authledger
