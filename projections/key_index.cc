#include "projections/key_index.h"

#include <cstring>

#include "projections/byte_codec.h"

namespace authledger {

namespace {
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kUnparsed = 255;  // a CIDR entry's prefix when its text did not parse

// A u16 count and that many u16-length-prefixed strings from `in`, which is at
// `at` (a pointer into the record), as a list over their bytes.
Str16List TakeStr16List(ByteReader& in, const char* at) {
  const std::size_t n = in.U16();
  const char* end = at + 2;
  for (std::size_t i = 0; i < n && in.ok(); ++i) {
    std::string_view s = in.Str16View();
    end = s.data() + s.size();
  }
  return in.ok() ? Str16List(std::string_view(at + 2, static_cast<std::size_t>(end - at - 2)), n) : Str16List();
}
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

std::optional<Cidr> CidrList::at(std::size_t i) const {
  const char* e = bytes_.data() + i * kEntryBytes;
  const auto prefix = static_cast<std::uint8_t>(e[16]);
  if (prefix == kUnparsed) return std::nullopt;
  Cidr c;
  std::memcpy(c.base.bytes.data(), e, 16);
  c.prefix = prefix;
  c.base.v4 = e[17] != 0;
  return c;
}

bool CidrList::AnyContains(const IpAddress& ip) const {
  for (std::size_t i = 0, n = size(); i < n; ++i)
    if (auto c = at(i); c && c->Contains(ip)) return true;
  return false;
}

std::string EncodeKeyRecord(const KeyRecord& r) {
  std::string s;
  s.reserve(64 + r.account_id.size() + 16 * r.scopes.size() + CidrList::kEntryBytes * r.allowed_cidrs.size());
  ByteWriter w(&s);
  w.U8(kVersion);
  w.U8(static_cast<std::uint8_t>((r.live ? 1 : 0) | (r.revoked ? 2 : 0)));
  w.Bytes(std::string_view(reinterpret_cast<const char*>(r.secret_hash.data()), r.secret_hash.size()));
  w.I64(r.ends_at);
  w.Str16(r.account_id);
  w.U16(static_cast<std::uint16_t>(r.scopes.size()));
  for (const auto& x : r.scopes) w.Str16(x);
  w.U16(static_cast<std::uint16_t>(r.allowed_cidrs.size()));
  for (const auto& text : r.allowed_cidrs) {
    // Text that does not parse (never written by the rules) must still restrict
    // the key: it stays in the list, matching nothing.
    std::optional<Cidr> c = ParseCidr(text);
    w.Bytes(std::string_view(reinterpret_cast<const char*>(c ? c->base.bytes.data() : Digest{}.data()), 16));
    w.U8(c ? static_cast<std::uint8_t>(c->prefix) : kUnparsed);
    w.U8(c && c->base.v4 ? 1 : 0);
  }
  return s;
}

bool DecodeKeyRecord(std::string_view bytes, KeyRecordView* r) {
  ByteReader in(bytes);
  if (in.U8() != kVersion) return false;
  const std::uint8_t flags = in.U8();
  r->live = flags & 1;
  r->revoked = flags & 2;
  r->secret_hash = in.Take(32);
  r->ends_at = in.I64();
  r->account_id = in.Str16View();
  if (!in.ok()) return false;
  r->scopes = TakeStr16List(in, r->account_id.data() + r->account_id.size());
  const std::size_t n_cidrs = in.U16();
  std::string_view cidrs = in.Take(n_cidrs * CidrList::kEntryBytes);
  if (!in.done()) return false;
  for (std::size_t i = 0; i < n_cidrs; ++i) {
    const auto prefix = static_cast<std::uint8_t>(cidrs[i * CidrList::kEntryBytes + 16]);
    const auto v4 = static_cast<std::uint8_t>(cidrs[i * CidrList::kEntryBytes + 17]);
    if ((prefix > 128 && prefix != kUnparsed) || v4 > 1) return false;
  }
  r->allowed_cidrs = CidrList(cidrs);
  return true;
}

bool DecodeKeyRecord(std::string_view bytes, KeyRecord* r) {
  KeyRecordView v;
  if (!DecodeKeyRecord(bytes, &v)) return false;
  r->account_id = std::string(v.account_id);
  std::memcpy(r->secret_hash.data(), v.secret_hash.data(), r->secret_hash.size());
  r->live = v.live;
  r->revoked = v.revoked;
  r->ends_at = v.ends_at;
  r->scopes.assign(v.scopes.begin(), v.scopes.end());
  r->allowed_cidrs.clear();
  for (std::size_t i = 0; i < v.allowed_cidrs.size(); ++i) {
    auto c = v.allowed_cidrs.at(i);
    r->allowed_cidrs.push_back(c ? c->ToString() : std::string());
  }
  return true;
}

}  // namespace authledger
