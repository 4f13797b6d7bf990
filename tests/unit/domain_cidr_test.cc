// domain/cidr: address and CIDR parsing, containment, canonical text, allowlists.
#include "domain/cidr.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace authledger {
namespace {

IpAddress Ip(const char* s) {
  auto ip = ParseIp(s);
  EXPECT_TRUE(ip.has_value()) << s;
  return ip.value_or(IpAddress{});
}

Cidr Block(const char* s) {
  auto c = ParseCidr(s);
  EXPECT_TRUE(c.has_value()) << s;
  return c.value_or(Cidr{});
}

TEST(DomainCidrTest, ParseIpv4IsStoredMapped) {
  auto ip = ParseIp("203.0.113.9");
  ASSERT_TRUE(ip.has_value());
  EXPECT_TRUE(ip->v4);
  const std::array<unsigned char, 16> want = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 203, 0, 113, 9};
  EXPECT_EQ(ip->bytes, want);
}

TEST(DomainCidrTest, ParseIpv6) {
  auto ip = ParseIp("2001:db8::1");
  ASSERT_TRUE(ip.has_value());
  EXPECT_FALSE(ip->v4);
  EXPECT_EQ(ip->bytes[0], 0x20);
  EXPECT_EQ(ip->bytes[1], 0x01);
  EXPECT_EQ(ip->bytes[2], 0x0d);
  EXPECT_EQ(ip->bytes[3], 0xb8);
  EXPECT_EQ(ip->bytes[15], 1);
  auto loop = ParseIp("::1");
  ASSERT_TRUE(loop.has_value());
  EXPECT_FALSE(loop->v4);
}

TEST(DomainCidrTest, Ipv4MappedIpv6IsTheSameAddressAsIpv4) {
  auto a = ParseIp("::ffff:203.0.113.9");
  auto b = ParseIp("203.0.113.9");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->v4);
  EXPECT_EQ(a->bytes, b->bytes);
  EXPECT_TRUE(Block("203.0.113.0/24").Contains(*a));
  auto c = ParseIp("::ffff:cb00:7109");  // hex spelling of the same address
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->bytes, b->bytes);
}

TEST(DomainCidrTest, ParseIpRejectsGarbage) {
  for (const char* s :
       {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-1", "a.b.c.d", "1.2.3.4/32", " 1.2.3.4", "1.2.3.4 ",
        "2001:db8:::1", "2001:db8::g", "localhost", "::ffff:1.2.3.256", "1:2:3:4:5:6:7:8:9"}) {
    EXPECT_FALSE(ParseIp(s).has_value()) << "accepted '" << s << "'";
  }
  EXPECT_FALSE(ParseIp(std::string(46, '1')).has_value());
}

// Found by fuzzing (tests/fuzz/corpus/cidr/regression-embedded-nul): inet_pton stops at a NUL, so an
// address followed by a NUL and anything at all passed as the address ("ip" in a verify body and
// "allowed_cidrs" can carry one as \u0000).
TEST(DomainCidrTest, EmbeddedNulRejected) {
  using namespace std::string_view_literals;
  for (std::string_view s : {"10.0.0.1\0junk"sv, "10.0.0.1\0"sv, "::1\0"sv, "::8:8\0\0.22.0.2.1/12["sv}) {
    EXPECT_FALSE(ParseIp(s).has_value()) << "accepted an address with a NUL, " << s.size() << " bytes";
    EXPECT_FALSE(ParseCidr(s).has_value()) << "accepted a block with a NUL, " << s.size() << " bytes";
  }
  EXPECT_FALSE(ParseCidr("10.0.0.0\0/8"sv).has_value());
  EXPECT_FALSE(ParseCidr("10.0.0.0/8\0"sv).has_value());
}

TEST(DomainCidrTest, V4BlocksContain) {
  Cidr c = Block("203.0.113.0/24");
  EXPECT_EQ(c.prefix, 96 + 24);
  EXPECT_TRUE(c.Contains(Ip("203.0.113.0")));
  EXPECT_TRUE(c.Contains(Ip("203.0.113.255")));
  EXPECT_FALSE(c.Contains(Ip("203.0.114.0")));
  EXPECT_FALSE(c.Contains(Ip("203.0.112.255")));
  Cidr odd = Block("10.0.0.0/9");  // non-byte-aligned prefix
  EXPECT_TRUE(odd.Contains(Ip("10.127.255.255")));
  EXPECT_FALSE(odd.Contains(Ip("10.128.0.0")));
  Cidr host = Block("192.0.2.77/32");
  EXPECT_TRUE(host.Contains(Ip("192.0.2.77")));
  EXPECT_FALSE(host.Contains(Ip("192.0.2.76")));
  EXPECT_FALSE(host.Contains(Ip("192.0.2.78")));
}

TEST(DomainCidrTest, V4AnyDoesNotMatchV6) {
  Cidr any4 = Block("0.0.0.0/0");
  EXPECT_TRUE(any4.Contains(Ip("1.2.3.4")));
  EXPECT_TRUE(any4.Contains(Ip("255.255.255.255")));
  EXPECT_FALSE(any4.Contains(Ip("2001:db8::1")));
  EXPECT_FALSE(any4.Contains(Ip("::1")));
  Cidr any6 = Block("::/0");
  EXPECT_TRUE(any6.Contains(Ip("2001:db8::1")));
  EXPECT_TRUE(any6.Contains(Ip("1.2.3.4")));  // ::/0 is everything, mapped v4 included
}

