// domain/clock and domain/ids: RFC 3339 formatting/parsing, ManualClock, UUIDv7
// and account ids.
#include "domain/clock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "domain/ids.h"

namespace authledger {
namespace {

TEST(DomainClockTest, FormatKnownValues) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(-kDayMs), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1709164800000), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(4102444799999), "2099-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339(1795676673123), "2026-11-26T07:04:33.123Z");
}

TEST(DomainClockTest, ParseKnownValues) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(ParseRfc3339("2026-11-26T07:04:33.123Z"), 1795676673123);
  EXPECT_EQ(ParseRfc3339("2026-11-26T07:04:33.1Z"), 1795676673100);
  EXPECT_EQ(ParseRfc3339("2026-11-26T07:04:33.12Z"), 1795676673120);
  // More than millisecond precision is truncated.
  EXPECT_EQ(ParseRfc3339("2026-11-26T07:04:33.123999Z"), 1795676673123);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseRfc3339("2026-11-26t07:04:33.123z"), 1795676673123);
}

TEST(DomainClockTest, ParseOffsets) {
  EXPECT_EQ(ParseRfc3339("2026-11-26T09:04:33.123+02:00"), 1795676673123);
  EXPECT_EQ(ParseRfc3339("2026-11-26T01:34:33.123-05:30"), 1795676673123);
  EXPECT_EQ(ParseRfc3339("2026-11-26T07:04:33.123+00:00"), 1795676673123);
  EXPECT_EQ(ParseRfc3339("2026-11-26T07:04:33.123-00:00"), 1795676673123);
  // Crossing a day (and year) boundary through the offset.
  EXPECT_EQ(ParseRfc3339("1970-01-01T01:00:00+02:00"), -kHourMs);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:00:00-01:00"), 0);
}

TEST(DomainClockTest, RoundTripManyValues) {
  // Deterministic sweep from 1900 to 2200 with an odd stride, plus edges.
  std::int64_t t = -2208988800000;         // 1900-01-01
  const std::int64_t end = 7258118400000;  // 2200-01-01
  int n = 0;
  for (; t < end; t += 7 * kDayMs + 3 * kHourMs + 17 * kMinuteMs + 13 * kSecondMs + 337, ++n) {
    std::string s = FormatRfc3339(t);
    ASSERT_EQ(s.size(), 24u) << s;
    auto back = ParseRfc3339(s);
    ASSERT_TRUE(back.has_value()) << s;
    ASSERT_EQ(*back, t) << s;
  }
  EXPECT_GT(n, 10000);
  for (std::int64_t e :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, -kDayMs + 1, kDayMs - 1,
        std::int64_t{253402300799999} /* 9999-12-31T23:59:59.999Z */, std::int64_t{-62167219200000} /* 0000-01-01 */}) {
    auto back = ParseRfc3339(FormatRfc3339(e));
    ASSERT_TRUE(back.has_value()) << FormatRfc3339(e);
    EXPECT_EQ(*back, e) << FormatRfc3339(e);
  }
}

