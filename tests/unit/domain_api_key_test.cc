// domain/api_key: the key format, its checksum, and the keyed hash of the secret.
#include "domain/api_key.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "domain/crypto.h"

namespace authledger {
namespace {

// Status codes by name, so failures print readably.
std::string CodeOf(const Status& s) { return Status::CodeName(s.code()); }

constexpr std::string_view kPepper = "pepper-for-tests";
constexpr std::size_t kTail = kKeyIdLength + kSecretLength + kChecksumLength;  // 51

// Every character a typo could plausibly produce: base62, separators, punctuation.
const std::string& TypoAlphabet() {
  static const std::string a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-.+/= ~";
  return a;
}

TEST(DomainApiKeyTest, EnvironmentNames) {
  EXPECT_EQ(EnvironmentName(KeyEnvironment::kLive), "live");
  EXPECT_EQ(EnvironmentName(KeyEnvironment::kTest), "test");
  EXPECT_EQ(ParseEnvironment("live"), KeyEnvironment::kLive);
  EXPECT_EQ(ParseEnvironment("test"), KeyEnvironment::kTest);
  EXPECT_FALSE(ParseEnvironment("LIVE").has_value());
  EXPECT_FALSE(ParseEnvironment("prod").has_value());
  EXPECT_FALSE(ParseEnvironment("").has_value());
  EXPECT_FALSE(ParseEnvironment("live ").has_value());
}

TEST(DomainApiKeyTest, BrandRules) {
  EXPECT_TRUE(IsValidBrand("al"));
  EXPECT_TRUE(IsValidBrand("sp"));
  EXPECT_TRUE(IsValidBrand("a1"));
  EXPECT_TRUE(IsValidBrand("abcdefghij"));    // 10 chars: the maximum
  EXPECT_FALSE(IsValidBrand("abcdefghijk"));  // 11
  EXPECT_FALSE(IsValidBrand("a"));            // 1
  EXPECT_FALSE(IsValidBrand(""));
  EXPECT_FALSE(IsValidBrand("1a"));  // must start with a letter
  EXPECT_FALSE(IsValidBrand("Al"));
  EXPECT_FALSE(IsValidBrand("a_"));
  EXPECT_FALSE(IsValidBrand("a-b"));
}

TEST(DomainApiKeyTest, KeyIdRules) {
  EXPECT_TRUE(IsKeyId("7f3aQ9cXb2Lm"));
  EXPECT_FALSE(IsKeyId("7f3aQ9cXb2L"));
  EXPECT_FALSE(IsKeyId("7f3aQ9cXb2Lmn"));
  EXPECT_FALSE(IsKeyId("7f3aQ9cXb2L_"));
  EXPECT_FALSE(IsKeyId(""));
}

TEST(DomainApiKeyTest, GeneratedKeyRoundTripsThroughParse) {
  for (KeyEnvironment env : {KeyEnvironment::kLive, KeyEnvironment::kTest}) {
    NewKeyMaterial m = GenerateApiKey("al", env, kPepper);
    const std::string prefix = std::string("al_") + std::string(EnvironmentName(env)) + "_";
    ASSERT_EQ(m.full_key.substr(0, prefix.size()), prefix);
    ASSERT_EQ(m.full_key.size(), prefix.size() + kTail);
    auto p = ParseApiKey(m.full_key);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->brand, "al");
    EXPECT_EQ(p->environment, env);
    EXPECT_EQ(p->key_id, m.key_id);
    EXPECT_EQ(p->key_id.size(), 12u);
    EXPECT_EQ(p->secret.size(), 33u);
    EXPECT_TRUE(IsKeyId(p->key_id));
    EXPECT_TRUE(IsBase62(p->secret));
    // The id is the 12 characters after the prefix; the secret follows it.
    EXPECT_EQ(m.full_key.substr(prefix.size(), 12), m.key_id);
    EXPECT_EQ(std::string(p->secret), m.full_key.substr(prefix.size() + 12, 33));
    // The stored hash is HMAC(pepper, id:secret) of exactly these parts.
    EXPECT_TRUE(ConstantTimeEquals(HashSecret(kPepper, p->key_id, p->secret), m.secret_hash));
    EXPECT_EQ(ToHex(m.secret_hash), ToHex(HmacSha256(kPepper, std::string(p->key_id) + ":" + std::string(p->secret))));
    // A different pepper gives a different hash.
    EXPECT_FALSE(ConstantTimeEquals(HashSecret("other", p->key_id, p->secret), m.secret_hash));
  }
}

TEST(DomainApiKeyTest, ChecksumIsCrc32OfEverythingBefore) {
  NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
  std::string body = m.full_key.substr(0, m.full_key.size() - kChecksumLength);
  EXPECT_EQ(m.full_key.substr(m.full_key.size() - kChecksumLength), Base62Fixed(Crc32(body), 6));
}

TEST(DomainApiKeyTest, FormatApiKeyIsDeterministicAndParses) {
  const std::string id = "7f3aQ9cXb2Lm";
  const std::string secret = "4kPq0123456789ABCDEFGHIJabcdefghi";
  ASSERT_EQ(secret.size(), kSecretLength);
  std::string k = FormatApiKey("al", KeyEnvironment::kTest, id, secret);
  EXPECT_EQ(k, FormatApiKey("al", KeyEnvironment::kTest, id, secret));
  EXPECT_EQ(k.substr(0, 8 + 12 + 33), "al_test_" + id + secret);
  auto p = ParseApiKey(k);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->key_id, id);
  EXPECT_EQ(p->secret, secret);
  EXPECT_EQ(p->environment, KeyEnvironment::kTest);
}

