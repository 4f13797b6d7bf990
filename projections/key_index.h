// The key validation record: what the hot path needs to answer "is this key
// valid for scope X from IP Y?" with one point lookup and no JSON parsing.
//
// Stored in column family "key_index" under the 12-character key id. Encoding
// (all integers little-endian):
//   u8 version (=2) | u8 flags (bit0 live env, bit1 revoked) | 32 bytes secret hash
//   | i64 ends_at (ms; 0 = never) | str account_id | u16 n_scopes, n x str
//   | u16 n_cidrs, n x cidr          where str = u16 length + bytes and
//   cidr = 16 bytes address (IPv4 as IPv4-mapped IPv6) | u8 prefix bits of that
//          128-bit form (0..128; 255: text the encoder could not parse, which
//          matches no address) | u8 1 if written as IPv4
// Version 1 stored the CIDR blocks as text, parsed on every verification of a
// restricted key; version 2 stores them parsed (store format 5).
//
// The hot path decodes a record in place (KeyRecordView: views into the bytes,
// no copies); KeyRecord is the owned form the projector builds from a KeyState.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/account_state.h"
#include "domain/cidr.h"
#include "domain/crypto.h"

namespace authledger {

struct KeyRecord {
  std::string account_id;
  Digest secret_hash{};
  bool live = true;
  bool revoked = false;
  TimeMs ends_at = 0;  // expiry or end of rotation grace; 0 = never
  std::vector<std::string> scopes;
  std::vector<std::string> allowed_cidrs;  // CIDR text as in the KeyState (canonical, domain/cidr.h)

  static KeyRecord FromState(const std::string& account_id, const KeyState& k);
};

// The u16-length-prefixed strings of a record, read in place.
class Str16List {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string_view*;
    using reference = std::string_view;
    iterator() = default;
    explicit iterator(const char* p) : p_(p) {}
    std::string_view operator*() const { return std::string_view(p_ + 2, Length()); }
    iterator& operator++() {
      p_ += 2 + Length();
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return p_ == o.p_; }

   private:
    std::size_t Length() const {
      return static_cast<unsigned char>(p_[0]) | static_cast<std::size_t>(static_cast<unsigned char>(p_[1])) << 8;
    }
    const char* p_ = nullptr;
  };

  Str16List() = default;
  Str16List(std::string_view bytes, std::size_t count) : bytes_(bytes), count_(count) {}
  iterator begin() const { return iterator(bytes_.data()); }
  iterator end() const { return iterator(bytes_.data() + bytes_.size()); }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  std::string_view bytes_;  // exactly the encoded strings
  std::size_t count_ = 0;
};

// The parsed CIDR blocks of a record, read in place.
class CidrList {
 public:
  static constexpr std::size_t kEntryBytes = 18;
  CidrList() = default;
  explicit CidrList(std::string_view bytes) : bytes_(bytes) {}
  std::size_t size() const { return bytes_.size() / kEntryBytes; }
  bool empty() const { return bytes_.empty(); }
  // The i-th block; nullopt for text the encoder could not parse.
  std::optional<Cidr> at(std::size_t i) const;
  // True if some block contains `ip` (false for an empty list).
  bool AnyContains(const IpAddress& ip) const;

 private:
  std::string_view bytes_;
};

// A record decoded in place: every view points into the bytes it was decoded
// from, which must outlive it.
struct KeyRecordView {
  std::string_view account_id;
  std::string_view secret_hash;  // 32 bytes
  bool live = true;
  bool revoked = false;
  TimeMs ends_at = 0;
  Str16List scopes;
  CidrList allowed_cidrs;
};

std::string EncodeKeyRecord(const KeyRecord& r);
// false if the bytes are not a valid record (then *out is unspecified).
bool DecodeKeyRecord(std::string_view bytes, KeyRecordView* out);
// The owned form; allowed_cidrs as canonical text ("" for an entry that matches nothing).
bool DecodeKeyRecord(std::string_view bytes, KeyRecord* out);

}  // namespace authledger
