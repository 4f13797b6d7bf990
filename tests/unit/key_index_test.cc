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
  r.allowed_cidrs = {"10.1.0.0/16", "2001:db8::/32", "::ffff:192.0.2.0/120", "not a cidr"};
  std::string b = EncodeKeyRecord(r);
  std::string want;
  want += '\x02';  // version
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
  want += std::string("\x04\x00", 2);
  // 16 address bytes (IPv4-mapped), prefix bits of the 128-bit form, written as IPv4.
  want += std::string(10, '\0') + "\xFF\xFF\x0A\x01" + std::string(2, '\0') + '\x70' + '\x01';
  want += std::string("\x20\x01\x0D\xB8", 4) + std::string(12, '\0') + '\x20' + '\x00';
  want += std::string(10, '\0') + std::string("\xFF\xFF\xC0\x00\x02\x00", 6) + '\x78' + '\x01';
  want += std::string(16, '\0') + '\xFF' + '\x00';  // unparseable: matches nothing
  EXPECT_EQ(ToHex(reinterpret_cast<const unsigned char*>(b.data()), b.size()),
            ToHex(reinterpret_cast<const unsigned char*>(want.data()), want.size()));
}

TEST(KeyIndexTest, ViewPointsIntoTheBytes) {
  const std::string bytes = EncodeKeyRecord(Sample());
  KeyRecordView v;
  ASSERT_TRUE(DecodeKeyRecord(bytes, &v));
  EXPECT_EQ(v.account_id, "acct_AbCdEf012345");
  EXPECT_GE(v.account_id.data(), bytes.data());
  EXPECT_LT(v.account_id.data(), bytes.data() + bytes.size());
  EXPECT_EQ(v.secret_hash, std::string_view(reinterpret_cast<const char*>(Sample().secret_hash.data()), 32));
  EXPECT_TRUE(v.live);
  EXPECT_FALSE(v.revoked);
  EXPECT_EQ(v.ends_at, 1795676673123);
  EXPECT_EQ(std::vector<std::string>(v.scopes.begin(), v.scopes.end()), Sample().scopes);
  EXPECT_EQ(v.scopes.size(), 2u);
  ASSERT_EQ(v.allowed_cidrs.size(), 2u);
  EXPECT_EQ(v.allowed_cidrs.at(0)->ToString(), "10.0.0.0/8");
  EXPECT_EQ(v.allowed_cidrs.at(1)->ToString(), "2001:db8::/32");
  KeyRecordView empty;
  KeyRecord none;
  const std::string none_bytes = EncodeKeyRecord(none);
  ASSERT_TRUE(DecodeKeyRecord(none_bytes, &empty));
  EXPECT_TRUE(empty.scopes.empty());
  EXPECT_EQ(empty.scopes.begin(), empty.scopes.end());
  EXPECT_TRUE(empty.allowed_cidrs.empty());
}

TEST(KeyIndexTest, AllowlistMatchesAddressesInPlace) {
  KeyRecord r = Sample();
  r.allowed_cidrs = {"203.0.113.0/24", "2001:db8::/32", "::ffff:198.51.100.0/120"};
  const std::string bytes = EncodeKeyRecord(r);
  KeyRecordView v;
  ASSERT_TRUE(DecodeKeyRecord(bytes, &v));
  for (const char* in :
       {"203.0.113.0", "203.0.113.255", "2001:db8::1", "2001:db8:ffff::", "198.51.100.7", "::ffff:203.0.113.9"})
    EXPECT_TRUE(v.allowed_cidrs.AnyContains(*ParseIp(in))) << in;
  for (const char* in : {"203.0.114.0", "10.0.0.1", "2001:db9::1", "::1", "198.51.101.7"})
    EXPECT_FALSE(v.allowed_cidrs.AnyContains(*ParseIp(in))) << in;
}

TEST(KeyIndexTest, UnparseableCidrStillRestrictsTheKey) {
  KeyRecord r = Sample();
  r.allowed_cidrs = {"not a cidr", "10.0.0.1/8"};  // the second has host bits set
  const std::string bytes = EncodeKeyRecord(r);
  KeyRecordView v;
  ASSERT_TRUE(DecodeKeyRecord(bytes, &v));
  ASSERT_EQ(v.allowed_cidrs.size(), 2u);  // fail closed: a restricted key stays restricted
  EXPECT_FALSE(v.allowed_cidrs.at(0).has_value());
  for (const char* in : {"10.0.0.1", "0.0.0.0", "::", "255.255.255.255"})
    EXPECT_FALSE(v.allowed_cidrs.AnyContains(*ParseIp(in))) << in;
  KeyRecord back;
  ASSERT_TRUE(DecodeKeyRecord(bytes, &back));
  EXPECT_EQ(back.allowed_cidrs, (std::vector<std::string>{"", ""}));
}

TEST(KeyIndexTest, CidrEntriesOutOfRangeRejected) {
  const std::string bytes = EncodeKeyRecord(Sample());  // two CIDRs, the last 36 bytes
  const std::size_t prefix_at = bytes.size() - CidrList::kEntryBytes + 16;
  for (int prefix : {129, 200, 254}) {
    std::string b = bytes;
    b[prefix_at] = static_cast<char>(prefix);
    KeyRecordView v;
    EXPECT_FALSE(DecodeKeyRecord(b, &v)) << prefix;
  }
  std::string b = bytes;
  b[prefix_at + 1] = 2;  // the IPv4 flag is 0 or 1
  KeyRecordView v;
  EXPECT_FALSE(DecodeKeyRecord(b, &v));
}

TEST(KeyIndexTest, EveryTruncationIsRejected) {
  std::string bytes = EncodeKeyRecord(Sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    KeyRecord out;
    EXPECT_FALSE(DecodeKeyRecord(std::string_view(bytes).substr(0, n), &out)) << "length " << n;
    KeyRecordView view;
    EXPECT_FALSE(DecodeKeyRecord(std::string_view(bytes).substr(0, n), &view)) << "length " << n;
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
  for (int v : {0, 1, 3, 0x7F, 0xFF}) {
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
