// domain/crypto: hashes and MACs against published vectors, CRC-32, hex and
// base62 codecs, constant-time comparison and the CSPRNG helpers.
#include "domain/crypto.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace authledger {
namespace {

std::string Hex(std::string_view s) { return ToHex(reinterpret_cast<const unsigned char*>(s.data()), s.size()); }

// FIPS 180-2 / NIST CSRC example vectors.
TEST(DomainCryptoTest, Sha256MatchesFipsVectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(ToHex(Sha256(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(DomainCryptoTest, Sha256HashesEmbeddedNulBytes) {
  std::string with_nul("a\0b", 3);
  EXPECT_NE(ToHex(Sha256(with_nul)), ToHex(Sha256("a")));
  EXPECT_NE(ToHex(Sha256(with_nul)), ToHex(Sha256("ab")));
}

// RFC 4231 test cases 1, 2, 3, 4, 6, 7 (5 is a truncated output).
TEST(DomainCryptoTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(ToHex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(ToHex(HmacSha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
  EXPECT_EQ(ToHex(HmacSha256(key4, std::string(50, '\xcd'))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  EXPECT_EQ(ToHex(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(ToHex(HmacSha256(std::string(131, '\xaa'),
                             "This is a test using a larger than block-size key and a larger than block-size "
                             "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// The pre-keyed HMAC gives the same answers as the one-shot one.
TEST(DomainCryptoTest, HmacSha256KeyMatchesRfc4231) {
  HmacSha256Key k1(std::string(20, '\x0b'));
  EXPECT_EQ(ToHex(k1.Mac("Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(ToHex(k1.Mac({"Hi", " ", "There"})), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Reusable: the keyed state is not consumed by a Mac() call.
  EXPECT_EQ(ToHex(k1.Mac("Hi There")), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  HmacSha256Key jefe("Jefe");
  EXPECT_EQ(ToHex(jefe.Mac({"what do ya want ", "", "for nothing?"})),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  HmacSha256Key big(std::string(131, '\xaa'));
  EXPECT_EQ(ToHex(big.Mac("Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  HmacSha256Key empty_key("");
  EXPECT_EQ(ToHex(empty_key.Mac("data")), ToHex(HmacSha256("", "data")));
  EXPECT_EQ(ToHex(jefe.Mac(std::initializer_list<std::string_view>{})), ToHex(HmacSha256("Jefe", "")));
  EXPECT_EQ(ToHex(jefe.Mac(std::string_view(""))), ToHex(HmacSha256("Jefe", "")));
}

TEST(DomainCryptoTest, HmacSha256KeyIsThreadSafe) {
  HmacSha256Key k("pepper");
  const std::string want = ToHex(HmacSha256("pepper", "id:secret"));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (ToHex(k.Mac({"id", ":", "secret"})) != want) ++bad;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(DomainCryptoTest, HmacDependsOnKey) {
  EXPECT_NE(ToHex(HmacSha256("k1", "data")), ToHex(HmacSha256("k2", "data")));
  EXPECT_NE(ToHex(HmacSha256("", "data")), ToHex(Sha256("data")));
}

TEST(DomainCryptoTest, Crc32CheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

TEST(DomainCryptoTest, Crc32IsIncremental) {
  EXPECT_EQ(Crc32("6789", Crc32("12345")), 0xCBF43926u);
  EXPECT_EQ(Crc32("", Crc32("123456789")), 0xCBF43926u);
}

TEST(DomainCryptoTest, ToHexIsLowercaseAndFromHexRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string hex = Hex(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  for (char c : hex) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << c;
  std::string back;
  ASSERT_TRUE(FromHex(hex, &back));
  EXPECT_EQ(back, all);
}

TEST(DomainCryptoTest, FromHexAcceptsUppercase) {
  std::string out;
  ASSERT_TRUE(FromHex("DEADbeef", &out));
  EXPECT_EQ(out, std::string("\xde\xad\xbe\xef"));
  ASSERT_TRUE(FromHex("", &out));
  EXPECT_TRUE(out.empty());
}

TEST(DomainCryptoTest, FromHexRejectsOddLengthAndNonHex) {
  std::string out;
  EXPECT_FALSE(FromHex("abc", &out));
  EXPECT_FALSE(FromHex("0g", &out));
  EXPECT_FALSE(FromHex("g0", &out));
  EXPECT_FALSE(FromHex("12 4", &out));
  EXPECT_FALSE(FromHex("0x12", &out));
  EXPECT_FALSE(FromHex(std::string("0\0", 2), &out));
}

TEST(DomainCryptoTest, ConstantTimeEqualsStrings) {
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abc")));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view(""), std::string_view("")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc"), std::string_view("abd")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("abc"), std::string_view("ab")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("xbc"), std::string_view("abc")));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view(std::string("a\0b", 3)), std::string_view(std::string("a\0c", 3))));
}

TEST(DomainCryptoTest, ConstantTimeEqualsDigests) {
  Digest a = Sha256("x"), b = Sha256("x"), c = Sha256("y");
  EXPECT_TRUE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, c));
  Digest d = a;
  d[31] ^= 1;
  EXPECT_FALSE(ConstantTimeEquals(a, d));
}

TEST(DomainCryptoTest, Base62FixedKnownValues) {
  EXPECT_EQ(Base62Fixed(0, 6), "000000");
  EXPECT_EQ(Base62Fixed(61, 1), "z");
  EXPECT_EQ(Base62Fixed(62, 2), "10");
  EXPECT_EQ(Base62Fixed(10, 3), "00A");
  EXPECT_EQ(Base62Fixed(36, 1), "a");
  EXPECT_EQ(Base62Fixed(62 * 62 - 1, 2), "zz");
}

TEST(DomainCryptoTest, Base62RoundTrip) {
  const std::uint64_t values[] = {0,          1,          61,         62,         3843,       3844,
                                  0xCBF43926, 0xFFFFFFFF, 1ull << 40, 1ull << 63, UINT64_MAX, UINT64_MAX - 1};
  for (std::uint64_t v : values) {
    std::string s = Base62Fixed(v, 11);
    ASSERT_EQ(s.size(), 11u);
    EXPECT_TRUE(IsBase62(s));
    std::uint64_t back = 12345;
    ASSERT_TRUE(ParseBase62(s, &back)) << s;
    EXPECT_EQ(back, v) << s;
  }
  // CRC-32 values fit in the 6 characters used by the key checksum.
  std::uint64_t back = 0;
  ASSERT_TRUE(ParseBase62(Base62Fixed(0xFFFFFFFFu, 6), &back));
  EXPECT_EQ(back, 0xFFFFFFFFu);
}

TEST(DomainCryptoTest, ParseBase62RejectsOverflowAndBadChars) {
  std::uint64_t v = 0;
  EXPECT_FALSE(ParseBase62("zzzzzzzzzzz", &v));  // 62^11 - 1 > 2^64 - 1
  std::string max = Base62Fixed(UINT64_MAX, 11);
  ASSERT_TRUE(ParseBase62(max, &v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_FALSE(ParseBase62(max + "0", &v));
  EXPECT_FALSE(ParseBase62("12-3", &v));
  EXPECT_FALSE(ParseBase62("_", &v));
  EXPECT_FALSE(ParseBase62("a b", &v));
  EXPECT_FALSE(IsBase62("ab+"));
  EXPECT_FALSE(IsBase62("é"));
  EXPECT_TRUE(IsBase62("09AZaz"));
}

TEST(DomainCryptoTest, RandomBytesLengthAndVariety) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  std::string a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST(DomainCryptoTest, RandomBase62AlphabetAndCoverage) {
  std::set<char> seen;
  for (int i = 0; i < 200; ++i) {
    std::string s = RandomBase62(33);
    ASSERT_EQ(s.size(), 33u);
    ASSERT_TRUE(IsBase62(s)) << s;
    seen.insert(s.begin(), s.end());
  }
  // 6600 draws from 62 symbols: every symbol shows up (a missing one would
  // mean a broken alphabet; the chance of a miss by luck is ~1e-44).
  EXPECT_EQ(seen.size(), 62u);
  EXPECT_NE(RandomBase62(33), RandomBase62(33));
  EXPECT_EQ(RandomBase62(0), "");
  EXPECT_EQ(RandomBase62(1000).size(), 1000u);
}

TEST(DomainCryptoTest, RandomBase62HasNoModuloBias) {
  // A biased "byte % 62" over all 256 byte values would make '0'..'7' about 20%
  // more likely than the rest. Uniform: 8/62 of draws; biased: 8*5/256.
  const std::size_t n = 200000;
  std::string s = RandomBase62(n);
  std::size_t low = 0;
  for (char c : s) low += (c >= '0' && c <= '7');
  const double p = 8.0 / 62.0;
  const double mean = p * n, sd = std::sqrt(n * p * (1 - p));  // ~150
  EXPECT_LT(std::abs(static_cast<double>(low) - mean), 8 * sd) << low << " of " << n;
}

TEST(DomainCryptoTest, SecureWipeClears) {
  std::string s = "secret";
  SecureWipe(s);
  EXPECT_TRUE(s.empty());
  std::string e;
  SecureWipe(e);
  EXPECT_TRUE(e.empty());
}

// The bytes a wipe leaves behind in a buffer that stays allocated (clear() keeps the capacity).
bool AllZero(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

TEST(DomainCryptoTest, SecureWipeZeroesTheBytesInPlace) {
  std::string s(64, 'k');
  const char* bytes = s.data();
  SecureWipe(s);
  EXPECT_EQ(s.data(), bytes);  // the same buffer, now zero
  EXPECT_TRUE(AllZero(bytes, 64));
  char raw[32];
  std::memset(raw, 'k', sizeof raw);
  SecureWipe(raw, sizeof raw);
  EXPECT_TRUE(AllZero(raw, sizeof raw));
}

TEST(DomainCryptoTest, SecretStringWipesWhatItTakesAndWhatItHeld) {
  std::string source(64, 'p');
  const char* source_bytes = source.data();
  SecretString secret(std::move(source));
  EXPECT_EQ(secret.view(), std::string(64, 'p'));
  EXPECT_TRUE(source.empty());  // the string it was built from is wiped, not just moved from
  EXPECT_TRUE(AllZero(source_bytes, 64));

  // Copies and moves: each holder has the secret once, the moved-from one is wiped.
  SecretString copy = secret;
  EXPECT_EQ(copy.view(), secret.view());
  const char* copy_bytes = copy.view().data();
  SecretString moved(std::move(copy));
  EXPECT_EQ(moved.view(), std::string(64, 'p'));
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from secret is wiped and empty
  EXPECT_TRUE(AllZero(copy_bytes, 64));

  // Replacing a secret wipes the old bytes first; assigning from a string wipes that string.
  std::string next(64, 'n');
  moved = std::move(next);
  EXPECT_EQ(moved.view(), std::string(64, 'n'));
  EXPECT_TRUE(next.empty());

  // Wipe() (what the destructor calls) zeroes the bytes in place.
  const char* bytes = secret.view().data();
  secret.Wipe();
  EXPECT_TRUE(secret.empty());
  EXPECT_TRUE(AllZero(bytes, 64));
  // It passes where a view is taken (HashSecret, GenerateApiKey).
  const std::string_view as_view = moved;
  EXPECT_EQ(as_view.size(), 64u);
}

}  // namespace
}  // namespace authledger
