// Whole nodes on a Kafka ledger: librdkafka's mock cluster in this process,
// reached over loopback sockets; writer and replica over real HTTP.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "app/ledger.h"
#include "domain/envelope.h"
#include "ledger/scan.h"
#include "tests/support/mock_kafka.h"
#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 4;

void UseKafka(Config& c, const MockKafka& kafka) {
  c.kafka_brokers = kafka.bootstraps();
  c.kafka_properties = MockKafka::ClientProperties();
  c.kafka_delivery_timeout = 2000;
}

// Every event in the topic, decoded, via a read-only KafkaLog.
std::vector<Event> AllEvents(const Config& config) {
  std::vector<Event> out;
  auto ledger = OpenLedger(config, LedgerAccess::kReadOnly);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  if (!ledger.ok()) return out;
  Status s = ScanLedger(*ledger->log, [&](const StoredEvent& e) {
    auto ev = DecodeEvent(e.bytes);
    if (!ev.ok()) return ev.status();
    out.push_back(std::move(ev).value());
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Each account's sequence is 1, 2, 3, ... with no repeat and no gap; returns the
// key ids of every key.created.
std::multiset<std::string> CheckChainsAndCollectKeys(const std::vector<Event>& events) {
  std::map<std::string, std::uint64_t> seq;
  std::multiset<std::string> keys;
  for (const Event& e : events) {
    EXPECT_EQ(e.seq, seq[e.account_id] + 1) << "account " << e.account_id;
    seq[e.account_id] = e.seq;
    if (auto* k = std::get_if<KeyCreated>(&e.data)) keys.insert(k->key_id);
  }
  return keys;
}

class KafkaNodeTest : public ::testing::Test {
 protected:
  MockKafka kafka{3, kPartitions};
  TestNode writer{[this](Config& c) { UseKafka(c, kafka); }};

  // A key, created the way a client must: a 503 that says nothing was written is
  // retried. A fresh writer re-synchronises a partition with a bounded read budget
  // (1 s) before its first append there, which a loaded machine can exceed; every
  // test that needs a write to fail asserts that on its own call.
  json CreateKey(const std::string& name, std::string* position = nullptr) {
    HttpResult r;
    for (int attempt = 0; attempt < 5; ++attempt) {
      r = writer.http().Call("POST", "/v1/keys", writer.admin_key(), {{"name", name}, {"scopes", {"monitors:read"}}});
      if (r.status != 503 || r.body.find("nothing was written") == std::string::npos) break;
    }
    EXPECT_EQ(r.status, 201) << r.body;
    if (position) *position = r.header("x-ledger-position");
    return r.json();
  }
};

// A read replica: its own data dir (with the writer's pepper), the same topic, role replica.
class Replica {
 public:
  Replica(const TestNode& writer, const MockKafka& kafka, const std::string& writer_url) {
    Config c = const_cast<TestNode&>(writer).config();
    c.data_dir = dir_.path() + "/data";
    c.role = "replica";
    c.writer_url = writer_url;
    c.pepper_file = "";
    c.signing_key_file = "";
    UseKafka(c, kafka);
    std::filesystem::create_directories(c.data_dir);
    std::filesystem::copy_file(const_cast<TestNode&>(writer).config().PepperPath(), c.PepperPath());
    auto n = Node::Open(c, const_cast<TestNode&>(writer).clock());
    if (!n.ok()) throw std::runtime_error("replica: " + n.status().ToString());
    node_ = std::move(n).value();
    if (Status s = node_->Serve(); !s.ok()) throw std::runtime_error("replica serve: " + s.ToString());
    http_ = std::make_unique<HttpClient>(node_->port());
  }
  ~Replica() { node_->Stop(); }
  HttpClient& http() { return *http_; }
  Node& node() { return *node_; }

 private:
  TempDir dir_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<HttpClient> http_;
};

// A write is answered once the writer's projector applied it, and the projector takes
// the writer's own events from memory: no command waits for a fetch (here one that
// finds nothing new waits a whole second).
TEST(KafkaNodeLatencyTest, WritesOnTheWriterDoNotWaitForAFetch) {
  MockKafka kafka(3, kPartitions);
  TestNode writer([&](Config& c) {
    UseKafka(c, kafka);
    c.kafka_properties.emplace_back("fetch.wait.max.ms", "1000");
  });
  constexpr int kCreates = 20;
  const auto start = Clock::now();
  for (int i = 0; i < kCreates; ++i) {
    auto r = writer.http().Call("POST", "/v1/keys", writer.admin_key(),
                                {{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
    ASSERT_EQ(r.status, 201) << r.body;  // 201: applied here (202 would mean not yet)
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_LT(took.count(), kCreates * 250) << kCreates << " creates took " << took.count() << " ms";
  // What a replica reads (it fetches) is the same.
  Config c = writer.config();
  EXPECT_EQ(CheckChainsAndCollectKeys(AllEvents(c)).size(), static_cast<std::size_t>(kCreates) + 1);  // + the admin key
}

TEST_F(KafkaNodeTest, WriterAndReplica) {
  Replica replica(writer, kafka, "http://127.0.0.1:" + std::to_string(writer.node().port()));
  EXPECT_EQ(writer.node().log().Partitions(), static_cast<std::uint32_t>(kPartitions));

  std::string position;
  json k = CreateKey("on-the-writer", &position);
  ASSERT_FALSE(position.empty());
  EXPECT_EQ(std::to_string(k["position"].get<Position>()), position);

  // Read-your-writes on the replica: "at least this position".
  auto v = replica.http().Request("POST", "/v1/keys/verify", json({{"key", k["key"]}}).dump(),
                                  {{"Content-Type", "application/json"}, {"X-Min-Position", position}});
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json()["code"], "VALID");
  auto list = replica.http().Request("GET", "/v1/keys", "",
                                     {{"Authorization", "Bearer " + writer.admin_key()}, {"X-Min-Position", position}});
  ASSERT_EQ(list.status, 200) << list.body;
  bool listed = false;
  const json listed_keys = list.json()["keys"];
  for (const auto& key : listed_keys) listed |= key["id"] == k["id"];
  EXPECT_TRUE(listed) << list.body;

  // Writes on the replica are redirected to the writer, and nothing is appended.
  auto heads = writer.node().log().Heads();
  auto w = replica.http().Call("POST", "/v1/keys", writer.admin_key(), {{"name", "x"}, {"scopes", {"monitors:read"}}});
  EXPECT_EQ(w.status, 307) << w.body;
  EXPECT_EQ(w.header("location"), "http://127.0.0.1:" + std::to_string(writer.node().port()) + "/v1/keys");
  EXPECT_EQ(w.header("content-type"), "application/problem+json");
  // OAuth client writes too; a client registered on the writer is read on the replica.
  auto c =
      replica.http().Call("POST", "/v1/oauth/clients", writer.admin_key(),
                          {{"name", "x"}, {"redirect_uris", {"https://a.example/cb"}}, {"scopes", {"monitors:read"}}});
  EXPECT_EQ(c.status, 307) << c.body;
  EXPECT_EQ(c.header("location"), "http://127.0.0.1:" + std::to_string(writer.node().port()) + "/v1/oauth/clients");
  EXPECT_EQ(replica.http().Call("DELETE", "/v1/oauth/clients/clnt_AAAAAAAAAAAA", writer.admin_key()).status, 307);
  EXPECT_EQ(replica.http().Call("POST", "/v1/oauth/clients/clnt_AAAAAAAAAAAA/rotate-secret", writer.admin_key()).status,
            307);
  EXPECT_EQ(writer.node().log().Heads(), heads);
  auto registered =
      writer.http().Call("POST", "/v1/oauth/clients", writer.admin_key(),
                         {{"name", "x"}, {"redirect_uris", {"https://a.example/cb"}}, {"scopes", {"monitors:read"}}});
  ASSERT_EQ(registered.status, 201) << registered.body;
  auto on_replica = replica.http().Request(
      "GET", "/v1/oauth/clients/" + registered.json()["id"].get<std::string>(), "",
      {{"Authorization", "Bearer " + writer.admin_key()}, {"X-Min-Position", registered.header("x-ledger-position")}});
  ASSERT_EQ(on_replica.status, 200) << on_replica.body;
  EXPECT_EQ(on_replica.json()["name"], "x");
  heads = writer.node().log().Heads();

  // A revocation on the writer reaches the replica well within a second.
  auto revoke = writer.http().Call("DELETE", "/v1/keys/" + k["id"].get<std::string>(), writer.admin_key());
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  auto start = Clock::now();
  std::string code;
  while (Clock::now() - start < std::chrono::seconds(5)) {
    code = replica.http().Call("POST", "/v1/keys/verify", "", {{"key", k["key"]}}).json()["code"];
    if (code == "REVOKED") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_EQ(code, "REVOKED");
  EXPECT_LT(took.count(), 1000) << "revocation took " << took.count() << " ms to reach the replica";

  // The replica's read side matches the writer's.
  auto ready = replica.http().Request("GET", "/readyz", "", {{"Authorization", "Bearer " + writer.admin_key()}});
  EXPECT_EQ(ready.json()["partitions"], kPartitions);
  // An event-stream position the replica has not heard of is waited for (briefly), then refused.
  auto start_stream = Clock::now();
  auto far = replica.http().Request("GET", "/v1/events?after=0:999999", "",
                                    {{"Authorization", "Bearer " + writer.admin_key()}});
  EXPECT_EQ(far.status, 400) << far.body;
  EXPECT_GE(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_stream).count(), 1500);
  // The replica does not hold the signing key: it says so.
  EXPECT_EQ(replica.http().Request("GET", "/v1/audit/public-key").status, 404);
}

TEST_F(KafkaNodeTest, BrokersDownWritesFailFastReadsServeAndWritesResume) {
  json before = CreateKey("before-the-outage");
  std::set<std::string> acknowledged = {before["id"].get<std::string>()};

  kafka.SetAllDown();
  auto start = Clock::now();
  auto r = writer.http().Call("POST", "/v1/keys", writer.admin_key(),
                              {{"name", "during-the-outage"}, {"scopes", {"monitors:read"}}});
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_FALSE(r.header("retry-after").empty());
  EXPECT_LT(took.count(), 5000);
  if (r.status == 201) acknowledged.insert(r.json()["id"].get<std::string>());
  // Reads keep serving from the projections.
  EXPECT_EQ(writer.http().Call("POST", "/v1/keys/verify", "", {{"key", before["key"]}}).json()["code"], "VALID");
  EXPECT_EQ(writer.http().Call("GET", "/v1/keys", writer.admin_key()).status, 200);
  // A second write while down also fails fast (the brokers are known to be down).
  start = Clock::now();
  EXPECT_EQ(writer.http()
                .Call("POST", "/v1/keys", writer.admin_key(), {{"name", "again"}, {"scopes", {"monitors:read"}}})
                .status,
            503);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count(), 2000);

  kafka.SetAllUp();
  // Writes resume by themselves.
  int status = 0;
  for (auto deadline = Clock::now() + std::chrono::seconds(30); Clock::now() < deadline;) {
    auto w = writer.http().Call("POST", "/v1/keys", writer.admin_key(),
                                {{"name", "after-the-outage"}, {"scopes", {"monitors:read"}}});
    status = w.status;
    if (status == 201) {
      acknowledged.insert(w.json()["id"].get<std::string>());
      break;
    }
    EXPECT_EQ(status, 503) << w.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(status, 201);

  // Every acknowledged key is in the ledger exactly once; nothing half-applied.
  auto keys = CheckChainsAndCollectKeys(AllEvents(writer.config()));
  for (const auto& id : acknowledged) EXPECT_EQ(keys.count(id), 1u) << id;
  // The read models agree with the ledger.
  auto list = writer.http().Call("GET", "/v1/keys", writer.admin_key()).json()["keys"];
  std::set<std::string> listed;
  for (const auto& k : list) listed.insert(k["id"].get<std::string>());
  for (const auto& id : keys) EXPECT_TRUE(listed.count(id)) << id;
}

TEST_F(KafkaNodeTest, InjectedProduceErrorsLoseNothingAndDuplicateNothing) {
  std::set<std::string> acknowledged;
  // NOT_LEADER_FOR_PARTITION (6), REQUEST_TIMED_OUT (7), NOT_ENOUGH_REPLICAS (19): retried by the producer.
  kafka.FailNextProduces({6, 7, 6, 19, 7});
  for (int i = 0; i < 12; ++i) {
    auto r = writer.http().Call("POST", "/v1/keys", writer.admin_key(),
                                {{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
    if (r.status == 201) acknowledged.insert(r.json()["id"].get<std::string>());
    else EXPECT_EQ(r.status, 503) << r.body;
    if (i == 5) kafka.FailNextProduces({6, 6, 7});
  }
  EXPECT_GE(acknowledged.size(), 10u);
  auto keys = CheckChainsAndCollectKeys(AllEvents(writer.config()));
  for (const auto& id : acknowledged) EXPECT_EQ(keys.count(id), 1u) << id;
  for (const auto& id : keys) EXPECT_EQ(keys.count(id), 1u) << id << " appears twice";
}

TEST_F(KafkaNodeTest, ProjectorRestartResumesExactlyWhereItStopped) {
  for (int i = 0; i < 5; ++i) CreateKey("k" + std::to_string(i));
  const Cursor heads = writer.node().log().Heads();
  const Cursor applied = writer.node().projector().applied();
  EXPECT_TRUE(applied.CoversAll(heads));
  auto audit_before =
      writer.http().Call("GET", "/v1/audit-log?limit=1000", writer.admin_key()).json()["entries"].size();

  writer.Shutdown();  // appends a checkpoint per non-empty partition
  writer.Restart();
  const Cursor after = writer.node().projector().applied();
  EXPECT_TRUE(after.CoversAll(writer.node().log().Heads()));
  // Nothing applied twice: the audit view has each event once (the shutdown's
  // checkpoints belong to the ledger chains, not to this account).
  auto entries = writer.http().Call("GET", "/v1/audit-log?limit=1000", writer.admin_key()).json()["entries"];
  EXPECT_EQ(entries.size(), audit_before);
  std::set<std::string> ids;
  for (const auto& e : entries) EXPECT_TRUE(ids.insert(e["id"].get<std::string>()).second) << e.dump();

  // And it goes on writing where it left off.
  json k = CreateKey("after-restart");
  EXPECT_EQ(writer.http().Call("POST", "/v1/keys/verify", "", {{"key", k["key"]}}).json()["code"], "VALID");
  auto keys = CheckChainsAndCollectKeys(AllEvents(writer.config()));
  EXPECT_EQ(keys.size(), 7u);  // bootstrap admin + 5 + 1
}

// Produces `value` into `partition` of the topic with a plain librdkafka producer
// (outside authledger: what a redelivery or a foreign writer would leave there).
void RawProduce(const MockKafka& kafka, std::int32_t partition, const std::string& key, const std::string& value) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", kafka.bootstraps().c_str(), errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  ASSERT_NE(rk, nullptr) << errstr;
  ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("authledger.events"), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

TEST_F(KafkaNodeTest, RedeliveryChangesNothingAndAGapStopsTheProjectorLoudly) {
  writer.SkipEventDump();  // the topic ends up with a copy and a forged gap on purpose
  CreateKey("k");
  // The account's last event, as stored.
  auto ledger = OpenLedger(writer.config(), LedgerAccess::kReadOnly);
  ASSERT_TRUE(ledger.ok());
  StoredEvent last;
  ASSERT_TRUE(ScanLedger(*ledger->log, [&](const StoredEvent& e) {
                if (e.bytes.find(writer.account_id()) != std::string::npos) last = e;
                return Status::Ok();
              }).ok());
  ASSERT_FALSE(last.bytes.empty());
  const auto entries = [&] {
    return writer.http().Call("GET", "/v1/audit-log?limit=1000", writer.admin_key()).json()["entries"].size();
  };
  const std::size_t before = entries();

  // Delivered again: the projector passes over it and goes on.
  const std::uint32_t partition = PartitionOf(last.position);
  Cursor target = writer.node().projector().applied();
  target.Advance(MakePosition(partition, target.offset(partition) + 1));
  RawProduce(kafka, static_cast<std::int32_t>(partition), writer.account_id(), last.bytes);
  ASSERT_TRUE(writer.node().projector().WaitApplied(target, std::chrono::seconds(10)).ok());
  EXPECT_TRUE(writer.node().projector().health().ok());
  EXPECT_EQ(writer.http().Request("GET", "/readyz").status, 200);
  EXPECT_EQ(entries(), before);  // applied once
  json k2 = CreateKey("after-the-copy");
  EXPECT_EQ(writer.http().Call("POST", "/v1/keys/verify", "", {{"key", k2["key"]}}).json()["code"], "VALID");

  // A gap in the account's sequence is not a redelivery: the projector stops and says why.
  auto ev = DecodeEvent(last.bytes);
  ASSERT_TRUE(ev.ok());
  ev->seq += 5;
  RawProduce(kafka, static_cast<std::int32_t>(partition), writer.account_id(), EncodeEvent(*ev));
  Status health;
  for (auto deadline = Clock::now() + std::chrono::seconds(10); Clock::now() < deadline;) {
    health = writer.node().projector().health();
    if (!health.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(health.code(), Status::Code::kCorruption) << health.ToString();
  auto ready = writer.http().Request("GET", "/readyz", "", {{"Authorization", "Bearer " + writer.admin_key()}});
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("seq"), std::string::npos) << ready.body;
  auto stranger = writer.http().Request("GET", "/readyz");  // not ready, and no more
  EXPECT_EQ(stranger.status, 503);
  EXPECT_EQ(stranger.json()["type"], "/problems/not-ready") << stranger.body;
  EXPECT_EQ(stranger.body.find("seq"), std::string::npos) << stranger.body;
  // Commands refuse to decide on stopped projections; reads still answer.
  EXPECT_EQ(
      writer.http().Call("POST", "/v1/keys", writer.admin_key(), {{"name", "x"}, {"scopes", {"monitors:read"}}}).status,
      503);
  EXPECT_EQ(writer.http().Call("POST", "/v1/keys/verify", "", {{"key", k2["key"]}}).json()["code"], "VALID");
}

}  // namespace
}  // namespace authledger::testing