TEST(DomainApiKeyTest, KeysAreUnique) {
  std::set<std::string> keys, ids;
  for (int i = 0; i < 1000; ++i) {
    NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
    keys.insert(m.full_key);
    ids.insert(m.key_id);
  }
  EXPECT_EQ(keys.size(), 1000u);
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(DomainApiKeyTest, SecretCarriesAtLeast192Bits) {
  // 33 base62 characters = 33 * log2(62) ~ 196.5 bits.
  EXPECT_GE(kSecretLength * 5.954, 192.0);
  NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
  auto p = ParseApiKey(m.full_key);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->secret.size(), 33u);
  // The secret is not derived from the id (two keys never share a secret).
  std::set<std::string> secrets;
  for (int i = 0; i < 200; ++i) {
    NewKeyMaterial k = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
    secrets.insert(k.full_key.substr(3 + 5 + 12, 33));
  }
  EXPECT_EQ(secrets.size(), 200u);
}

TEST(DomainApiKeyTest, EverySingleCharacterSubstitutionIsRejected) {
  for (int round = 0; round < 3; ++round) {
    NewKeyMaterial m = GenerateApiKey("al", round == 1 ? KeyEnvironment::kTest : KeyEnvironment::kLive, kPepper);
    const std::string& key = m.full_key;
    ASSERT_TRUE(ParseApiKey(key).ok());
    int tried = 0;
    for (std::size_t pos = 0; pos < key.size(); ++pos) {
      for (char c : TypoAlphabet()) {
        if (c == key[pos]) continue;
        std::string typo = key;
        typo[pos] = c;
        ++tried;
        EXPECT_FALSE(ParseApiKey(typo).ok()) << "typo at " << pos << " ('" << key[pos] << "'->'" << c << "') accepted";
      }
    }
    EXPECT_GT(tried, 59 * 60);
  }
}

TEST(DomainApiKeyTest, AdjacentTranspositionsAreRejected) {
  NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
  for (std::size_t pos = 0; pos + 1 < m.full_key.size(); ++pos) {
    if (m.full_key[pos] == m.full_key[pos + 1]) continue;
    std::string t = m.full_key;
    std::swap(t[pos], t[pos + 1]);
    EXPECT_FALSE(ParseApiKey(t).ok()) << "transposition at " << pos << " accepted";
  }
}

