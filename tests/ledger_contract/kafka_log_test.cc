// What only the Kafka backend has: message headers, Open errors, read-only replicas,
// broker outages and retried produce errors (librdkafka's mock cluster).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "ledger/kafka_log.h"
#include "ledger/partitioner.h"
#include "support.h"

namespace authledger::contract {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct Shape {
  int brokers;
  int partitions;
};

std::string ShapeName(const ::testing::TestParamInfo<Shape>& info) {
  return "kafka" + std::to_string(info.param.partitions);
}
void PrintTo(const Shape& s, std::ostream* os) { *os << s.brokers << " brokers, " << s.partitions << " partitions"; }

class KafkaLogTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override { cluster_ = std::make_unique<MockCluster>(GetParam().brokers, GetParam().partitions); }

  std::unique_ptr<KafkaLog> Open(KafkaLogOptions o) {
    auto log = KafkaLog::Open(std::move(o));
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  std::unique_ptr<KafkaLog> Open() { return Open(TestKafkaOptions(*cluster_)); }

  // All events of the topic, through a fresh read-only log.
  std::vector<StoredEvent> ReadAll() {
    KafkaLogOptions o = TestKafkaOptions(*cluster_);
    o.producer = false;
    auto reader = Open(o);
    std::vector<StoredEvent> all;
    if (!reader) return all;
    Cursor cursor(reader->Partitions());
    EXPECT_TRUE(ReadUntil(*reader, &cursor, reader->Heads(), &all));
    return all;
  }

  std::unique_ptr<MockCluster> cluster_;
};

// One message of the topic as a plain Kafka consumer sees it.
struct RawMessage {
  std::string key, value;
  std::map<std::string, std::string> headers;
  std::vector<std::string> header_names;  // in order, duplicates kept
};

std::vector<RawMessage> RawConsume(const std::string& brokers, std::int32_t partition, std::size_t count) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [k, v] : {std::pair{"bootstrap.servers", brokers.c_str()},
                      {"group.id", "raw-test"},
                      {"enable.auto.commit", "false"},
                      {"fetch.wait.max.ms", "10"},
                      {"log_level", "3"}})
    EXPECT_EQ(rd_kafka_conf_set(conf, k, v, errstr, sizeof errstr), RD_KAFKA_CONF_OK) << errstr;
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  std::vector<RawMessage> out;
  if (!rk) {
    ADD_FAILURE() << errstr;
    return out;
  }
  rd_kafka_poll_set_consumer(rk);
  auto* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, kTopic, partition)->offset = RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(rk, list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  const auto deadline = SteadyClock::now() + 10s;
  while (out.size() < count && SteadyClock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (!m->err) {
      RawMessage r;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          r.header_names.push_back(name);
          r.headers[name] = val ? std::string(static_cast<const char*>(val), size) : std::string();
        }
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

TEST_P(KafkaLogTest, MessagesCarryCloudEventsHeadersButNeverData) {
  auto log = Open();
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(21);
  AppendBatch b = MakeBatch(acct, 0, 2, "hdr");
  const auto sent = BytesOf(b);
  auto pos = log->Append(std::move(b));
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();

  auto msgs = RawConsume(cluster_->bootstraps(), static_cast<std::int32_t>(PartitionOf(*pos)), 2);
  ASSERT_EQ(msgs.size(), 2u);
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const RawMessage& m = msgs[i];
    EXPECT_EQ(m.value, sent[i]);
    EXPECT_EQ(m.key, acct);
    auto env = nlohmann::json::parse(m.value);
    EXPECT_EQ(m.headers.at("content-type"), "application/cloudevents+json");
    for (const char* attr : {"specversion", "id", "source", "type", "subject", "time", "partitionkey"}) {
      ASSERT_TRUE(m.headers.count(std::string("ce_") + attr)) << attr;
      EXPECT_EQ(m.headers.at(std::string("ce_") + attr), env.at(attr).get<std::string>()) << attr;
    }
    EXPECT_EQ(m.headers.at("ce_accountseq"), std::to_string(i + 1));
    // Exactly these headers, each once: nothing of data (a secret hash) or other attributes.
    std::set<std::string> names(m.header_names.begin(), m.header_names.end());
    EXPECT_EQ(names.size(), m.header_names.size());
    EXPECT_EQ(names, (std::set<std::string>{"content-type", "ce_specversion", "ce_id", "ce_source", "ce_type",
                                            "ce_subject", "ce_time", "ce_partitionkey", "ce_accountseq"}));
    const std::string secret = env.at("data").at("secret_hash").get<std::string>();
    for (auto& [name, value] : m.headers) EXPECT_EQ(value.find(secret), std::string::npos) << name;
  }
}

// Every attribute becomes a header, so the Kafka log needs all of them (the contract
// suite checks partitionkey and accountseq on every backend).
TEST_P(KafkaLogTest, BatchWithoutEveryAttributeIsRefused) {
  auto log = Open();
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(22);
  const std::vector<std::string EnvelopeAttributes::*> attributes = {
      &EnvelopeAttributes::specversion, &EnvelopeAttributes::id,      &EnvelopeAttributes::source,
      &EnvelopeAttributes::type,        &EnvelopeAttributes::subject, &EnvelopeAttributes::time};
  for (auto attribute : attributes) {
    AppendBatch b = MakeBatch(acct, 0, 2, "bad");
    (b.events[1].attributes.*attribute).clear();
    auto r = log->Append(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  }
  AppendBatch no_seq = MakeBatch(acct, 0, 1, "seq");
  no_seq.events[0].attributes.accountseq = 0;
  auto r = log->Append(no_seq);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();

  EXPECT_EQ(log->Heads(), Cursor(log->Partitions()));
  EXPECT_EQ(log->AccountSeq(acct), 0u);
  EXPECT_TRUE(log->Append(MakeBatch(acct, 0, 1, "good")).ok());
  EXPECT_EQ(ReadAll().size(), 1u);
}

// Two writers on one topic would both decide on the same sequences (decisions.md 30).
// Nothing fences them, but a writer notices the other's records between its own
// and appends no more, so the damage stops at the first interleaving.
TEST_P(KafkaLogTest, AWriterThatSeesAnotherProducerStopsAppending) {
  const std::uint32_t partitions = static_cast<std::uint32_t>(GetParam().partitions);
  const std::string mine = AccountInPartition(0, partitions, 0), theirs = AccountInPartition(0, partitions, 1);
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->Append(MakeBatch(mine, 0, 1, "a1")).ok());
  ASSERT_TRUE(b->Append(MakeBatch(theirs, 0, 1, "b1")).ok());  // lands between a's records
  // a's next record is durable (acknowledged), and reveals the other producer...
  auto revealed = a->Append(MakeBatch(mine, 1, 1, "a2"));
  ASSERT_TRUE(revealed.ok()) << revealed.status().ToString();
  // ...so a appends nothing more, whatever the account.
  auto refused = a->Append(MakeBatch(mine, 2, 1, "a3"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("another producer"), std::string::npos) << refused.status().ToString();
  auto all = ReadAll();
  EXPECT_EQ(all.size(), 3u);  // a1, b1, a2: nothing of the refused append
}

TEST_P(KafkaLogTest, ReadOnlyLogRefusesAppendAndFollowsTheWriter) {
  KafkaLogOptions o = TestKafkaOptions(*cluster_);
  o.producer = false;
  auto replica = Open(o);
  ASSERT_TRUE(replica);
  const std::string acct = TestAccount(31);
  auto refused = replica->Append(MakeBatch(acct, 0, 1, "ro"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition) << refused.status().ToString();

  auto writer = Open();
  ASSERT_TRUE(writer);
  const Cursor start = replica->Heads();
  std::atomic<bool> started{false};
  Cursor woke(replica->Partitions());
  std::thread waiter([&] {
    started = true;
    woke = replica->WaitForAppend(start, 20s);
  });
  while (!started) std::this_thread::yield();
  auto pos = writer->Append(MakeBatch(acct, 0, 2, "follow"));
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  waiter.join();
  EXPECT_TRUE(woke.Covers(*pos)) << woke.ToString();  // learnt without producing

  Cursor cursor = start;
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*replica, &cursor, woke, &got));
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(replica->AccountSeq(acct), 2u);
}

TEST_P(KafkaLogTest, OpenErrors) {
  // Unreachable brokers: a port nobody listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);  // bound, never listened: connections are refused
  KafkaLogOptions closed = TestKafkaOptions(*cluster_);
  closed.brokers = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  closed.open_timeout = 1500ms;
  for (bool producer : {true, false}) {
    closed.producer = producer;
    const auto t0 = SteadyClock::now();
    auto r = KafkaLog::Open(closed);
    const auto took = SteadyClock::now() - t0;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kUnavailable) << r.status().ToString();
    EXPECT_NE(r.status().message().find(closed.brokers), std::string::npos) << r.status().ToString();
    EXPECT_LT(took, 1500ms + 1s);
  }

  // Missing topic: the message says how to create it. (The 2.0.2 mock speaks Metadata v2,
  // which has no AllowAutoTopicCreation flag, so it would auto-create any topic asked for;
  // the topic error makes it answer as a broker without the topic does.)
  KafkaLogOptions missing = TestKafkaOptions(*cluster_);
  missing.topic = "no.such.topic";
  rd_kafka_mock_topic_set_error(cluster_->cluster(), missing.topic.c_str(), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  for (bool producer : {true, false}) {
    missing.producer = producer;
    auto r = KafkaLog::Open(missing);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();
    EXPECT_NE(r.status().message().find("kafka-topics.sh"), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("--topic no.such.topic"), std::string::npos) << r.status().ToString();
  }

  // Partition count: must match when configured; at most kMaxPartitions.
  KafkaLogOptions mismatch = TestKafkaOptions(*cluster_);
  mismatch.partitions = static_cast<std::uint32_t>(GetParam().partitions) + 1;
  auto r = KafkaLog::Open(mismatch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  mismatch.partitions = static_cast<std::uint32_t>(GetParam().partitions);
  r = KafkaLog::Open(mismatch);
  EXPECT_TRUE(r.ok()) << r.status().ToString();

  ASSERT_EQ(rd_kafka_mock_topic_create(cluster_->cluster(), "too.wide", kMaxPartitions + 1, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  KafkaLogOptions wide = TestKafkaOptions(*cluster_);
  wide.topic = "too.wide";
  r = KafkaLog::Open(wide);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
}

TEST_P(KafkaLogTest, CursorBeyondTheTopicIsCorruption) {
  auto log = Open();
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Append(MakeBatch(TestAccount(41), 0, 1, "x")).ok());
  Cursor beyond = log->Heads();
  beyond.Advance(MakePosition(0, beyond.offset(0) + 5));
  std::vector<StoredEvent> out;
  Status s = log->Read(beyond, 10, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_TRUE(out.empty());
}

TEST_P(KafkaLogTest, BrokersDownFailsFastThenRecoversWithoutDuplicates) {
  KafkaLogOptions o = TestKafkaOptions(*cluster_);
  o.delivery_timeout = 2000ms;
  auto log = Open(o);
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(51);
  std::set<std::string> acknowledged;  // event ids
  auto append = [&](const std::string& tag, Status* status, std::vector<std::string>* ids) {
    AppendBatch b = MakeBatch(acct, log->AccountSeq(acct), 2, tag);
    for (auto& e : b.events) ids->push_back(e.attributes.id);
    auto r = log->Append(std::move(b));
    *status = r.ok() ? Status::Ok() : r.status();
    if (r.ok()) acknowledged.insert(ids->begin(), ids->end());
  };
  Status s;
  std::vector<std::string> ids;
  append("up", &s, &ids);
  ASSERT_TRUE(s.ok()) << s.ToString();

  cluster_->SetAllDown();
  ids.clear();
  auto t0 = SteadyClock::now();
  append("down1", &s, &ids);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_LT(SteadyClock::now() - t0, 3s);

  // Now the outage is known: refused at once, nothing produced.
  std::vector<std::string> fast_ids;
  t0 = SteadyClock::now();
  append("down2", &s, &fast_ids);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_LT(SteadyClock::now() - t0, 1500ms);

  cluster_->SetAllUp();
  const auto deadline = SteadyClock::now() + 15s;
  int attempts = 0;
  for (;;) {
    ids.clear();
    append("after", &s, &ids);
    ++attempts;
    if (s.ok() || SteadyClock::now() > deadline) break;
    EXPECT_TRUE(s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kOutcomeUnknown ||
                s.code() == Status::Code::kConflict)
        << s.ToString();
    std::this_thread::sleep_for(100ms);  // a client's retry pause
  }
  ASSERT_TRUE(s.ok()) << "no recovery after " << attempts << " attempts: " << s.ToString();

  auto all = ReadAll();
  EXPECT_TRUE(ContiguousPerAccount(all));
  std::multiset<std::string> stored;
  for (auto& ev : all) stored.insert(Info(ev.bytes).id);
  for (auto& id : acknowledged) EXPECT_EQ(stored.count(id), 1u) << id;
  for (auto& id : fast_ids) EXPECT_EQ(stored.count(id), 0u) << "refused event " << id << " was stored";
  EXPECT_EQ(log->AccountSeq(acct), Info(all.back().bytes).seq);
}

// A delivery that times out while its request is with the broker may have been stored.
// The log must learn the truth by reading before it decides on that account again.
TEST_P(KafkaLogTest, TimedOutDeliveryIsResolvedByReadingBack) {
  KafkaLogOptions o = TestKafkaOptions(*cluster_);
  o.delivery_timeout = 1000ms;
  auto log = Open(o);
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(61);
  ASSERT_TRUE(log->Append(MakeBatch(acct, 0, 1, "before")).ok());

  for (int b = 1; b <= cluster_->brokers(); ++b)  // the broker stores, then answers late
    ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster_->cluster(), b, 2500), RD_KAFKA_RESP_ERR_NO_ERROR);
  AppendBatch slow = MakeBatch(acct, 1, 2, "slow");
  std::set<std::string> slow_ids;
  for (auto& e : slow.events) slow_ids.insert(e.attributes.id);
  auto r = log->Append(slow);
  for (int b = 1; b <= cluster_->brokers(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster_->cluster(), b, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  // Not acknowledged, but the broker had the batch: the caller is told it may be stored.
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kOutcomeUnknown) << r.status().ToString();

  // A client that retries with the view it had must not create a second sequence 2.
  const auto deadline = SteadyClock::now() + 15s;
  Result<Position> retry = Status::Unavailable("not tried");
  while (SteadyClock::now() < deadline) {
    retry = log->Append(MakeBatch(acct, 1, 2, "retry"));
    if (retry.ok() || retry.status().code() != Status::Code::kUnavailable) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(retry.ok() || retry.status().code() == Status::Code::kConflict) << retry.status().ToString();
  if (!retry.ok()) {  // the slow batch was stored after all: continue after it
    EXPECT_EQ(log->AccountSeq(acct), 3u);
    auto next = log->Append(MakeBatch(acct, 3, 1, "next"));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
  }
  auto all = ReadAll();
  EXPECT_TRUE(ContiguousPerAccount(all));
  std::multiset<std::string> stored;
  for (auto& ev : all) stored.insert(Info(ev.bytes).id);
  for (auto& id : slow_ids) EXPECT_LE(stored.count(id), 1u);
  EXPECT_EQ(log->AccountSeq(acct), Info(all.back().bytes).seq);
}

// More cursors than pooled readers, forwards and backwards: readers are re-positioned,
// and nothing fetched for an earlier position leaks into a later Read.
TEST_P(KafkaLogTest, ReadsFromManyCursorsRepositionReaders) {
  auto log = Open();
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(71);
  const std::uint32_t p = PartitionFor(acct, log->Partitions());
  std::vector<std::string> sent;
  for (int i = 0; i < 4; ++i) {
    AppendBatch b = MakeBatch(acct, sent.size(), 3, "many");
    for (std::string& bytes : BytesOf(b)) sent.push_back(std::move(bytes));
    ASSERT_TRUE(log->Append(std::move(b)).ok());
  }
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i + 1 < sent.size(); ++i) order.push_back(i);
  for (std::size_t i = sent.size() - 1; i-- > 0;) order.push_back(i);
  for (std::size_t i = 0; i + 1 < sent.size(); i += 3) order.push_back(i);
  // The writer serves its own events from memory; a read-only log has only its readers.
  KafkaLogOptions ro = TestKafkaOptions(*cluster_);
  ro.producer = false;
  auto replica = Open(ro);
  ASSERT_TRUE(replica);
  for (KafkaLog* reader : {log.get(), replica.get()}) {
    for (std::size_t from : order) {
      Cursor c = log->Heads();
      c.Advance(MakePosition(p, from));
      std::vector<StoredEvent> got;
      ASSERT_TRUE(reader->Read(c, 2, &got).ok()) << "from " << from;
      ASSERT_FALSE(got.empty()) << "from " << from;
      ASSERT_LE(got.size(), 2u);
      for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].position, MakePosition(p, from + k + 1)) << "from " << from;
        EXPECT_EQ(got[k].bytes, sent[from + k]) << "from " << from;
      }
    }
  }
}

