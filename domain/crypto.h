// Hash, MAC, checksum and randomness primitives (OpenSSL 3 and zlib underneath).
// Pure functions apart from the CSPRNG; no function here logs its inputs.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX

namespace authledger {

using Digest = std::array<unsigned char, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::string_view key, std::string_view data);
// HMAC-SHA256 with a fixed key, keyed once: Mac() only copies the keyed state,
// so the hot path pays no algorithm fetch or key setup. Thread-safe (const).
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;
  Digest Mac(std::string_view data) const;
  // MAC of the concatenation of `parts`, without building it.
  Digest Mac(std::initializer_list<std::string_view> parts) const;

 private:
  ::evp_mac_ctx_st* keyed_;  // EVP_MAC_CTX, never modified after construction
};

std::string ToHex(const unsigned char* p, std::size_t n);
inline std::string ToHex(const Digest& d) { return ToHex(d.data(), d.size()); }
// Lowercase/uppercase hex to bytes; false on odd length or a non-hex digit.
bool FromHex(std::string_view hex, std::string* out);

// CRC-32 (ISO-HDLC, the zlib/PNG polynomial). Optional running `seed` for
// incremental use: Crc32(b, Crc32(a)) == Crc32(a+b).
std::uint32_t Crc32(std::string_view data, std::uint32_t seed = 0);

// Ed25519 (RFC 8032) over raw 32-byte keys. Sign aborts on an OpenSSL failure
// (a bad key is a programming error: keys come from Ed25519PublicKey's checks).
std::string Ed25519PublicKey(std::string_view private_key32);                       // 32 bytes, "" if invalid
std::string Ed25519Sign(std::string_view private_key32, std::string_view message);  // 64 bytes
bool Ed25519Verify(std::string_view public_key32, std::string_view message, std::string_view signature64);

// Compares in time that depends only on the lengths, never on the contents.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
bool ConstantTimeEquals(const Digest& a, const Digest& b);

// `n` bytes from OpenSSL's CSPRNG. Aborts the process if the CSPRNG fails:
// issuing a weak secret is worse than not running.
std::string RandomBytes(std::size_t n);

// Base62 (0-9A-Za-z) text of exactly `width` characters for `value`, most
// significant digit first; `value` must fit.
std::string Base62Fixed(std::uint64_t value, int width);
// Inverse of Base62Fixed; false on a non-base62 character or overflow.
bool ParseBase62(std::string_view s, std::uint64_t* value);
// `n` uniformly random base62 characters (rejection sampling, no modulo bias).
std::string RandomBase62(std::size_t n);
bool IsBase62(std::string_view s);

// Overwrites the string's bytes (OPENSSL_cleanse) before it is freed.
void SecureWipe(std::string& s);
// Overwrites `n` bytes at `p` (a buffer that held a secret: a request's body or header).
void SecureWipe(char* p, std::size_t n);

// A secret that is wiped wherever it goes: on destruction, before it is replaced,
// and in whatever it was taken from (a constructor or assignment from a string
// copies the bytes and wipes the source; a move copies and wipes the moved-from
// secret), so no copy outlives its holder unwiped. For secrets held for the
// process's life: the pepper. Converts to std::string_view implicitly.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string&& s) : s_(s) { SecureWipe(s); }
  SecretString(const SecretString& o) : s_(o.s_) {}
  SecretString(SecretString&& o) noexcept : s_(o.s_) { o.Wipe(); }
  SecretString& operator=(const SecretString& o);
  SecretString& operator=(SecretString&& o) noexcept;
  SecretString& operator=(std::string&& s);
  ~SecretString() { Wipe(); }

  void Wipe() { SecureWipe(s_); }
  std::string_view view() const { return s_; }
  operator std::string_view() const { return s_; }  // NOLINT: passes where a view of the key is taken
  bool empty() const { return s_.empty(); }
  std::size_t size() const { return s_.size(); }

 private:
  std::string s_;
};

}  // namespace authledger
