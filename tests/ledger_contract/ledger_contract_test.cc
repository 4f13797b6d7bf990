// The EventLog contract (ledger/event_log.h), one suite run against every backend:
// embedded (a fresh directory), kafka1 (mock cluster: 1 broker, 1 partition) and
// kafka4 (3 brokers, 4 partitions).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "ledger/embedded_log.h"
#include "ledger/kafka_log.h"
#include "ledger/partitioner.h"
#include "support.h"

namespace authledger::contract {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

enum class Backend { kEmbedded, kKafka1, kKafka4 };

const char* Name(Backend b) {
  switch (b) {
    case Backend::kEmbedded: return "embedded";
    case Backend::kKafka1: return "kafka1";
    case Backend::kKafka4: return "kafka4";
  }
  return "unknown";
}
std::string BackendName(const ::testing::TestParamInfo<Backend>& info) { return Name(info.param); }
// How gtest (and ctest's test list) print the parameter.
void PrintTo(Backend b, std::ostream* os) { *os << Name(b); }

class LedgerContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kEmbedded) {
      char tmpl[] = "/tmp/ledger_contract.XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl), nullptr);
      dir_ = tmpl;
    } else {
      cluster_ =
          GetParam() == Backend::kKafka1 ? std::make_unique<MockCluster>(1, 1) : std::make_unique<MockCluster>(3, 4);
    }
  }
  void TearDown() override {
    cluster_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // A log on this test's storage. Embedded: only one may be open at a time.
  std::unique_ptr<EventLog> OpenLog() {
    if (GetParam() == Backend::kEmbedded) {
      EmbeddedLogOptions o;
      o.sync = false;
      auto log = EmbeddedLog::Open(dir_ + "/ledger", o);
      EXPECT_TRUE(log.ok()) << log.status().ToString();
      return log.ok() ? std::move(*log) : nullptr;
    }
    auto log = KafkaLog::Open(TestKafkaOptions(*cluster_));
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::string dir_;
  std::unique_ptr<MockCluster> cluster_;
};

TEST_P(LedgerContractTest, AppendedBatchReadsBackExactly) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  EXPECT_EQ(parts, GetParam() == Backend::kKafka4 ? 4u : 1u);
  EXPECT_EQ(log->Heads(), Cursor(parts));
  const std::string acct = TestAccount(7);
  AppendBatch batch = MakeBatch(acct, 0, 3, "one");
  const std::vector<std::string> bytes = BytesOf(batch);

  auto pos = log->Append(batch);
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  EXPECT_EQ(PartitionOf(*pos), PartitionFor(acct, parts));
  EXPECT_EQ(OffsetOf(*pos), 3u);  // an empty partition's events are 1, 2, 3
  EXPECT_TRUE(log->Heads().Covers(*pos));
  EXPECT_EQ(log->AccountSeq(acct), 3u);
  EXPECT_EQ(log->AccountSeq(TestAccount(8)), 0u);

  Cursor cursor(parts);
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*log, &cursor, log->Heads(), &got));
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].bytes, bytes[i]) << i;
    EXPECT_EQ(got[i].position, MakePosition(PartitionOf(*pos), i + 1));
  }
  // Nothing more.
  std::vector<StoredEvent> more;
  ASSERT_TRUE(log->Read(cursor, 100, &more).ok());
  EXPECT_TRUE(more.empty());
}

TEST_P(LedgerContractTest, ManyAccountsOverPartitionsKeepOrderExactlyOnce) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  const auto accounts = SpreadAccounts(parts, parts == 1 ? 6 : 2);
  std::map<std::string, std::vector<std::string>> sent;
  std::set<std::uint32_t> used;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < accounts.size(); ++i) {
      const std::string& a = accounts[i];
      const std::size_t n = 1 + (i + static_cast<std::size_t>(round)) % 2;
      AppendBatch b = MakeBatch(a, sent[a].size(), n, "r" + std::to_string(round));
      for (std::string& bytes : BytesOf(b)) sent[a].push_back(std::move(bytes));
      auto pos = log->Append(std::move(b));
      ASSERT_TRUE(pos.ok()) << pos.status().ToString();
      used.insert(PartitionOf(*pos));
    }
  }
  EXPECT_EQ(used.size(), parts);  // every partition got events

  Cursor cursor(parts);
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*log, &cursor, log->Heads(), &got, 7));
  std::map<std::string, std::vector<std::string>> seen;
  std::size_t total = 0;
  for (auto& ev : got) {
    EventInfo info = Info(ev.bytes);
    EXPECT_EQ(PartitionOf(ev.position), PartitionFor(info.account, parts));
    seen[info.account].push_back(ev.bytes);
    ++total;
  }
  EXPECT_EQ(seen, sent);
  std::size_t expected_total = 0;
  for (auto& [a, v] : sent) expected_total += v.size();
  EXPECT_EQ(total, expected_total);
  for (auto& [a, v] : sent) EXPECT_EQ(log->AccountSeq(a), v.size()) << a;
}