TEST_P(KafkaLogTest, RetriedProduceErrorsNeitherLoseNorDuplicate) {
  auto log = Open();
  ASSERT_TRUE(log);
  const std::uint32_t parts = log->Partitions();
  const auto accounts = SpreadAccounts(parts, 2);
  rd_kafka_mock_push_request_errors(cluster_->cluster(), kProduceApi, 6, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  std::map<std::string, std::uint64_t> seqs;
  std::multiset<std::string> sent;
  for (int round = 0; round < 3; ++round) {
    for (const auto& a : accounts) {
      AppendBatch b = MakeBatch(a, seqs[a], 2, "retry");
      for (std::string& bytes : BytesOf(b)) sent.insert(std::move(bytes));
      auto pos = log->Append(std::move(b));
      ASSERT_TRUE(pos.ok()) << pos.status().ToString();
      seqs[a] += 2;
    }
  }
  auto all = ReadAll();
  std::multiset<std::string> stored;
  for (auto& ev : all) stored.insert(ev.bytes);
  EXPECT_EQ(stored, sent);
  EXPECT_TRUE(ContiguousPerAccount(all));
}

// Many accounts' batches in flight at once, each account's next batch launched from
// its previous one's callback (as CommandContext does), from several threads: every
// `done` once, consecutive positions, exactly what a replica reads back.
TEST_P(KafkaLogTest, ManyAccountsAppendAsyncConcurrently) {
  auto log = Open();
  ASSERT_TRUE(log);
  constexpr int kAccounts = 120, kRounds = 5, kThreads = 3;
  constexpr std::size_t kEvents = 2;
  struct Account {
    std::string id;
    std::uint64_t seq = 0;
    int rounds = 0;
    std::vector<std::pair<Position, std::vector<std::string>>> appended;  // last position, bytes
  };
  std::vector<Account> accounts(kAccounts);
  for (int a = 0; a < kAccounts; ++a) accounts[a].id = TestAccount(5000 + a);
  std::mutex mu;
  std::condition_variable cv;
  int finished = 0, failures = 0;
  std::string first_failure;
  std::function<void(Account*)> launch = [&](Account* acct) {
    AppendBatch b = MakeBatch(acct->id, acct->seq, kEvents, "many" + std::to_string(acct->rounds));
    auto bytes = std::make_shared<std::vector<std::string>>(BytesOf(b));
    log->AppendAsync(std::move(b), [&, acct, bytes](Result<Position> r) {
      bool again = false;
      {
        std::lock_guard<std::mutex> l(mu);
        if (!r.ok()) {
          if (failures++ == 0) first_failure = r.status().ToString();
          ++finished;
        } else {
          acct->appended.emplace_back(*r, std::move(*bytes));
          acct->seq += kEvents;
          again = ++acct->rounds < kRounds;
          if (!again) ++finished;
        }
      }
      cv.notify_all();
      if (again) launch(acct);  // from the log's thread, as CommandContext does
    });
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int a = t; a < kAccounts; a += kThreads) launch(&accounts[a]);
    });
  for (auto& t : threads) t.join();
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, 60s, [&] { return finished == kAccounts; })) << finished << " of " << kAccounts;
  }
  ASSERT_EQ(failures, 0) << first_failure;
  std::map<Position, std::string> expected;
  for (const Account& acct : accounts) {
    ASSERT_EQ(acct.rounds, kRounds) << acct.id;
    EXPECT_EQ(log->AccountSeq(acct.id), kRounds * kEvents);
    for (const auto& [last, bytes] : acct.appended)
      for (std::size_t i = 0; i < kEvents; ++i)
        EXPECT_TRUE(expected.emplace(last - (kEvents - 1 - i), bytes[i]).second) << "position used twice";
  }
  // The writer serves them (mostly from its own-event tail), a replica fetches them: the same.
  for (EventLog* reader : {static_cast<EventLog*>(log.get()), static_cast<EventLog*>(nullptr)}) {
    std::vector<StoredEvent> got;
    if (reader) {
      Cursor cursor(log->Partitions());
      ASSERT_TRUE(ReadUntil(*reader, &cursor, log->Heads(), &got, 64));
    } else {
      got = ReadAll();
    }
    std::map<Position, std::string> read;
    for (auto& ev : got) EXPECT_TRUE(read.emplace(ev.position, ev.bytes).second);
    EXPECT_EQ(read, expected) << (reader ? "writer" : "replica");
    EXPECT_TRUE(ContiguousPerAccount(got));
  }
}

