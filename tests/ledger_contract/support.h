// Shared pieces of the ledger contract suite: an in-process Kafka mock cluster,
// envelopes, and a reader that checks the Read contract while it collects events.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ledger/event_log.h"
#include "ledger/kafka_log.h"
#include "tests/support/mock_kafka.h"

namespace authledger::contract {

inline constexpr const char* kTopic = "authledger.events";
inline constexpr std::int16_t kProduceApi = 0;  // Kafka protocol ApiKey of ProduceRequest

// librdkafka's mock cluster in this process (tests/support/mock_kafka.h).
using MockCluster = ::authledger::testing::MockKafka;

// Options a test KafkaLog uses against `cluster` (short fetch waits).
KafkaLogOptions TestKafkaOptions(const MockCluster& cluster);

// "acct_c00000000042": test account ids (never a ledger chain's reserved id).
std::string TestAccount(int i);
// `per_partition` accounts in every partition, in partition order.
std::vector<std::string> SpreadAccounts(std::uint32_t partitions, std::size_t per_partition);
// The first account after `skip` that lives in `partition`.
std::string AccountInPartition(std::uint32_t partition, std::uint32_t partitions, int skip = 0);

// A real event (domain/envelope.h): key.created whose data holds a secret hash.
Event TestEvent(const std::string& account, std::uint64_t seq, const std::string& tag);
// Events expected+1 .. expected+n of `account`, built as commands build them (AppendEventOf).
AppendBatch MakeBatch(const std::string& account, std::uint64_t expected, std::size_t n, const std::string& tag);
// The envelopes of a batch's events, in order.
std::vector<std::string> BytesOf(const AppendBatch& batch);

struct EventInfo {
  std::string account;
  std::uint64_t seq = 0;
  std::string id;
};
EventInfo Info(const std::string& bytes);

// Reads after *cursor until it covers `target` (10 s at most), advancing it. Fails if
// an event is not the next one of its partition or lies in a partition the log lacks.
::testing::AssertionResult ReadUntil(EventLog& log, Cursor* cursor, const Cursor& target, std::vector<StoredEvent>* out,
                                     std::size_t max = 1000);

// Every account's sequences in `events` are 1, 2, 3, ... in order, each once.
::testing::AssertionResult ContiguousPerAccount(const std::vector<StoredEvent>& events);

}  // namespace authledger::contract
