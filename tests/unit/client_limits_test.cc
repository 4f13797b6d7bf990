// The gateway's client bookkeeping without a network: which address a request
// comes from (gateway/client_address.h), rate limiters bounded without a shared
// overflow bucket (gateway/rate_limiter.h), and concurrency quotas
// (gateway/concurrency_quota.h).
#include <gtest/gtest.h>

#include "domain/clock.h"
#include "gateway/client_address.h"
#include "gateway/concurrency_quota.h"
#include "gateway/rate_limiter.h"

namespace authledger {
namespace {

HttpRequest With(const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpRequest req{http::verb::get, "/", 11};
  for (const auto& [k, v] : headers) req.insert(k, v);
  return req;
}

TrustedProxies Proxies(const std::vector<std::string>& blocks) {
  std::vector<Cidr> cidrs;
  for (const auto& b : blocks) cidrs.push_back(*ParseCidr(b));
  return TrustedProxies(std::move(cidrs));
}

TEST(ClientAddressTest, HeadersCountOnlyFromATrustedPeer) {
  const auto req = With({{"X-Forwarded-For", "198.51.100.7"}, {"Forwarded", "for=198.51.100.8"}});
  EXPECT_EQ(ClientAddress(req, "192.0.2.1", TrustedProxies()), "192.0.2.1");
  EXPECT_EQ(ClientAddress(req, "192.0.2.1", Proxies({"10.0.0.0/8"})), "192.0.2.1");
  EXPECT_EQ(ClientAddress(req, "10.0.0.2", Proxies({"10.0.0.0/8"})), "198.51.100.8");  // Forwarded wins
  EXPECT_EQ(ClientAddress(With({}), "10.0.0.2", Proxies({"10.0.0.0/8"})), "10.0.0.2");
}

TEST(ClientAddressTest, TheRightMostUntrustedHopIsTheClient) {
  const auto trusted = Proxies({"10.0.0.0/8", "2001:db8:ff::/48"});
  auto at = [&](std::vector<std::pair<std::string, std::string>> h) {
    return ClientAddress(With(h), "10.9.9.9", trusted);
  };
  EXPECT_EQ(at({{"X-Forwarded-For", "203.0.113.1, 198.51.100.7, 10.1.1.1"}}), "198.51.100.7");
  EXPECT_EQ(at({{"X-Forwarded-For", "203.0.113.1"}, {"X-Forwarded-For", "198.51.100.7"}}), "198.51.100.7");
  EXPECT_EQ(at({{"X-Forwarded-For", "10.1.1.1, 10.2.2.2"}}), "10.1.1.1");  // all trusted: the left-most
  EXPECT_EQ(at({{"X-Forwarded-For", "198.51.100.7:8443"}}), "198.51.100.7");
  EXPECT_EQ(at({{"X-Forwarded-For", "[2001:db8::1]:443"}}), "2001:db8::1");
  EXPECT_EQ(at({{"X-Forwarded-For", "2001:db8::1"}}), "2001:db8::1");
  EXPECT_EQ(at({{"X-Forwarded-For", "::ffff:198.51.100.7"}}), "198.51.100.7");
  EXPECT_EQ(at({{"X-Forwarded-For", "198.51.100.7, unknown"}}), "10.9.9.9");  // no address: the proxy
  EXPECT_EQ(at({{"X-Forwarded-For", "garbage, 10.1.1.1"}}), "10.1.1.1");
  EXPECT_EQ(at({{"Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43, For=\"[2001:db8:cafe::17]:4711\""}}),
            "2001:db8:cafe::17");
  EXPECT_EQ(at({{"Forwarded", "for=192.0.2.60, proto=https"}}), "10.9.9.9");  // an element without for=
  EXPECT_EQ(at({{"Forwarded", "for=_hidden"}}), "10.9.9.9");
  EXPECT_EQ(at({{"Forwarded", "for=\"198.51.100.1\";by=\"a,b\", for=10.3.3.3"}}), "198.51.100.1");
}

TEST(ClientAddressTest, SourceKeysGroupAnIpv6ClientByItsSlash64) {
  EXPECT_EQ(SourceKey("198.51.100.7"), "198.51.100.7");
  EXPECT_EQ(SourceKey("2001:db8:1:2::1"), SourceKey("2001:db8:1:2:ffff::9"));
  EXPECT_NE(SourceKey("2001:db8:1:2::1"), SourceKey("2001:db8:1:3::1"));
}

TEST(RateLimiterTest, ANewKeyEvictsTheLeastRecentOneInsteadOfSharingAWindow) {
  ManualClock clock(0);
  RateLimiter limiter(clock, 1, kMinuteMs, RateLimiter::kShards * 4);  // 4 keys per shard
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(limiter.Hit("flood-" + std::to_string(i)), 0) << i;
  EXPECT_EQ(limiter.Hit("fresh"), 0);
  EXPECT_GT(limiter.Hit("fresh"), 0);  // its own window, still counted
  EXPECT_EQ(limiter.Hit("another"), 0);
  clock.Advance(kMinuteMs);
  EXPECT_EQ(limiter.Hit("fresh"), 0);
}

TEST(RateLimiterTest, AKeyCountedAgainAndAgainIsNotForgotten) {
  ManualClock clock(0);
  RateLimiter limiter(clock, 2, kMinuteMs, RateLimiter::kShards * 4);
  EXPECT_EQ(limiter.Hit("offender"), 0);
  EXPECT_EQ(limiter.Hit("offender"), 0);
  for (int i = 0; i < 1000; ++i) {
    limiter.Hit("quiet-" + std::to_string(i));
    EXPECT_GT(limiter.Hit("offender"), 0) << i;  // still over its limit: it was counted most recently
  }
}

TEST(ConcurrencyQuotaTest, PerKeyAndTotalCaps) {
  ConcurrencyQuota q(3, 2);
  auto a1 = q.Acquire("a");
  auto a2 = q.Acquire("a");
  auto a3 = q.Acquire("a");
  EXPECT_TRUE(a1 && a2);
  EXPECT_FALSE(a3);
  EXPECT_EQ(a3.refusal(), ConcurrencyQuota::Refusal::kPerKey);
  auto b1 = q.Acquire("b");
  EXPECT_TRUE(b1);
  auto c1 = q.Acquire("");
  EXPECT_FALSE(c1);
  EXPECT_EQ(c1.refusal(), ConcurrencyQuota::Refusal::kTotal);
  a1 = ConcurrencyQuota::Slot();  // released
  auto a4 = q.Acquire("a");       // in use: a2, a4, b1
  EXPECT_TRUE(a4);
  EXPECT_EQ(q.Acquire("c").refusal(), ConcurrencyQuota::Refusal::kTotal);
  auto moved = std::move(b1);  // a move keeps the place
  EXPECT_EQ(q.Acquire("c").refusal(), ConcurrencyQuota::Refusal::kTotal);
  moved = ConcurrencyQuota::Slot();
  EXPECT_TRUE(q.Acquire("c"));
}

}  // namespace
}  // namespace authledger
