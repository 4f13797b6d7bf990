// projections/key_index: the binary KeyRecord codec of the hot-path index and
// its mapping from KeyState.
#include "projections/key_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain/crypto.h"

namespace authledger {
namespace {

KeyRecord Sample() {
  KeyRecord r;
  r.account_id = "acct_AbCdEf012345";
  r.secret_hash = Sha256("secret");
  r.live = true;
  r.revoked = false;
  r.ends_at = 1795676673123;
  r.scopes = {"alerts:read", "monitors:read"};
  r.allowed_cidrs = {"10.0.0.0/8", "2001:db8::/32"};
  return r;
}

void ExpectSame(const KeyRecord& a, const KeyRecord& b) {
  EXPECT_EQ(a.account_id, b.account_id);
  EXPECT_EQ(ToHex(a.secret_hash), ToHex(b.secret_hash));
  EXPECT_EQ(a.live, b.live);
  EXPECT_EQ(a.revoked, b.revoked);
  EXPECT_EQ(a.ends_at, b.ends_at);
  EXPECT_EQ(a.scopes, b.scopes);
  EXPECT_EQ(a.allowed_cidrs, b.allowed_cidrs);
}

// Garbage in the output record, so a decoder that forgets to set a field fails.
KeyRecord Dirty() {
  KeyRecord r;
  r.account_id = "dirty";
  r.secret_hash.fill(0xEE);
  r.live = false;
  r.revoked = true;
  r.ends_at = -42;
  r.scopes = {"x:y", "z:w"};
  r.allowed_cidrs = {"1.2.3.4/32"};
  return r;
}

TEST(KeyIndexTest, RoundTrip) {
  KeyRecord r = Sample();
  std::string bytes = EncodeKeyRecord(r);
  KeyRecord back = Dirty();
  ASSERT_TRUE(DecodeKeyRecord(bytes, &back));
  ExpectSame(r, back);
}

TEST(KeyIndexTest, RoundTripEmptyListsAndFlags) {
  for (bool live : {true, false}) {
    for (bool revoked : {true, false}) {
      KeyRecord r;
      r.account_id = "";
      r.live = live;
      r.revoked = revoked;
      r.ends_at = 0;
      std::string bytes = EncodeKeyRecord(r);
      EXPECT_EQ(bytes.size(), 1u + 1 + 32 + 8 + 2 + 2 + 2);
      KeyRecord back = Dirty();
      ASSERT_TRUE(DecodeKeyRecord(bytes, &back));
      ExpectSame(r, back);
    }
  }
}

TEST(KeyIndexTest, RoundTripManyScopesAndExtremeTimes) {
  KeyRecord r = Sample();
  r.scopes.clear();
  for (int i = 0; i < 300; ++i) r.scopes.push_back("scope" + std::to_string(i) + ":read");
  for (int i = 0; i < 32; ++i) r.allowed_cidrs.push_back("192.0.2." + std::to_string(i) + "/32");
  r.scopes.push_back(std::string(1000, 's'));
  for (TimeMs t :
       {TimeMs{0}, TimeMs{1}, TimeMs{-1}, TimeMs{INT64_MAX}, TimeMs{INT64_MIN}, TimeMs{0x0102030405060708}}) {
    r.ends_at = t;
    KeyRecord back = Dirty();
    ASSERT_TRUE(DecodeKeyRecord(EncodeKeyRecord(r), &back)) << t;
    ExpectSame(r, back);
  }
}

TEST(KeyIndexTest, LayoutMatchesTheDocumentedFormat) {
  KeyRecord r;
  r.account_id = "ab";
  r.secret_hash.fill(0x11);
  r.live = true;
  r.revoked = true;
  r.ends_at = 0x0102030405060708;
  r.scopes = {"s:t"};
  r.allowed_cidrs = {};
  std::string b = EncodeKeyRecord(r);
  std::string want;
  want += '\x01';  // version
  want += '\x03';  // live | revoked
  want += std::string(32, '\x11');
  want += std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8);  // i64 little-endian
  want += std::string("\x02\x00"
                      "ab",
                      4);
  want += std::string("\x01\x00"
                      "\x03\x00"
                      "s:t",
                      7);
  want += std::string("\x00\x00", 2);
  EXPECT_EQ(ToHex(reinterpret_cast<const unsigned char*>(b.data()), b.size()),
            ToHex(reinterpret_cast<const unsigned char*>(want.data()), want.size()));
}

TEST(KeyIndexTest, EveryTruncationIsRejected) {
  std::string bytes = EncodeKeyRecord(Sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    KeyRecord out;
    EXPECT_FALSE(DecodeKeyRecord(std::string_view(bytes).substr(0, n), &out)) << "length " << n;
  }
}

TEST(KeyIndexTest, TrailingBytesRejected) {
  std::string bytes = EncodeKeyRecord(Sample());
  KeyRecord out;
  EXPECT_FALSE(DecodeKeyRecord(bytes + '\0', &out));
  EXPECT_FALSE(DecodeKeyRecord(bytes + "xyz", &out));
}

TEST(KeyIndexTest, WrongVersionRejected) {
  std::string bytes = EncodeKeyRecord(Sample());
  for (int v : {0, 2, 0x7F, 0xFF}) {
    std::string b = bytes;
    b[0] = static_cast<char>(v);
    KeyRecord out;
    EXPECT_FALSE(DecodeKeyRecord(b, &out)) << v;
  }
}

TEST(KeyIndexTest, LengthPrefixPointingPastTheEndRejected) {
  KeyRecord r = Sample();
  std::string bytes = EncodeKeyRecord(r);
  // The account id length is at offset 42 (1 + 1 + 32 + 8).
  std::string b = bytes;
  b[42] = static_cast<char>(0xFF);
  b[43] = static_cast<char>(0xFF);
  KeyRecord out;
  EXPECT_FALSE(DecodeKeyRecord(b, &out));
  // A scope count larger than what follows.
  b = bytes;
  std::size_t scopes_at = 44 + r.account_id.size();
  b[scopes_at] = 50;
  EXPECT_FALSE(DecodeKeyRecord(b, &out));
}

// ---- FromState ------------------------------------------------------------------------

KeyState StateWithHash() {
  KeyState k;
  k.id = "KeyA00000001";
  k.environment = "live";
  k.scopes = {"alerts:read", "monitors:read"};
  k.secret_hash = ToHex(Sha256("s"));
  k.allowed_cidrs = {"10.0.0.0/8"};
  return k;
}

TEST(KeyIndexTest, FromStateMapsFields) {
  KeyState k = StateWithHash();
  KeyRecord r = KeyRecord::FromState("acct_AbCdEf012345", k);
  EXPECT_EQ(r.account_id, "acct_AbCdEf012345");
  EXPECT_EQ(ToHex(r.secret_hash), k.secret_hash);
  EXPECT_TRUE(r.live);
  EXPECT_FALSE(r.revoked);
  EXPECT_EQ(r.ends_at, 0);
  EXPECT_EQ(r.scopes, k.scopes);
  EXPECT_EQ(r.allowed_cidrs, k.allowed_cidrs);
  k.environment = "test";
  EXPECT_FALSE(KeyRecord::FromState("a", k).live);
}

TEST(KeyIndexTest, FromStateRevoked) {
  KeyState k = StateWithHash();
  k.revoked_at = 1234;
  KeyRecord r = KeyRecord::FromState("a", k);
  EXPECT_TRUE(r.revoked);
  KeyRecord back;
  ASSERT_TRUE(DecodeKeyRecord(EncodeKeyRecord(r), &back));
  EXPECT_TRUE(back.revoked);
}

TEST(KeyIndexTest, FromStateEndsAtIsTheEarlierOfExpiryAndGrace) {
  KeyState k = StateWithHash();
  k.expires_at = 5000;
  EXPECT_EQ(KeyRecord::FromState("a", k).ends_at, 5000);
  k.grace_until = 3000;
  k.replaced_by = "KeyB00000001";
  EXPECT_EQ(KeyRecord::FromState("a", k).ends_at, 3000);
  k.grace_until = 9000;
  EXPECT_EQ(KeyRecord::FromState("a", k).ends_at, 5000);
  k.expires_at.reset();
  EXPECT_EQ(KeyRecord::FromState("a", k).ends_at, 9000);
}

TEST(KeyIndexTest, FromStateWithUnparseableHashGivesZeroHash) {
  KeyState k = StateWithHash();
  k.secret_hash = "not hex";
  KeyRecord r = KeyRecord::FromState("a", k);
  EXPECT_EQ(ToHex(r.secret_hash), std::string(64, '0'));
  k.secret_hash = std::string(62, 'a');  // 31 bytes: wrong size
  EXPECT_EQ(ToHex(KeyRecord::FromState("a", k).secret_hash), std::string(64, '0'));
}

}  // namespace
}  // namespace authledger