TEST(DomainClockTest, LeapYears) {
  EXPECT_TRUE(ParseRfc3339("2000-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseRfc3339("1904-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("1900-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2100-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2024-02-30T00:00:00Z").has_value());
  EXPECT_EQ(*ParseRfc3339("2024-03-01T00:00:00Z") - *ParseRfc3339("2024-02-28T00:00:00Z"), 2 * kDayMs);
  EXPECT_EQ(*ParseRfc3339("2023-03-01T00:00:00Z") - *ParseRfc3339("2023-02-28T00:00:00Z"), 1 * kDayMs);
}

TEST(DomainClockTest, LeapSecondIsClampedToTheSecondBefore) {
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z"), ParseRfc3339("2016-12-31T23:59:59Z"));
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60.500Z"), ParseRfc3339("2016-12-31T23:59:59.500Z"));
}

TEST(DomainClockTest, RejectsMalformed) {
  const char* bad[] = {
      "",
      "2026-11-26",
      "2026-11-26T07:04:33",      // no zone
      "2026-11-26T07:04:33.123",  // no zone
      "2026-11-26 07:04:33Z",     // space separator
      "2026-11-26T07:04:33.Z",    // empty fraction
      "2026-13-01T00:00:00Z",     // month 13
      "2026-00-01T00:00:00Z",     // month 0
      "2026-11-00T00:00:00Z",     // day 0
      "2026-11-31T00:00:00Z",     // November has 30 days
      "2026-04-31T00:00:00Z",
      "2026-11-26T24:00:00Z",
      "2026-11-26T07:60:00Z",
      "2026-11-26T07:04:61Z",
      "2026/11/26T07:04:33Z",
      "2026-11-26T07-04-33Z",
      "26-11-26T07:04:33.123Z",
      "2026-1-26T07:04:33.123Z",
      "2026-11-26T07:04:33.123ZZ",
      "2026-11-26T07:04:33.123Z ",
      " 2026-11-26T07:04:33.123Z",
      "2026-11-26T07:04:33.123+0200",
      "2026-11-26T07:04:33.123+02",
      "2026-11-26T07:04:33.123+24:00",
      "2026-11-26T07:04:33.123+02:60",
      "2026-11-26T07:04:33.123+02:00x",
      "2026-11-26T07:04:33.123UTC",
      "2026-11-26T07:04:33.12a3Z",
      "2026-11-2aT07:04:33Z",
      "abcd-ef-ghTij:kl:mnZ",
  };
  for (const char* s : bad) EXPECT_FALSE(ParseRfc3339(s).has_value()) << "accepted: '" << s << "'";
}

TEST(DomainClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock c(1000);
  EXPECT_EQ(c.Now(), 1000);
  EXPECT_EQ(c.Now(), 1000);
  c.Advance(72 * kHourMs);
  EXPECT_EQ(c.Now(), 1000 + 72 * kHourMs);
  c.Advance(-1000);
  EXPECT_EQ(c.Now(), 72 * kHourMs);
  c.Set(-5);
  EXPECT_EQ(c.Now(), -5);
  Clock& base = c;
  EXPECT_EQ(base.Now(), -5);
}

TEST(DomainClockTest, SystemClockIsNearWallTime) {
  TimeMs now = SystemClock::Instance().Now();
  EXPECT_GT(now, *ParseRfc3339("2024-01-01T00:00:00Z"));
  EXPECT_LT(now, *ParseRfc3339("2200-01-01T00:00:00Z"));
  EXPECT_EQ(&SystemClock::Instance(), &SystemClock::Instance());
}

// ---- ids ---------------------------------------------------------------------

TEST(DomainIdsTest, UuidV7Layout) {
  const TimeMs now = 0x0192f3a45b6c;
  for (int i = 0; i < 200; ++i) {
    std::string u = NewUuidV7(now);
    ASSERT_EQ(u.size(), 36u);
    ASSERT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u.substr(0, 13), "0192f3a4-5b6c") << u;                                // 48-bit ms timestamp, big-endian
    EXPECT_EQ(u[14], '7') << u;                                                      // version
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;  // variant 10
  }
}

TEST(DomainIdsTest, UuidV7TimestampOfRealTimesAndOrdering) {
  TimeMs t = *ParseRfc3339("2026-11-26T07:04:33.123Z");
  std::string u = NewUuidV7(t);
  std::string hex = u.substr(0, 8) + u.substr(9, 4);
  EXPECT_EQ(static_cast<TimeMs>(std::stoull(hex, nullptr, 16)), t);
  // Later timestamps sort later.
  EXPECT_LT(NewUuidV7(t), NewUuidV7(t + 1));
  EXPECT_LT(NewUuidV7(t), NewUuidV7(t + kDayMs));
  EXPECT_EQ(NewUuidV7(0).substr(0, 13), "00000000-0000");
}

TEST(DomainIdsTest, UuidV7IsRandomWithinAMillisecond) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewUuidV7(42));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(DomainIdsTest, IsUuidRejects) {
  EXPECT_TRUE(IsUuid("0192f3a4-5b6c-7d8e-9f01-23456789abcd"));
  EXPECT_FALSE(IsUuid("0192F3A4-5B6C-7D8E-9F01-23456789ABCD"));  // canonical form is lowercase
  EXPECT_FALSE(IsUuid("0192f3a4-5b6c-7d8e-9f01-23456789abc"));
  EXPECT_FALSE(IsUuid("0192f3a4-5b6c-7d8e-9f01-23456789abcde"));
  EXPECT_FALSE(IsUuid("0192f3a45b6c-7d8e-9f01-23456789abcd-"));
  EXPECT_FALSE(IsUuid("0192f3a4_5b6c_7d8e_9f01_23456789abcd"));
  EXPECT_FALSE(IsUuid("g192f3a4-5b6c-7d8e-9f01-23456789abcd"));
  EXPECT_FALSE(IsUuid(""));
}

TEST(DomainIdsTest, AccountIds) {
  std::set<std::string> seen;
  for (int i = 0; i < 500; ++i) {
    std::string id = NewAccountId();
    ASSERT_EQ(id.size(), 17u);
    ASSERT_EQ(id.substr(0, 5), "acct_");
    ASSERT_TRUE(IsAccountId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 500u);
  EXPECT_FALSE(IsAccountId("acct_12345678901"));
  EXPECT_FALSE(IsAccountId("acct_1234567890123"));
  EXPECT_FALSE(IsAccountId("acc__123456789012"));
  EXPECT_FALSE(IsAccountId("acct_12345678901-"));
  EXPECT_FALSE(IsAccountId(""));
}

}  // namespace
}  // namespace authledger
