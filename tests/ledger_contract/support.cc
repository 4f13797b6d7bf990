#include "support.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "domain/envelope.h"
#include "domain/ids.h"
#include "ledger/partitioner.h"

namespace authledger::contract {

KafkaLogOptions TestKafkaOptions(const MockCluster& cluster) {
  KafkaLogOptions o;
  o.brokers = cluster.bootstraps();
  o.topic = kTopic;
  o.extra = MockCluster::ClientProperties();
  return o;
}

std::string TestAccount(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "acct_c%011d", i);
  return buf;
}

std::vector<std::string> SpreadAccounts(std::uint32_t partitions, std::size_t per_partition) {
  std::vector<std::vector<std::string>> by(partitions);
  for (int i = 0; i < 100000; ++i) {
    std::string a = TestAccount(i);
    auto& v = by[PartitionFor(a, partitions)];
    if (v.size() < per_partition) v.push_back(a);
    if (std::all_of(by.begin(), by.end(), [&](const auto& x) { return x.size() == per_partition; })) break;
  }
  std::vector<std::string> out;
  for (auto& v : by) out.insert(out.end(), v.begin(), v.end());
  return out;
}

std::string AccountInPartition(std::uint32_t partition, std::uint32_t partitions, int skip) {
  for (int i = 0;; ++i) {
    std::string a = TestAccount(i);
    if (PartitionFor(a, partitions) == partition && skip-- == 0) return a;
  }
}

Event TestEvent(const std::string& account, std::uint64_t seq, const std::string& tag) {
  const TimeMs t = 1767225600000 + static_cast<TimeMs>(seq);
  Event e;
  e.id = NewUuidV7(t);
  e.account_id = account;
  e.seq = seq;
  e.prev_hash = kGenesisHash;
  e.time = t;
  e.actor = Actor::System("ledger-contract-test");
  KeyCreated k;
  k.key_id = "key_" + tag + "_" + std::to_string(seq);
  k.name = tag;
  k.scopes = {"monitors:read"};
  k.environment = "test";
  k.secret_hash = std::string(64, 'f');  // stands for a secret's HMAC: must never reach a header
  e.data = k;
  return e;
}

AppendBatch MakeBatch(const std::string& account, std::uint64_t expected, std::size_t n, const std::string& tag) {
  AppendBatch b;
  b.account_id = account;
  b.expected_seq = expected;
  for (std::size_t i = 1; i <= n; ++i) b.events.push_back(AppendEventOf(TestEvent(account, expected + i, tag)));
  return b;
}

std::vector<std::string> BytesOf(const AppendBatch& batch) {
  std::vector<std::string> out;
  for (const AppendEvent& e : batch.events) out.push_back(e.bytes);
  return out;
}

EventInfo Info(const std::string& bytes) {
  auto e = DecodeEvent(bytes);
  if (!e.ok()) {
    ADD_FAILURE() << "stored bytes are not an envelope: " << e.status().ToString();
    return {};
  }
  return EventInfo{e->account_id, e->seq, e->id};
}

::testing::AssertionResult ReadUntil(EventLog& log, Cursor* cursor, const Cursor& target, std::vector<StoredEvent>* out,
                                     std::size_t max) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<StoredEvent> batch;
  while (!cursor->CoversAll(target)) {
    if (std::chrono::steady_clock::now() > deadline)
      return ::testing::AssertionFailure() << "read only to " << cursor->ToString() << " of " << target.ToString();
    Status s = log.Read(*cursor, max, &batch);
    if (!s.ok()) return ::testing::AssertionFailure() << "Read after " << cursor->ToString() << ": " << s.ToString();
    if (batch.size() > max)
      return ::testing::AssertionFailure() << "Read returned " << batch.size() << " > max " << max;
    for (auto& ev : batch) {
      const std::uint32_t p = PartitionOf(ev.position);
      if (p >= cursor->partitions())
        return ::testing::AssertionFailure() << "event at " << PositionToString(ev.position) << " outside the ledger";
      if (OffsetOf(ev.position) != cursor->offset(p) + 1)
        return ::testing::AssertionFailure()
               << "after " << PositionToString(cursor->at(p)) << " Read returned " << PositionToString(ev.position);
      cursor->Advance(ev.position);
      out->push_back(std::move(ev));
    }
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ContiguousPerAccount(const std::vector<StoredEvent>& events) {
  std::map<std::string, std::uint64_t> last;
  for (const auto& ev : events) {
    EventInfo i = Info(ev.bytes);
    std::uint64_t& l = last[i.account];
    if (i.seq != l + 1)
      return ::testing::AssertionFailure() << "account " << i.account << ": seq " << i.seq << " after " << l << " at "
                                           << PositionToString(ev.position);
    l = i.seq;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace authledger::contract
