// AppendEvent (ledger/event_log.h): the attributes handed to the ledger next to an
// envelope's bytes are that envelope's own, for every event type; and the contract's
// cheap checks on a batch (CheckBatchAttributes).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "domain/envelope.h"
#include "domain/ids.h"
#include "ledger/event_log.h"
#include "tests/support/sample_events.h"

namespace authledger {
namespace {

constexpr TimeMs kT0 = 1767225600123;

Event SampleEvent(EventData data, std::uint64_t seq) {
  return Event{NewUuidV7(kT0), "acct_c00000000001", seq, kGenesisHash, kT0 + 5, Actor::System("test"), std::move(data)};
}

TEST(AppendEventTest, AttributesAreTheEnvelopesOwnForEveryEventType) {
  std::uint64_t seq = 0;
  for (EventData& data : testing::SampleEventData(kT0)) {
    const Event e = SampleEvent(std::move(data), ++seq);
    const AppendEvent a = AppendEventOf(e);
    EXPECT_EQ(a.bytes, EncodeEvent(e));
    auto read = ReadEnvelopeAttributes(a.bytes);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(a.attributes, *read) << a.bytes;
    EXPECT_EQ(a.attributes.specversion, "1.0");
    EXPECT_EQ(a.attributes.source, "/accounts/acct_c00000000001");
    EXPECT_EQ(a.attributes.partitionkey, "acct_c00000000001");
    EXPECT_EQ(a.attributes.accountseq, seq);
    EXPECT_EQ(a.attributes.time, "2026-01-01T00:00:00.128Z");
    EXPECT_EQ(a.attributes.type, EventType(e.data));
    auto from_bytes = AppendEventFromBytes(a.bytes);
    ASSERT_TRUE(from_bytes.ok());
    EXPECT_EQ(from_bytes->attributes, a.attributes);
  }
}

TEST(AppendEventTest, BytesWithoutEveryAttributeAreRefused) {
  EXPECT_EQ(AppendEventFromBytes("not json").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(AppendEventFromBytes("[1]").status().code(), Status::Code::kInvalidArgument);
  const std::string good = EncodeEvent(SampleEvent(testing::SampleEventData(kT0).front(), 1));
  for (const char* name : {"specversion", "id", "source", "type", "subject", "time", "partitionkey", "accountseq"}) {
    auto j = nlohmann::json::parse(good);
    j.erase(name);
    auto r = AppendEventFromBytes(j.dump());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << name;
    EXPECT_NE(r.status().message().find(name), std::string::npos) << r.status().ToString();
  }
  auto j = nlohmann::json::parse(good);
  j["accountseq"] = -1;
  EXPECT_EQ(AppendEventFromBytes(j.dump()).status().code(), Status::Code::kInvalidArgument);
}

TEST(AppendEventTest, CheckBatchAttributesWantsTheBatchsAccountAndNextSequences) {
  AppendBatch b;
  b.account_id = "acct_c00000000001";
  b.expected_seq = 4;
  for (std::uint64_t seq : {5, 6, 7})
    b.events.push_back(AppendEventOf(SampleEvent(testing::SampleEventData(kT0)[0], seq)));
  EXPECT_TRUE(CheckBatchAttributes(b).ok());

  AppendBatch gap = b;
  gap.events[2].attributes.accountseq = 8;
  EXPECT_EQ(CheckBatchAttributes(gap).code(), Status::Code::kInvalidArgument);
  AppendBatch repeat = b;
  repeat.events[1].attributes.accountseq = 5;
  EXPECT_EQ(CheckBatchAttributes(repeat).code(), Status::Code::kInvalidArgument);
  AppendBatch behind = b;
  behind.expected_seq = 5;
  EXPECT_EQ(CheckBatchAttributes(behind).code(), Status::Code::kInvalidArgument);
  AppendBatch other = b;
  other.events[0].attributes.partitionkey = "acct_c00000000002";
  EXPECT_EQ(CheckBatchAttributes(other).code(), Status::Code::kInvalidArgument);
  AppendBatch wraps = b;  // expected_seq + 1 would overflow
  wraps.expected_seq = UINT64_MAX;
  wraps.events.resize(1);
  wraps.events[0].attributes.accountseq = 0;
  EXPECT_EQ(CheckBatchAttributes(wraps).code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace authledger