// The writer's own events come back from memory as soon as they are delivered — not
// after a fetch wait (set to 1 s here) — in order, and never before their delivery
// report is in.
TEST_P(KafkaLogTest, OwnEventsAreServedAtOnceInOrderAndNeverAheadOfDelivery) {
  KafkaLogOptions o = TestKafkaOptions(*cluster_);
  o.extra.emplace_back("fetch.wait.max.ms", "1000");
  auto log = Open(o);
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(81);
  const std::uint32_t p = PartitionFor(acct, log->Partitions());
  Cursor applied = log->Heads();
  // Follow our own appends the way the projector does: WaitForAppend, then Read.
  constexpr int kAppends = 30;
  std::uint64_t seq = 0;
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < kAppends; ++i) {
    AppendBatch b = MakeBatch(acct, seq, 2, "own");
    const auto bytes = BytesOf(b);
    auto pos = log->Append(std::move(b));
    ASSERT_TRUE(pos.ok()) << pos.status().ToString();
    seq += 2;
    const Cursor heads = log->WaitForAppend(applied, 5s);
    ASSERT_TRUE(heads.Covers(*pos));
    std::vector<StoredEvent> got;
    ASSERT_TRUE(ReadUntil(*log, &applied, heads, &got));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].position, *pos - 1);
    EXPECT_EQ(got[0].bytes, bytes[0]);
    EXPECT_EQ(got[1].bytes, bytes[1]);
  }
  // A fetch per append would take ~1 s each; from memory it is a produce round trip.
  EXPECT_LT(SteadyClock::now() - t0, kAppends * 300ms);

  // Delivered late (the broker answers after 400 ms): nothing of it before its report.
  for (int b = 1; b <= cluster_->brokers(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster_->cluster(), b, 400), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::atomic<bool> reported{false};
  std::promise<Result<Position>> late;
  log->AppendAsync(MakeBatch(acct, seq, 1, "late"), [&](Result<Position> r) {
    reported = true;
    late.set_value(std::move(r));
  });
  std::vector<StoredEvent> early;
  ASSERT_TRUE(log->Read(applied, 100, &early).ok());
  if (!reported) {
    EXPECT_TRUE(early.empty()) << "served before its delivery report";
    EXPECT_EQ(log->Heads().offset(p), applied.offset(p));
  }
  auto r = late.get_future().get();
  for (int b = 1; b <= cluster_->brokers(); ++b)
    ASSERT_EQ(rd_kafka_mock_broker_set_rtt(cluster_->cluster(), b, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*log, &applied, log->Heads(), &got));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].position, *r);
}

