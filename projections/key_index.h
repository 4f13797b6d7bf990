// The key validation record: what the hot path needs to answer "is this key
// valid for scope X from IP Y?" with one point lookup and no JSON parsing.
//
// Stored in column family "key_index" under the 12-character key id. Encoding
// (all integers little-endian):
//   u8 version (=1) | u8 flags (bit0 live env, bit1 revoked) | 32 bytes secret hash
//   | i64 ends_at (ms; 0 = never) | str account_id | u16 n_scopes, n x str
//   | u16 n_cidrs, n x str          where str = u16 length + bytes
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/account_state.h"
#include "domain/crypto.h"

namespace authledger {

struct KeyRecord {
  std::string account_id;
  Digest secret_hash{};
  bool live = true;
  bool revoked = false;
  TimeMs ends_at = 0;  // expiry or end of rotation grace; 0 = never
  std::vector<std::string> scopes;
  std::vector<std::string> allowed_cidrs;

  static KeyRecord FromState(const std::string& account_id, const KeyState& k);
};

std::string EncodeKeyRecord(const KeyRecord& r);
// false if the bytes are not a valid record.
bool DecodeKeyRecord(std::string_view bytes, KeyRecord* out);

}  // namespace authledger
