// AuditCursor (projections/audit_query.h): the audit view's opaque paging cursor,
// "<time>.<position>" in decimal. What Encode writes, Decode reads back; anything
// else — signs, spaces, overflow, a time beyond TimeMs — is refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "projections/audit_query.h"

namespace authledger {
namespace {

TEST(AuditCursorTest, DecodeReadsWhatEncodeWrites) {
  for (const AuditCursor& c : {AuditCursor{1772323200000, 42}, AuditCursor{0, 0}, AuditCursor{INT64_MAX, UINT64_MAX}}) {
    auto d = AuditCursor::Decode(c.Encode());
    ASSERT_TRUE(d) << c.Encode();
    EXPECT_EQ(d->time, c.time);
    EXPECT_EQ(d->position, c.position);
  }
  auto zeros = AuditCursor::Decode("0012.007");  // leading zeros are still decimal
  ASSERT_TRUE(zeros);
  EXPECT_EQ(zeros->time, 12);
  EXPECT_EQ(zeros->position, 7u);
}

TEST(AuditCursorTest, AnythingElseIsRefused) {
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string("12"), std::string("1."), std::string(".2"),
        std::string("1.2.3"), std::string("-1.2"), std::string("1.-2"), std::string("+1.2"), std::string("1.+2"),
        std::string(" 1.2"), std::string("1.2 "), std::string("a.b"), std::string("0x1.2"), std::string("1,5.2"),
        std::string("9223372036854775808.1"),       // time beyond INT64_MAX
        std::string("1.18446744073709551616"),      // position beyond UINT64_MAX
        std::string("1.") + std::string(40, '0')})  // longer than any cursor Encode writes
    EXPECT_FALSE(AuditCursor::Decode(bad)) << bad;
}

}  // namespace
}  // namespace authledger