TEST_P(LedgerContractTest, StaleExpectedSeqConflictsAndWritesNothing) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(3);
  ASSERT_TRUE(log->Append(MakeBatch(acct, 0, 2, "first")).ok());
  const Cursor before = log->Heads();

  auto stale = log->Append(MakeBatch(acct, 1, 1, "stale"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Status::Code::kConflict) << stale.status().ToString();
  auto ahead = log->Append(MakeBatch(acct, 5, 1, "ahead"));
  ASSERT_FALSE(ahead.ok());
  EXPECT_EQ(ahead.status().code(), Status::Code::kConflict) << ahead.status().ToString();
  auto fresh = log->Append(MakeBatch(acct, 0, 1, "again"));
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.status().code(), Status::Code::kConflict) << fresh.status().ToString();

  EXPECT_EQ(log->Heads(), before);
  EXPECT_EQ(log->AccountSeq(acct), 2u);
  std::vector<StoredEvent> more;
  ASSERT_TRUE(log->Read(before, 100, &more).ok());
  EXPECT_TRUE(more.empty());

  // The right expectation still works, right after the refused ones.
  auto next = log->Append(MakeBatch(acct, 2, 1, "next"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(OffsetOf(*next), 3u);
  Cursor cursor(log->Partitions());
  std::vector<StoredEvent> all;
  ASSERT_TRUE(ReadUntil(*log, &cursor, log->Heads(), &all));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(ContiguousPerAccount(all));
}

// Each event's attributes must be its batch's account and the next sequences.
TEST_P(LedgerContractTest, AttributesThatDoNotFitTheBatchAreRefused) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(5);
  ASSERT_TRUE(log->Append(MakeBatch(acct, 0, 1, "first")).ok());
  const Cursor before = log->Heads();

  AppendBatch other_account = MakeBatch(TestAccount(6), 1, 1, "other");
  other_account.account_id = acct;  // an event of another account in acct's batch
  AppendBatch gap = MakeBatch(acct, 1, 2, "gap");
  gap.events[1].attributes.accountseq = 4;  // 2, 4
  AppendBatch shifted = MakeBatch(acct, 2, 1, "shifted");
  shifted.expected_seq = 1;  // the event says 3, the batch continues after 1
  for (AppendBatch* b : {&other_account, &gap, &shifted}) {
    auto r = log->Append(*b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  }
  EXPECT_EQ(log->Heads(), before);
  EXPECT_EQ(log->AccountSeq(acct), 1u);
  EXPECT_EQ(log->AccountSeq(TestAccount(6)), 0u);
  std::vector<StoredEvent> more;
  ASSERT_TRUE(log->Read(before, 100, &more).ok());
  EXPECT_TRUE(more.empty());
  EXPECT_TRUE(log->Append(MakeBatch(acct, 1, 2, "fits")).ok());
}

TEST_P(LedgerContractTest, ExpectedHeadMustMatchThePartitionsLastEvent) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  const std::string a = AccountInPartition(0, parts, 0);
  const std::string b = AccountInPartition(0, parts, 1);
  ASSERT_TRUE(log->Append(MakeBatch(a, 0, 2, "a")).ok());
  const Position head = log->Heads().at(0);
  ASSERT_EQ(OffsetOf(head), 2u);
  ASSERT_TRUE(log->Append(MakeBatch(b, 0, 1, "b")).ok());  // moves the head on

  AppendBatch old_head = MakeBatch(a, 2, 1, "old");
  old_head.expected_head = head;
  auto r1 = log->Append(old_head);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), Status::Code::kConflict) << r1.status().ToString();

  AppendBatch ahead = MakeBatch(a, 2, 1, "ahead");
  ahead.expected_head = MakePosition(0, 7);
  auto r2 = log->Append(ahead);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), Status::Code::kConflict) << r2.status().ToString();
  EXPECT_EQ(log->AccountSeq(a), 2u);
  EXPECT_EQ(OffsetOf(log->Heads().at(0)), 3u);

  AppendBatch exact = MakeBatch(a, 2, 2, "exact");
  exact.expected_head = log->Heads().at(0);
  auto r3 = log->Append(exact);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(*r3, MakePosition(0, 5));
  EXPECT_EQ(log->AccountSeq(a), 4u);
}

