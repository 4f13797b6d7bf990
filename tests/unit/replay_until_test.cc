// ParseReplayUntil (app/replay.h): what `authledger replay --until` accepts — a
// ledger position (decimal digits, >= 1) or an RFC 3339 time — and the sentence
// it answers anything else with.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "app/replay.h"

namespace authledger {
namespace {

TEST(ReplayUntilTest, PositionsAndTimes) {
  auto one = ParseReplayUntil("1");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->position, 1u);
  EXPECT_FALSE(one->time);
  EXPECT_EQ(one->text, "1");
  EXPECT_EQ(ParseReplayUntil("0042")->position, 42u);
  // The largest number is a position here; whether the ledger has it is Replay's question.
  EXPECT_EQ(ParseReplayUntil("18446744073709551615")->position, UINT64_MAX);
  auto time = ParseReplayUntil("2026-03-01T00:00:00Z");
  ASSERT_TRUE(time.ok()) << time.status().ToString();
  EXPECT_EQ(time->time, 1772323200000);
  EXPECT_FALSE(time->position);
}

TEST(ReplayUntilTest, EverythingElseIsRefusedWithWhatIsAccepted) {
  auto refused = [](const std::string& text, const std::string& why) {
    auto r = ParseReplayUntil(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << text;
    EXPECT_NE(r.status().message().find("--until '" + text + "' " + why), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("give a ledger position"), std::string::npos) << r.status().message();
  };
  refused("", "is empty");
  refused("0", "is position 0, before the first event");
  refused("000", "is position 0, before the first event");
  refused("18446744073709551616", "is too large a position");
  refused("99999999999999999999999", "is too large a position");
  for (const char* bad : {"-1", "+1", " 1", "1 ", "1.5", "0x10", "yesterday"})
    refused(bad, "is neither a position nor a valid time");
}

}  // namespace
}  // namespace authledger
