#include "domain/decimal.h"

#include <gtest/gtest.h>

namespace authledger {
namespace {

TEST(DomainDecimalTest, AcceptsDigitsOnly) {
  EXPECT_EQ(ParseDecimal("0"), 0u);
  EXPECT_EQ(ParseDecimal("42"), 42u);
  EXPECT_EQ(ParseDecimal("000123"), 123u);  // segment file names carry leading zeros
  EXPECT_EQ(ParseDecimal("18446744073709551615"), UINT64_MAX);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "12a", "١٢", "18446744073709551616",
                          "99999999999999999999999"})
    EXPECT_FALSE(ParseDecimal(bad).has_value()) << bad;
}

TEST(DomainDecimalTest, HonoursTheMaximum) {
  EXPECT_EQ(ParseDecimal("65535", 65535), 65535u);
  EXPECT_FALSE(ParseDecimal("65536", 65535).has_value());
  EXPECT_FALSE(ParseDecimal("1", 0).has_value());
  EXPECT_EQ(ParseDecimal("0", 0), 0u);
}

}  // namespace
}  // namespace authledger