TEST_P(LedgerContractTest, AnotherInstanceSeesEverything) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  const auto accounts = SpreadAccounts(parts, 2);
  std::map<std::string, std::uint64_t> seqs;
  std::vector<std::string> sent;
  for (int round = 0; round < 2; ++round) {
    for (const auto& a : accounts) {
      AppendBatch b = MakeBatch(a, seqs[a], 2, "inst");
      for (std::string& bytes : BytesOf(b)) sent.push_back(std::move(bytes));
      ASSERT_TRUE(log->Append(std::move(b)).ok());
      seqs[a] += 2;
    }
  }
  const Cursor heads = log->Heads();
  log.reset();

  auto second = OpenLog();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->Partitions(), parts);
  EXPECT_EQ(second->Heads(), heads);
  Cursor cursor(parts);
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*second, &cursor, heads, &got));
  std::multiset<std::string> got_bytes, sent_bytes(sent.begin(), sent.end());
  for (auto& ev : got) got_bytes.insert(ev.bytes);
  EXPECT_EQ(got_bytes, sent_bytes);
  EXPECT_TRUE(ContiguousPerAccount(got));
  for (auto& [a, s] : seqs) EXPECT_EQ(second->AccountSeq(a), s) << a;

  // It appends after what it read and refuses what it has seen to be stale.
  const std::string& a = accounts.front();
  auto stale = second->Append(MakeBatch(a, seqs[a] - 1, 1, "stale"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), Status::Code::kConflict);
  auto next = second->Append(MakeBatch(a, seqs[a], 1, "next"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(OffsetOf(*next), heads.offset(PartitionOf(*next)) + 1);
}

// Even before reading anything, a new instance must not accept a sequence it has not
// verified: it would duplicate one.
TEST_P(LedgerContractTest, FreshInstanceNeverDuplicatesASequence) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(11);
  ASSERT_TRUE(log->Append(MakeBatch(acct, 0, 3, "before")).ok());
  log.reset();

  auto second = OpenLog();
  ASSERT_TRUE(second);
  auto dup = second->Append(MakeBatch(acct, 0, 1, "dup"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().code(), Status::Code::kConflict) << dup.status().ToString();
  auto next = second->Append(MakeBatch(acct, 3, 1, "next"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(OffsetOf(*next), 4u);
  EXPECT_EQ(second->AccountSeq(acct), 4u);
}

TEST_P(LedgerContractTest, WaitForAppendTimesOutWithHeadsUnchanged) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Append(MakeBatch(TestAccount(1), 0, 1, "w")).ok());
  const Cursor heads = log->Heads();
  const auto t0 = SteadyClock::now();
  Cursor got = log->WaitForAppend(heads, 300ms);
  const auto took = SteadyClock::now() - t0;
  EXPECT_EQ(got, heads);
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  // Something beyond `after`: returns at once.
  const auto t1 = SteadyClock::now();
  got = log->WaitForAppend(Cursor(log->Partitions()), 5s);
  EXPECT_LT(SteadyClock::now() - t1, 1s);
  EXPECT_EQ(got, heads);
}

TEST_P(LedgerContractTest, WaitForAppendWakesOnAnotherThreadsAppend) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const Cursor start = log->Heads();
  std::atomic<bool> started{false}, done{false};
  Cursor woke(log->Partitions());
  SteadyClock::duration waited{};
  std::thread waiter([&] {
    started = true;
    const auto t0 = SteadyClock::now();
    woke = log->WaitForAppend(start, 20s);
    waited = SteadyClock::now() - t0;
    done = true;
  });
  while (!started) std::this_thread::yield();
  std::this_thread::sleep_for(50ms);  // let it block (a wait that returns early fails below)
  EXPECT_FALSE(done);
  auto pos = log->Append(MakeBatch(TestAccount(2), 0, 1, "wake"));
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  waiter.join();
  EXPECT_TRUE(woke.Covers(*pos)) << woke.ToString();
  EXPECT_LT(waited, 5s);
}

TEST_P(LedgerContractTest, WakeAllReleasesWaitersPromptly) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const Cursor start = log->Heads();
  std::atomic<bool> done{false};
  Cursor woke(log->Partitions());
  std::thread waiter([&] {
    woke = log->WaitForAppend(start, 30s);
    done = true;
  });
  const auto t0 = SteadyClock::now();
  // Repeat: a WakeAll that comes before the waiter is waiting is allowed to miss it.
  while (!done && SteadyClock::now() - t0 < 10s) {
    log->WakeAll();
    std::this_thread::sleep_for(20ms);
  }
  const auto took = SteadyClock::now() - t0;
  waiter.join();
  EXPECT_TRUE(done);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(woke, start);
}