TEST(DomainCidrTest, V6BlocksContain) {
  Cidr c = Block("2001:db8::/32");
  EXPECT_EQ(c.prefix, 32);
  EXPECT_TRUE(c.Contains(Ip("2001:db8::1")));
  EXPECT_TRUE(c.Contains(Ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
  EXPECT_FALSE(c.Contains(Ip("2001:db9::")));
  EXPECT_FALSE(c.Contains(Ip("203.0.113.9")));
  Cidr odd = Block("2001:db8:8000::/33");
  EXPECT_TRUE(odd.Contains(Ip("2001:db8:ffff::1")));
  EXPECT_FALSE(odd.Contains(Ip("2001:db8:7fff::1")));
}

TEST(DomainCidrTest, BareAddressIsHostBlock) {
  Cidr v4 = Block("198.51.100.7");
  EXPECT_EQ(v4.prefix, 128);
  EXPECT_EQ(v4.ToString(), "198.51.100.7/32");
  EXPECT_TRUE(v4.Contains(Ip("198.51.100.7")));
  EXPECT_FALSE(v4.Contains(Ip("198.51.100.8")));
  Cidr v6 = Block("2001:db8::5");
  EXPECT_EQ(v6.prefix, 128);
  EXPECT_EQ(v6.ToString(), "2001:db8::5/128");
  EXPECT_TRUE(v6.Contains(Ip("2001:db8::5")));
  EXPECT_FALSE(v6.Contains(Ip("2001:db8::6")));
}

TEST(DomainCidrTest, HostBitsSetRejected) {
  for (const char* s : {"10.0.0.1/8", "203.0.113.1/24", "10.128.0.0/8", "11.0.0.0/7", "192.0.2.1/31", "2001:db8::1/32",
                        "2001:db8:8000::/32", "::1/127"}) {
    EXPECT_FALSE(ParseCidr(s).has_value()) << "accepted '" << s << "'";
  }
  EXPECT_TRUE(ParseCidr("10.0.0.0/8").has_value());
  EXPECT_TRUE(ParseCidr("10.0.0.0/7").has_value());
  EXPECT_TRUE(ParseCidr("192.0.2.0/31").has_value());
  EXPECT_TRUE(ParseCidr("::1/128").has_value());
}

TEST(DomainCidrTest, MalformedPrefixRejected) {
  for (const char* s :
       {"10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8a", "10.0.0.0/ 8", "10.0.0.0/8/8",
        "10.0.0.0/1000", "2001:db8::/129", "/8", "", "10.0.0.0//8", "garbage/8", "10.0.0/8"}) {
    EXPECT_FALSE(ParseCidr(s).has_value()) << "accepted '" << s << "'";
  }
}

TEST(DomainCidrTest, ToStringIsCanonical) {
  EXPECT_EQ(Block("203.0.113.0/24").ToString(), "203.0.113.0/24");
  EXPECT_EQ(Block("0.0.0.0/0").ToString(), "0.0.0.0/0");
  EXPECT_EQ(Block("2001:DB8::/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Block("2001:0db8:0000:0000:0000:0000:0000:0000/32").ToString(), "2001:db8::/32");
  EXPECT_EQ(Block("::/0").ToString(), "::/0");
  EXPECT_EQ(Block("::ffff:203.0.113.9").ToString(), "203.0.113.9/32");
  // The canonical text parses back to the same block.
  for (const char* s :
       {"203.0.113.0/24", "10.0.0.0/9", "2001:db8::/32", "2001:db8:8000::/33", "::/0", "198.51.100.7"}) {
    Cidr a = Block(s);
    auto b = ParseCidr(a.ToString());
    ASSERT_TRUE(b.has_value()) << a.ToString();
    EXPECT_EQ(b->base.bytes, a.base.bytes);
    EXPECT_EQ(b->prefix, a.prefix);
    EXPECT_EQ(b->ToString(), a.ToString());
  }
}

// An address written in IPv6 notation takes an IPv6 prefix length (0..128):
// "::ffff:192.0.2.0/120" is the IPv4 block 192.0.2.0/24, and an explicit /128
// on a mapped address is the same host block as the bare address.
TEST(DomainCidrTest, Ipv4MappedBlockTakesIpv6PrefixLength) {
  auto c = ParseCidr("::ffff:192.0.2.0/120");
  ASSERT_TRUE(c.has_value()) << "::ffff:192.0.2.0/120 rejected";
  EXPECT_TRUE(c->Contains(Ip("192.0.2.200")));
  EXPECT_FALSE(c->Contains(Ip("192.0.3.1")));
  EXPECT_EQ(c->ToString(), "192.0.2.0/24");
  auto host = ParseCidr("::ffff:192.0.2.1/128");
  ASSERT_TRUE(host.has_value()) << "::ffff:192.0.2.1/128 rejected";
  EXPECT_EQ(host->ToString(), "192.0.2.1/32");
}

TEST(DomainCidrTest, AllowedByList) {
  EXPECT_TRUE(AllowedByList({}, Ip("1.2.3.4")));
  EXPECT_TRUE(AllowedByList({}, Ip("2001:db8::1")));
  std::vector<Cidr> list = {Block("10.0.0.0/8"), Block("2001:db8::/32"), Block("192.0.2.9")};
  EXPECT_TRUE(AllowedByList(list, Ip("10.1.2.3")));
  EXPECT_TRUE(AllowedByList(list, Ip("::ffff:10.1.2.3")));
  EXPECT_TRUE(AllowedByList(list, Ip("2001:db8:1::1")));
  EXPECT_TRUE(AllowedByList(list, Ip("192.0.2.9")));
  EXPECT_FALSE(AllowedByList(list, Ip("192.0.2.10")));
  EXPECT_FALSE(AllowedByList(list, Ip("11.0.0.1")));
  EXPECT_FALSE(AllowedByList(list, Ip("2001:db9::1")));
  EXPECT_FALSE(AllowedByList(list, Ip("::1")));
}

}  // namespace
}  // namespace authledger
