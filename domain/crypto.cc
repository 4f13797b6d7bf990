#include "domain/crypto.h"

#include <libdeflate.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace authledger {

namespace {
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int Base62Value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  if (c >= 'a' && c <= 'z') return c - 'a' + 36;
  return -1;
}
}  // namespace

Digest Sha256(std::string_view data) {
  // Fetched once: EVP_sha256() makes every call fetch the implementation again, which
  // is a large share of hashing a stored event. Never freed (it lives as long as OpenSSL).
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, kSha256 != nullptr ? kSha256 : EVP_sha256(), nullptr);
  return d;
}

Digest HmacSha256(std::string_view key, std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), d.data(), &len);
  return d;
}

HmacSha256Key::HmacSha256Key(std::string_view key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  keyed_ = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!keyed_ || EVP_MAC_init(keyed_, reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1) {
    std::fputs("authledger: cannot initialise HMAC-SHA256\n", stderr);
    std::abort();
  }
}

HmacSha256Key::~HmacSha256Key() { EVP_MAC_CTX_free(keyed_); }

Digest HmacSha256Key::Mac(std::string_view data) const { return Mac({data}); }

Digest HmacSha256Key::Mac(std::initializer_list<std::string_view> parts) const {
  Digest d{};
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed_);
  bool ok = ctx != nullptr;
  for (std::string_view p : parts)
    ok = ok && EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(p.data()), p.size()) == 1;
  std::size_t len = 0;
  if (!ok || EVP_MAC_final(ctx, d.data(), &len, d.size()) != 1) {
    std::fputs("authledger: HMAC-SHA256 failed\n", stderr);
    std::abort();
  }
  EVP_MAC_CTX_free(ctx);
  return d;
}

std::string ToHex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0xF];
  }
  return out;
}

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  out->reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

std::uint32_t Crc32(std::string_view data, std::uint32_t seed) {
  return libdeflate_crc32(seed, data.data(), data.size());  // zlib's crc32, with PCLMUL where the CPU has it
}

std::string Ed25519PublicKey(std::string_view priv) {
  if (priv.size() != 32) return "";
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(priv.data()), priv.size());
  if (!key) return "";
  std::string pub(32, '\0');
  std::size_t len = pub.size();
  bool ok = EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(pub.data()), &len) == 1 && len == 32;
  EVP_PKEY_free(key);
  return ok ? pub : "";
}

std::string Ed25519Sign(std::string_view priv, std::string_view message) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(priv.data()), priv.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  bool ok = key && ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok || len != 64) {
    std::fputs("authledger: Ed25519 signing failed\n", stderr);
    std::abort();
  }
  return sig;
}

bool Ed25519Verify(std::string_view pub, std::string_view message, std::string_view sig) {
  if (pub.size() != 32 || sig.size() != 64) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(pub.data()), pub.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = key && ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool ConstantTimeEquals(const Digest& a, const Digest& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fputs("authledger: OpenSSL CSPRNG failure; refusing to continue\n", stderr);
    std::abort();
  }
  return out;
}

std::string Base62Fixed(std::uint64_t value, int width) {
  std::string out(static_cast<std::size_t>(width), '0');
  for (int i = width - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kBase62[value % 62];
    value /= 62;
  }
  return out;
}

bool ParseBase62(std::string_view s, std::uint64_t* value) {
  std::uint64_t v = 0;
  for (char c : s) {
    int d = Base62Value(c);
    if (d < 0) return false;
    if (v > (UINT64_MAX - static_cast<std::uint64_t>(d)) / 62) return false;
    v = v * 62 + static_cast<std::uint64_t>(d);
  }
  *value = v;
  return true;
}

std::string RandomBase62(std::size_t n) {
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    std::string buf = RandomBytes(n * 2);
    for (unsigned char b : buf) {
      if (out.size() == n) break;
      if (b < 248) out.push_back(kBase62[b % 62]);  // 248 = 4*62: unbiased
    }
  }
  return out;
}

bool IsBase62(std::string_view s) {
  for (char c : s)
    if (Base62Value(c) < 0) return false;
  return true;
}

void SecureWipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

void SecureWipe(char* p, std::size_t n) {
  if (n > 0) OPENSSL_cleanse(p, n);
}

// Each assignment wipes the old bytes first: an assignment that reallocates frees a wiped buffer.
SecretString& SecretString::operator=(const SecretString& o) {
  if (this != &o) {
    Wipe();
    s_ = o.s_;
  }
  return *this;
}

SecretString& SecretString::operator=(SecretString&& o) noexcept {
  if (this != &o) {
    Wipe();
    s_ = o.s_;
    o.Wipe();
  }
  return *this;
}

SecretString& SecretString::operator=(std::string&& s) {
  Wipe();
  s_ = s;
  SecureWipe(s);
  return *this;
}

}  // namespace authledger