TEST_P(LedgerContractTest, ConcurrentAppendsGetDistinctPositions) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  constexpr int kThreads = 4, kAppends = 25;
  std::vector<std::vector<Position>> positions(kThreads);
  std::vector<std::vector<std::string>> sent(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::map<std::string, std::uint64_t> seqs;
      for (int i = 0; i < kAppends; ++i) {
        const std::string acct = TestAccount(1000 + t * 10 + i % 3);  // 3 accounts per thread
        AppendBatch b = MakeBatch(acct, seqs[acct], 1, "c" + std::to_string(t));
        std::string bytes = b.events.front().bytes;
        auto pos = log->Append(std::move(b));
        if (!pos.ok()) {
          errors[t] = pos.status().ToString();
          return;
        }
        ++seqs[acct];
        positions[t].push_back(*pos);
        sent[t].push_back(std::move(bytes));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Position> distinct;
  std::map<Position, std::string> expected;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    for (std::size_t i = 0; i < positions[t].size(); ++i) {
      distinct.insert(positions[t][i]);
      expected[positions[t][i]] = sent[t][i];
    }
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kAppends));

  Cursor cursor(log->Partitions());
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*log, &cursor, log->Heads(), &got, 16));
  std::map<Position, std::string> read;
  for (auto& ev : got) EXPECT_TRUE(read.emplace(ev.position, ev.bytes).second);
  EXPECT_EQ(read, expected);
  EXPECT_TRUE(ContiguousPerAccount(got));
}

// AppendAsync: each batch's `done` is called once, with what Append would return; a
// batch's events sit at consecutive positions ending there; refusals come the same way.
TEST_P(LedgerContractTest, AppendAsyncCallsBackOnceWithConsecutivePositions) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  struct Sent {
    std::vector<std::string> bytes;
    std::promise<Result<Position>> result;
    std::atomic<int> calls{0};
  };
  constexpr int kAccounts = 6, kRounds = 8;
  std::vector<std::unique_ptr<Sent>> sent;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Sent*> this_round;
    for (int a = 0; a < kAccounts; ++a) {  // one batch per account in flight at a time
      AppendBatch b =
          MakeBatch(TestAccount(2000 + a), static_cast<std::uint64_t>(round) * 3, 3, "async" + std::to_string(round));
      auto& s = sent.emplace_back(std::make_unique<Sent>());
      s->bytes = BytesOf(b);
      log->AppendAsync(std::move(b), [s = s.get()](Result<Position> r) {
        if (s->calls.fetch_add(1) == 0) s->result.set_value(std::move(r));
      });
      this_round.push_back(s.get());
    }
    for (Sent* s : this_round) {
      auto f = s->result.get_future();
      ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
      Result<Position> r = f.get();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      s->result = std::promise<Result<Position>>();  // spent
      s->bytes.push_back(std::to_string(*r));        // remembered: the last position
    }
  }
  std::map<Position, std::string> expected;
  for (auto& s : sent) {
    EXPECT_EQ(s->calls.load(), 1);
    const Position last = std::stoull(s->bytes.back());
    for (std::size_t i = 0; i < 3; ++i) expected[last - (2 - i)] = s->bytes[i];
  }
  Cursor cursor(log->Partitions());
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*log, &cursor, log->Heads(), &got));
  std::map<Position, std::string> read;
  for (auto& ev : got) read.emplace(ev.position, ev.bytes);
  EXPECT_EQ(read, expected);

  // Refusals arrive through `done` too, and write nothing.
  std::promise<Result<Position>> stale;
  log->AppendAsync(MakeBatch(TestAccount(2000), 0, 1, "stale"), [&](Result<Position> r) { stale.set_value(r); });
  auto stale_result = stale.get_future().get();
  ASSERT_FALSE(stale_result.ok());
  EXPECT_EQ(stale_result.status().code(), Status::Code::kConflict);
  AppendBatch foreign = MakeBatch(TestAccount(2001), 3 * kRounds, 1, "foreign");
  foreign.account_id = TestAccount(2002);  // its event names another account
  std::promise<Result<Position>> refused;
  log->AppendAsync(std::move(foreign), [&](Result<Position> r) { refused.set_value(r); });
  auto refused_result = refused.get_future().get();
  ASSERT_FALSE(refused_result.ok());
  EXPECT_EQ(refused_result.status().code(), Status::Code::kInvalidArgument);
  std::vector<StoredEvent> more;
  ASSERT_TRUE(log->Read(cursor, 100, &more).ok());
  EXPECT_TRUE(more.empty());
}