TEST(DomainApiKeyTest, TruncatedAndExtendedKeysRejected) {
  NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
  for (std::size_t n = 0; n < m.full_key.size(); ++n)
    EXPECT_FALSE(ParseApiKey(m.full_key.substr(0, n)).ok()) << "prefix of length " << n << " accepted";
  for (std::size_t n = 1; n < m.full_key.size(); ++n)
    EXPECT_FALSE(ParseApiKey(m.full_key.substr(n)).ok()) << "suffix from " << n << " accepted";
  for (char c : std::string("0aZ_ \n")) {
    EXPECT_FALSE(ParseApiKey(m.full_key + c).ok());
    EXPECT_FALSE(ParseApiKey(std::string(1, c) + m.full_key).ok());
  }
  // A character dropped from the middle, or duplicated.
  for (std::size_t pos = 0; pos < m.full_key.size(); ++pos) {
    std::string dropped = m.full_key;
    dropped.erase(pos, 1);
    EXPECT_FALSE(ParseApiKey(dropped).ok()) << "deletion at " << pos << " accepted";
    std::string doubled = m.full_key;
    doubled.insert(pos, 1, m.full_key[pos]);
    EXPECT_FALSE(ParseApiKey(doubled).ok()) << "insertion at " << pos << " accepted";
  }
}

TEST(DomainApiKeyTest, BadBrandOrEnvironmentRejectedEvenWithValidChecksum) {
  const std::string id = "7f3aQ9cXb2Lm";
  const std::string secret(33, 'x');
  // Build keys whose checksum is right for their (bad) text.
  auto with_crc = [](std::string body) { return body + Base62Fixed(Crc32(body), 6); };
  EXPECT_FALSE(ParseApiKey(with_crc("AL_live_" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("a_live_" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("1a_live_" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("_live_" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("al_prod_" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("al_LIVE_" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("al__" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("al_live" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("al" + id + secret)).ok());
  EXPECT_FALSE(ParseApiKey(with_crc("al_live_" + id + secret.substr(1) + "-")).ok());
  // Sanity: the same construction with good parts parses.
  EXPECT_TRUE(ParseApiKey(with_crc("al_live_" + id + secret)).ok());
}

TEST(DomainApiKeyTest, ErrorsAreInvalidArgumentAndNeverEchoTheSecret) {
  NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
  auto p = ParseApiKey(m.full_key);
  ASSERT_TRUE(p.ok());
  const std::string secret(p->secret);
  std::string typo = m.full_key;
  typo[20] = typo[20] == 'A' ? 'B' : 'A';
  auto r = ParseApiKey(typo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(CodeOf(r.status()), "InvalidArgument");
  EXPECT_EQ(r.status().message().find(secret.substr(0, 8)), std::string::npos);
  EXPECT_EQ(r.status().message().find(m.key_id), std::string::npos);
}

TEST(DomainApiKeyTest, EveryValidBrandLengthRoundTrips) {
  // IsValidBrand accepts 2..10 characters, so a key generated with any such
  // brand must parse back.
  for (std::string brand : {"al", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghij"}) {
    ASSERT_TRUE(IsValidBrand(brand));
    NewKeyMaterial m = GenerateApiKey(brand, KeyEnvironment::kLive, kPepper);
    auto p = ParseApiKey(m.full_key);
    EXPECT_TRUE(p.ok()) << "brand '" << brand << "' (key length " << m.full_key.size()
                        << "): " << p.status().ToString();
    if (p.ok()) {
      EXPECT_EQ(p->brand, brand);
      EXPECT_EQ(p->key_id, m.key_id);
    }
  }
}

TEST(DomainApiKeyTest, PreKeyedHashSecretMatches) {
  HmacSha256Key pepper{std::string(kPepper)};
  for (int i = 0; i < 5; ++i) {
    NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, kPepper);
    auto p = ParseApiKey(m.full_key);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(ConstantTimeEquals(HashSecret(pepper, p->key_id, p->secret), m.secret_hash));
    EXPECT_TRUE(
        ConstantTimeEquals(HashSecret(pepper, p->key_id, p->secret), HashSecret(kPepper, p->key_id, p->secret)));
  }
  HmacSha256Key other("other");
  EXPECT_NE(ToHex(HashSecret(other, "abc", "def")), ToHex(HashSecret(pepper, "abc", "def")));
}

TEST(DomainApiKeyTest, HashSecretSeparatesIdAndSecret) {
  // "id:secret" framing: moving characters between id and secret changes the hash.
  EXPECT_NE(ToHex(HashSecret("p", "abc", "def")), ToHex(HashSecret("p", "abcd", "ef")));
  EXPECT_EQ(ToHex(HashSecret("p", "abc", "def")), ToHex(HmacSha256("p", "abc:def")));
}

}  // namespace
}  // namespace authledger