// A batch that fails half way (its second event is refused by the producer after the
// first went out): OutcomeUnknown, the tail skips it, and the writer still reads every
// stored event in order — the half batch's through a fetch, its own later ones from memory.
TEST_P(KafkaLogTest, ADeliveryErrorMidBatchLeavesReadsExact) {
  KafkaLogOptions o = TestKafkaOptions(*cluster_);
  o.extra.emplace_back("message.max.bytes", "4000");
  auto log = Open(o);
  ASSERT_TRUE(log);
  const std::string acct = TestAccount(91);
  Cursor applied = log->Heads();
  ASSERT_TRUE(log->Append(MakeBatch(acct, 0, 2, "before")).ok());
  AppendBatch half = MakeBatch(acct, 2, 3, "half");
  half.events[1].bytes.append(8000, ' ');  // too large: refused when produced
  auto r = log->Append(std::move(half));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kOutcomeUnknown) << r.status().ToString();
  EXPECT_EQ(log->AccountSeq(acct), 3u);  // the first event of the half batch is stored
  // The client learns what was stored and goes on after it.
  auto next = log->Append(MakeBatch(acct, 3, 2, "after"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  std::vector<StoredEvent> got;
  ASSERT_TRUE(ReadUntil(*log, &applied, log->Heads(), &got, 1));
  auto all = ReadAll();
  ASSERT_EQ(got.size(), 5u);
  ASSERT_EQ(all.size(), got.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].position, all[i].position);
    EXPECT_EQ(got[i].bytes, all[i].bytes);
  }
  EXPECT_TRUE(ContiguousPerAccount(got));
}

INSTANTIATE_TEST_SUITE_P(Kafka, KafkaLogTest, ::testing::Values(Shape{1, 1}, Shape{3, 4}), ShapeName);

}  // namespace
}  // namespace authledger::contract