// Followers (WaitForAppend + Read, as the projector does) while writers append: each
// sees every partition's events in order, exactly once.
TEST_P(LedgerContractTest, FollowersSeeEveryEventWhileWritersAppend) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  constexpr int kWriters = 2, kFollowers = 3, kAppends = 15;
  std::atomic<bool> writers_done{false};
  std::vector<std::vector<StoredEvent>> seen(kFollowers);
  std::vector<std::string> errors(kFollowers + kWriters);
  std::vector<std::thread> followers;
  for (int f = 0; f < kFollowers; ++f) {
    followers.emplace_back([&, f] {
      Cursor cursor(parts);
      std::vector<StoredEvent> batch;
      const auto deadline = SteadyClock::now() + 60s;
      for (;;) {
        const bool done = writers_done.load();
        const Cursor target = log->Heads();
        if (done && cursor.CoversAll(target)) return;
        if (SteadyClock::now() > deadline) {
          errors[f] = "follower stuck at " + cursor.ToString() + " of " + target.ToString();
          return;
        }
        log->WaitForAppend(cursor, 100ms);
        Status s = log->Read(cursor, 1 + static_cast<std::size_t>(f) * 4, &batch);
        if (!s.ok()) {
          errors[f] = s.ToString();
          return;
        }
        for (auto& ev : batch) {
          const std::uint32_t p = PartitionOf(ev.position);
          if (p >= parts || OffsetOf(ev.position) != cursor.offset(p) + 1) {
            errors[f] = "after " + cursor.ToString() + " got " + PositionToString(ev.position);
            return;
          }
          cursor.Advance(ev.position);
          seen[f].push_back(std::move(ev));
        }
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kAppends; ++i) {
        const std::string acct = TestAccount(2000 + w * 10 + i % 4);
        auto pos = log->Append(MakeBatch(acct, log->AccountSeq(acct), 1 + i % 2, "f"));
        if (!pos.ok()) {
          errors[kFollowers + w] = pos.status().ToString();
          return;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  writers_done = true;
  for (auto& t : followers) t.join();
  for (auto& e : errors) EXPECT_EQ(e, "");

  Cursor cursor(parts);
  std::vector<StoredEvent> all;
  ASSERT_TRUE(ReadUntil(*log, &cursor, log->Heads(), &all));
  EXPECT_TRUE(ContiguousPerAccount(all));
  std::map<Position, std::string> expected;
  for (auto& ev : all) expected[ev.position] = ev.bytes;
  for (int f = 0; f < kFollowers; ++f) {
    std::map<Position, std::string> got;
    for (auto& ev : seen[f]) EXPECT_TRUE(got.emplace(ev.position, ev.bytes).second) << "follower " << f;
    EXPECT_EQ(got, expected) << "follower " << f;
  }
}

TEST_P(LedgerContractTest, ReadWithMaxOneStepsThroughEvents) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  const auto accounts = SpreadAccounts(parts, 1);
  std::size_t total = 0;
  for (const auto& a : accounts) {
    ASSERT_TRUE(log->Append(MakeBatch(a, 0, 2, "step")).ok());
    total += 2;
  }
  const Cursor heads = log->Heads();
  Cursor cursor(parts);
  std::vector<StoredEvent> one;
  std::size_t steps = 0;
  while (!cursor.CoversAll(heads)) {
    ASSERT_LE(steps, total) << "too many steps";
    ASSERT_TRUE(log->Read(cursor, 1, &one).ok());
    ASSERT_EQ(one.size(), 1u) << "step " << steps << " after " << cursor.ToString();
    const std::uint32_t p = PartitionOf(one[0].position);
    ASSERT_EQ(OffsetOf(one[0].position), cursor.offset(p) + 1);
    cursor.Advance(one[0].position);
    ++steps;
  }
  EXPECT_EQ(steps, total);
  ASSERT_TRUE(log->Read(cursor, 1, &one).ok());
  EXPECT_TRUE(one.empty());

  // Reading again from an earlier cursor gives the same events again.
  Cursor again(parts);
  std::vector<StoredEvent> all;
  ASSERT_TRUE(ReadUntil(*log, &again, heads, &all, 3));
  EXPECT_EQ(all.size(), total);
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerContractTest,
                         ::testing::Values(Backend::kEmbedded, Backend::kKafka1, Backend::kKafka4), BackendName);

}  // namespace
}  // namespace authledger::contract
