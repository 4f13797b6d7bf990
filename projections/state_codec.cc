#include "projections/state_codec.h"

#include "projections/byte_codec.h"

namespace authledger {

namespace {

constexpr std::uint8_t kVersion = 1;         // key state
constexpr std::uint8_t kAccountVersion = 3;  // 1 held the keys too; 2 had no counters
constexpr std::uint8_t kClientVersion = 1;

void PutStrings(ByteWriter& w, const std::vector<std::string>& v) {
  w.Varint(v.size());
  for (const auto& s : v) w.Str(s);
}
void PutOptTime(ByteWriter& w, const std::optional<TimeMs>& t) {
  w.U8(t ? 1 : 0);
  if (t) w.I64(*t);
}
void PutOptStr(ByteWriter& w, const std::optional<std::string>& s) {
  w.U8(s ? 1 : 0);
  if (s) w.Str(*s);
}

std::vector<std::string> GetStrings(ByteReader& in) {
  std::vector<std::string> v;
  const std::size_t n = in.Count();
  v.reserve(n);
  for (std::size_t i = 0; i < n && in.ok(); ++i) v.push_back(in.Str());
  return v;
}
// An optional's presence byte must be 0 or 1: anything else is damage.
bool Present(ByteReader& in, bool* ok) {
  const std::uint8_t b = in.U8();
  if (b > 1) *ok = false;
  return b == 1;
}
std::optional<TimeMs> GetOptTime(ByteReader& in, bool* ok) {
  if (!Present(in, ok)) return std::nullopt;
  return in.I64();
}
std::optional<std::string> GetOptStr(ByteReader& in, bool* ok) {
  if (!Present(in, ok)) return std::nullopt;
  return in.Str();
}

void PutKey(ByteWriter& w, const KeyState& k) {
  w.Str(k.id);
  w.Str(k.name);
  w.Str(k.environment);
  PutStrings(w, k.scopes);
  w.Str(k.secret_hash);
  w.I64(k.created_at);
  w.Str(k.created_by);
  PutOptTime(w, k.expires_at);
  PutStrings(w, k.allowed_cidrs);
  PutOptStr(w, k.rotated_from);
  PutOptStr(w, k.replaced_by);
  PutOptTime(w, k.grace_until);
  PutOptTime(w, k.revoked_at);
  w.Str(k.revoke_reason);
  PutOptTime(w, k.last_used_at);
  w.Str(k.last_used_ip);
  w.Varint(k.use_count);
}

KeyState GetKey(ByteReader& in, bool* ok) {
  KeyState k;
  k.id = in.Str();
  k.name = in.Str();
  k.environment = in.Str();
  k.scopes = GetStrings(in);
  k.secret_hash = in.Str();
  k.created_at = in.I64();
  k.created_by = in.Str();
  k.expires_at = GetOptTime(in, ok);
  k.allowed_cidrs = GetStrings(in);
  k.rotated_from = GetOptStr(in, ok);
  k.replaced_by = GetOptStr(in, ok);
  k.grace_until = GetOptTime(in, ok);
  k.revoked_at = GetOptTime(in, ok);
  k.revoke_reason = in.Str();
  k.last_used_at = GetOptTime(in, ok);
  k.last_used_ip = in.Str();
  k.use_count = in.Varint();
  return k;
}

void PutClient(ByteWriter& w, const ClientState& c) {
  w.Str(c.id);
  w.Str(c.name);
  w.Str(c.description);
  PutStrings(w, c.redirect_uris);
  PutStrings(w, c.scopes);
  PutStrings(w, c.grant_types);
  w.Str(c.token_endpoint_auth_method);
  w.Str(c.secret_hash);
  w.I64(c.created_at);
  w.Str(c.created_by);
  PutOptTime(w, c.secret_rotated_at);
  PutOptTime(w, c.deleted_at);
  w.Str(c.delete_reason);
}

ClientState GetClient(ByteReader& in, bool* ok) {
  ClientState c;
  c.id = in.Str();
  c.name = in.Str();
  c.description = in.Str();
  c.redirect_uris = GetStrings(in);
  c.scopes = GetStrings(in);
  c.grant_types = GetStrings(in);
  c.token_endpoint_auth_method = in.Str();
  c.secret_hash = in.Str();
  c.created_at = in.I64();
  c.created_by = in.Str();
  c.secret_rotated_at = GetOptTime(in, ok);
  c.deleted_at = GetOptTime(in, ok);
  c.delete_reason = in.Str();
  return c;
}

Status Damaged(const char* what) { return Status::Corruption(std::string("projections: damaged stored ") + what); }

// A row value: u8 version, then what put() writes; decoding needs the version and
// get() to consume exactly the rest.
template <typename T, typename Put>
std::string EncodeRow(std::uint8_t version, const T& value, std::size_t reserve, Put put) {
  std::string s;
  s.reserve(reserve);
  ByteWriter w(&s);
  w.U8(version);
  put(w, value);
  return s;
}
template <typename T, typename Get>
Result<T> DecodeRow(std::string_view bytes, std::uint8_t version, const char* what, Get get) {
  ByteReader in(bytes);
  bool ok = in.U8() == version;
  T value = get(in, &ok);
  if (!ok || !in.done()) return Damaged(what);
  return value;
}

}  // namespace

std::string EncodeKeyState(const KeyState& k) {
  return EncodeRow(kVersion, k, 160 + 16 * (k.scopes.size() + k.allowed_cidrs.size()), PutKey);
}

Result<KeyState> DecodeKeyState(std::string_view bytes) {
  return DecodeRow<KeyState>(bytes, kVersion, "key state", GetKey);
}

std::string EncodeClientState(const ClientState& c) { return EncodeRow(kClientVersion, c, 256, PutClient); }

Result<ClientState> DecodeClientState(std::string_view bytes) {
  return DecodeRow<ClientState>(bytes, kClientVersion, "client state", GetClient);
}

std::string EncodeAccountState(const AccountState& st) {
  std::string s;
  s.reserve(128 + 24 * st.ending_keys.size());
  ByteWriter w(&s);
  w.U8(kAccountVersion);
  w.Varint(st.seq);
  w.Str(st.head_hash);
  w.Str(st.id);
  w.Str(st.name);
  w.I64(st.created_at);
  w.I64(st.last_event_time);
  w.Varint(st.open_keys);
  w.Varint(st.ending_keys.size());
  for (const KeyEnd& e : st.ending_keys) {
    w.I64(e.at);
    w.Str(e.key_id);
  }
  w.Varint(st.active_clients);
  return s;
}

Status DecodeAccountHead(std::string_view bytes, std::uint64_t* seq, std::string* head_hash) {
  ByteReader in(bytes);
  const bool version_ok = in.U8() == kAccountVersion;
  *seq = in.Varint();
  *head_hash = in.Str();
  return version_ok && in.ok() ? Status::Ok() : Damaged("account");
}

Result<AccountState> DecodeAccountState(std::string_view bytes) {
  ByteReader in(bytes);
  const bool ok = in.U8() == kAccountVersion;
  AccountState st;
  st.seq = in.Varint();
  st.head_hash = in.Str();
  st.id = in.Str();
  st.name = in.Str();
  st.created_at = in.I64();
  st.last_event_time = in.I64();
  st.open_keys = in.Varint();
  const std::size_t ending = in.Count();
  st.ending_keys.reserve(ending);
  for (std::size_t i = 0; i < ending && in.ok(); ++i) {
    KeyEnd e;
    e.at = in.I64();
    e.key_id = in.Str();
    st.ending_keys.push_back(std::move(e));
  }
  st.active_clients = in.Varint();
  if (!ok || !in.done()) return Damaged("account");
  return st;
}

}  // namespace authledger
