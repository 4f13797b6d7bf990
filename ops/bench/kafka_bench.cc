// kafka_bench: the Kafka ledger (ledger/kafka_log.h) on librdkafka's mock cluster, started in
// this process (clients reach it over loopback sockets, as they would real brokers). Measures,
// each with steady_clock, median of --reps repetitions where it says so:
//   (a) events/s appended: T threads (default 4) append the realistic workload of
//       tests/support/workload.h (right accountseq and prevhash) as one-event batches through a
//       KafkaLog producer (idempotent, acks=all); reference in the same run: the same workload
//       on an EmbeddedLog with fsync on, as the server runs it. Median of --reps.
//   (b) events/s applied: a fresh Projector on a fresh ProjectionStore catches up the whole
//       topic of (a) through a read-only KafkaLog (Projector::CatchUp); reference: the same
//       events applied from the EmbeddedLog of (a). Median of --reps. Beside it, to tell the
//       log's share from the projector's: the events each Read handed the projector, the
//       catch-up with roomier consumer queues set through the properties (KafkaLog's own limits
//       make librdkafka 2.0 pause fetching for up to a second at a time), and the rate of
//       reading alone (ScanLedger, nothing applied).
//   (c) replica lag under load: while the workload is appended at each offered rate of --rates
//       (events/s over --lag-threads threads; "max": unpaced) for --lag-seconds, a replica (a
//       read-only KafkaLog and a Projector::Start()ed projector on its own store) follows;
//       every 20 ms an acknowledged Append is sampled: the time from its acknowledgement to the
//       replica's Projector::WaitApplied(position) returning. p50 / p99 / max.
//   (d) revocation visible on a replica: a writer Node and a replica Node (role = replica, own
//       data dir, the writer's pepper) serving HTTP on loopback. --revocations times: a key is
//       created on the writer (POST /v1/keys) and seen VALID on the replica, then revoked on the
//       writer (DELETE /v1/keys/{id}); once the writer answered 200 the replica's POST
//       /v1/keys/verify is polled every millisecond until it answers REVOKED. The time from
//       sending the DELETE to that answer: median / p99 / max, against the 1 s target (and the
//       DELETE's own latency, and the part after its 200).
// (c) and (d) run once per --fetch-waits value: the readers' fetch.wait.max.ms ("default": not
// set, i.e. KafkaLog's own 100 ms, what a server runs unless [kafka.properties] sets it).
//
//   kafka_bench --data DIR [--events N] [--accounts A] [--threads T] [--partitions P] [--reps R]
//               [--rates R1,R2,...|max] [--lag-threads T] [--lag-seconds S] [--revocations N]
//               [--fetch-waits MS,...|default] [--seed S]
//
// Every phase (and every repetition of (a)) gets a fresh mock cluster: the mock keeps at most
// 5 MiB or 100,000 batches per partition and silently drops older data, so each topic's data
// is kept under half of that per partition (refused up front otherwise; an event dropped
// anyway would stop (b) and the replicas with Corruption, never go unnoticed).
// DIR must be empty or absent; it is left in place (the caller removes it).
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/config.h"
#include "app/node.h"
#include "domain/decimal.h"
#include "ledger/embedded_log.h"
#include "ledger/kafka_log.h"
#include "ledger/scan.h"
#include "projections/projector.h"
#include "projections/store.h"
#include "tests/support/http_client.h"
#include "tests/support/mock_kafka.h"
#include "tests/support/workload.h"

using namespace authledger;
using namespace authledger::bench;
using authledger::testing::HttpClient;
using authledger::testing::MockKafka;
using json = nlohmann::json;

namespace {

constexpr int kBrokers = 3;
constexpr double kMockPartitionBytes = 5.0 * 1024 * 1024;  // the mock's retention per partition
// On the mock an event costs its envelope (~540 B) plus ~300 B of CloudEvents headers, the key
// and the record batch around it (one-event batches): 1 KiB is a safe estimate.
constexpr double kMockBytesPerEvent = 1024;
constexpr double kPartitionSkew = 1.5;  // the busiest partition against the mean (hashed accounts)
constexpr auto kLagSampleInterval = std::chrono::milliseconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(1);
const std::string kDefaultFetchWait = "default";
using Properties = std::vector<std::pair<std::string, std::string>>;
// KafkaLog's readers set queued.min.messages=1000 and queued.max.messages.kbytes=4096; librdkafka
// 2.0.x stops fetching for up to a second once the consumer's queue (all partitions together)
// holds that much. (b) also catches up with roomier limits, settable in [kafka.properties].
const Properties kRoomyQueue = {{"queued.min.messages", "100000"}, {"queued.max.messages.kbytes", "65536"}};
const std::string kRoomyQueueText = "queued.min.messages = 100000, queued.max.messages.kbytes = 65536";

struct Options {
  std::string data;
  std::uint64_t events = 8'000;  // per topic in (a) and (b)
  std::uint64_t accounts = 400;
  unsigned threads = 4;
  std::uint32_t partitions = 16;
  unsigned reps = 3;
  std::vector<double> rates = {2'000, 0};  // 0: max
  unsigned lag_threads = 32;
  double lag_seconds = 5;
  unsigned revocations = 50;
  std::vector<std::string> fetch_waits = {"10", kDefaultFetchWait};
  std::uint64_t seed = 42;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "kafka_bench: %s\n"
               "usage: kafka_bench --data DIR [--events N] [--accounts A] [--threads T] [--partitions P]\n"
               "                   [--reps R] [--rates R1,R2,...|max] [--lag-threads T] [--lag-seconds S]\n"
               "                   [--revocations N] [--fetch-waits MS,...|default] [--seed S]\n",
               why.c_str());
  std::exit(2);
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "kafka_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// ---- arguments ------------------------------------------------------------------

std::uint64_t Number(const std::string& v) {
  const auto x = ParseDecimal(v);
  if (!x) Usage("not a number: " + v);
  return *x;
}

std::vector<std::string> SplitCommas(const std::string& v) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t comma; (comma = v.find(',', start)) != std::string::npos; start = comma + 1)
    out.push_back(v.substr(start, comma - start));
  out.push_back(v.substr(start));
  return out;
}

std::vector<double> ParseRates(const std::string& v) {
  std::vector<double> out;
  for (const auto& r : SplitCommas(v)) out.push_back(r == "max" ? 0.0 : static_cast<double>(Number(r)));
  return out;
}

std::vector<std::string> ParseFetchWaits(const std::string& v) {
  std::vector<std::string> out = SplitCommas(v);
  for (const auto& w : out)
    if (w != kDefaultFetchWait) Number(w);
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--data") o.data = next();
    else if (a == "--events") o.events = Number(next());
    else if (a == "--accounts") o.accounts = Number(next());
    else if (a == "--threads") o.threads = static_cast<unsigned>(Number(next()));
    else if (a == "--partitions") o.partitions = static_cast<std::uint32_t>(Number(next()));
    else if (a == "--reps") o.reps = static_cast<unsigned>(Number(next()));
    else if (a == "--rates") o.rates = ParseRates(next());
    else if (a == "--lag-threads") o.lag_threads = static_cast<unsigned>(Number(next()));
    else if (a == "--lag-seconds") o.lag_seconds = std::atof(next().c_str());
    else if (a == "--revocations") o.revocations = static_cast<unsigned>(Number(next()));
    else if (a == "--fetch-waits") o.fetch_waits = ParseFetchWaits(next());
    else if (a == "--seed") o.seed = Number(next());
    else if (a == "-h" || a == "--help") Usage("help");
    else Usage("unknown argument " + a);
  }
  if (o.data.empty()) Usage("--data is required");
  if (o.accounts == 0 || o.threads == 0 || o.threads > 256 || o.lag_threads == 0 || o.lag_threads > 256)
    Usage("--accounts, --threads and --lag-threads must be >= 1 (threads <= 256)");
  if (o.events < 3 * o.accounts) Usage("--events must be at least 3 x --accounts");
  if (o.partitions == 0 || o.partitions > kMaxPartitions) Usage("--partitions must be 1..32");
  if (o.reps == 0 || o.lag_seconds <= 0) Usage("--reps and --lag-seconds must be > 0");
  return o;
}

// The most events one topic may take: the busiest partition stays under half the mock's retention.
std::uint64_t MockEventBudget(std::uint32_t partitions) {
  return static_cast<std::uint64_t>(kMockPartitionBytes / 2 / kMockBytesPerEvent / kPartitionSkew * partitions);
}

// ---- opening logs and stores ------------------------------------------------------

// The tests' client properties (short fetch waits, quiet logs) with fetch.wait.max.ms = `fetch_wait`
// ("default": not set, so KafkaLog's own value applies).
Properties KafkaProperties(const std::string& fetch_wait) {
  auto props = MockKafka::ClientProperties();
  std::erase_if(props, [](const auto& kv) { return kv.first == "fetch.wait.max.ms"; });
  if (fetch_wait != kDefaultFetchWait) props.emplace_back("fetch.wait.max.ms", fetch_wait);
  return props;
}

// `more`: further properties, applied last (as [kafka.properties] are).
std::unique_ptr<KafkaLog> OpenKafka(const MockKafka& kafka, bool producer, const std::string& fetch_wait,
                                    const Properties& more = {}) {
  KafkaLogOptions k;
  k.brokers = kafka.bootstraps();
  k.producer = producer;
  k.extra = KafkaProperties(fetch_wait);
  k.extra.insert(k.extra.end(), more.begin(), more.end());
  auto log = KafkaLog::Open(std::move(k));
  if (!log.ok()) Die("open the Kafka ledger", log.status());
  return std::move(log).value();
}

std::unique_ptr<EmbeddedLog> OpenEmbedded(const std::string& dir) {
  auto log = EmbeddedLog::Open(dir, EmbeddedLogOptions{64ull << 20, /*sync=*/true});
  if (!log.ok()) Die("open the embedded ledger " + dir, log.status());
  return std::move(log).value();
}

std::unique_ptr<ProjectionStore> OpenStore(const std::string& dir) {
  auto store = ProjectionStore::Open(dir);
  if (!store.ok()) Die("open projections " + dir, store.status());
  return std::move(store).value();
}

// <data>/<name>-<n>: every phase and repetition works in a directory of its own.
std::string Subdir(const Options& o, const std::string& name, int n) {
  std::string dir = o.data;
  dir.append("/").append(name).append("-").append(std::to_string(n));
  return dir;
}

// ---- (a) appending ----------------------------------------------------------------

WorkloadOptions Workload(const Options& o, std::uint64_t events, unsigned threads) {
  WorkloadOptions w;
  w.events = events;
  w.accounts = o.accounts;
  w.threads = threads;
  w.seed = o.seed;
  w.max_batch_events = 1;
  return w;
}

double AppendRate(EventLog& log, const WorkloadOptions& w) {
  auto r = AppendWorkload(log, w);
  if (!r.ok()) Die("append", r.status());
  return static_cast<double>(r->events) / r->seconds;
}

struct Pair {
  std::vector<double> kafka, embedded;  // one value per repetition
};

// The topic and the embedded ledger of (a)'s last repetition, for (b).
struct Appended {
  std::unique_ptr<MockKafka> kafka;
  std::string ledger_dir;
};

Pair MeasureAppends(const Options& o, Appended* last) {
  Pair rates;
  const WorkloadOptions w = Workload(o, o.events, o.threads);
  for (unsigned rep = 0; rep < o.reps; ++rep) {
    last->kafka.reset();  // a fresh cluster: the mock's retention is per topic and run
    last->kafka = std::make_unique<MockKafka>(kBrokers, static_cast<int>(o.partitions));
    rates.kafka.push_back(AppendRate(*OpenKafka(*last->kafka, true, kDefaultFetchWait), w));
    last->ledger_dir = Subdir(o, "a", static_cast<int>(rep)) + "/ledger";
    rates.embedded.push_back(AppendRate(*OpenEmbedded(last->ledger_dir), w));
    std::fprintf(stderr, "  (a) rep %u: Kafka %.0f events/s, embedded %.0f events/s\n", rep + 1, rates.kafka.back(),
                 rates.embedded.back());
  }
  return rates;
}

// ---- (b) catching up ----------------------------------------------------------------

struct CatchUp {
  double events_per_s = 0;
  double events_per_batch = 0;  // what each Read handed the projector, on average
};

CatchUp TimedCatchUp(EventLog& log, const std::string& store_dir, std::uint64_t expected) {
  auto store = OpenStore(store_dir);
  Projector projector(log, *store);
  if (Status s = projector.Init(); !s.ok()) Die("projector init", s);
  std::uint64_t batches = 0;
  const auto start = SteadyClock::now();
  Status s = projector.CatchUp([&](const Cursor&) { ++batches; });
  const double seconds = Seconds(SteadyClock::now() - start);
  if (!s.ok()) Die("catch up", s);
  if (projector.applied().Total() != expected) {
    std::fprintf(stderr, "kafka_bench: caught up %" PRIu64 " events, expected %" PRIu64 "\n",
                 projector.applied().Total(), expected);
    std::exit(1);
  }
  return {static_cast<double>(expected) / seconds, static_cast<double>(expected) / static_cast<double>(batches)};
}

// Reading alone (ScanLedger, no projector): what the log delivers.
double ReadRate(EventLog& log, std::uint64_t expected) {
  std::uint64_t n = 0;
  const auto start = SteadyClock::now();
  Status s = ScanLedger(log, [&](const StoredEvent&) {
    ++n;
    return Status::Ok();
  });
  const double seconds = Seconds(SteadyClock::now() - start);
  if (!s.ok()) Die("read the ledger", s);
  if (n != expected) Die("read the ledger", Status::Internal("read " + std::to_string(n) + " events"));
  return static_cast<double>(n) / seconds;
}

struct Applied {
  Pair apply, per_batch, read;
  Pair apply_roomy;  // Kafka with kRoomyQueue (its embedded side: the same reference as `apply`)
};

void CatchUpBoth(const Options& o, const Appended& appended, unsigned rep, Applied* out) {
  const std::string k_store = Subdir(o, "b-kafka", static_cast<int>(rep));
  const std::string e_store = Subdir(o, "b-embedded", static_cast<int>(rep));
  const CatchUp k = TimedCatchUp(*OpenKafka(*appended.kafka, false, kDefaultFetchWait), k_store, o.events);
  const CatchUp e = TimedCatchUp(*OpenEmbedded(appended.ledger_dir), e_store, o.events);
  std::filesystem::remove_all(k_store);
  const CatchUp roomy =
      TimedCatchUp(*OpenKafka(*appended.kafka, false, kDefaultFetchWait, kRoomyQueue), k_store, o.events);
  std::filesystem::remove_all(k_store);
  std::filesystem::remove_all(e_store);
  out->apply_roomy.kafka.push_back(roomy.events_per_s);
  out->apply_roomy.embedded.push_back(e.events_per_s);
  out->apply.kafka.push_back(k.events_per_s);
  out->apply.embedded.push_back(e.events_per_s);
  out->per_batch.kafka.push_back(k.events_per_batch);
  out->per_batch.embedded.push_back(e.events_per_batch);
}

Applied MeasureCatchUps(const Options& o, const Appended& appended) {
  Applied a;
  for (unsigned rep = 0; rep < o.reps; ++rep) {
    CatchUpBoth(o, appended, rep, &a);
    a.read.kafka.push_back(ReadRate(*OpenKafka(*appended.kafka, false, kDefaultFetchWait), o.events));
    a.read.embedded.push_back(ReadRate(*OpenEmbedded(appended.ledger_dir), o.events));
    std::fprintf(stderr,
                 "  (b) rep %u: catch up Kafka %.0f events/s (%.0f per batch; %.0f with roomier queues), "
                 "embedded %.0f events/s; read only Kafka %.0f events/s, embedded %.0f events/s\n",
                 rep + 1, a.apply.kafka.back(), a.per_batch.kafka.back(), a.apply_roomy.kafka.back(),
                 a.apply.embedded.back(), a.read.kafka.back(), a.read.embedded.back());
  }
  return a;
}

// ---- (c) replica lag ------------------------------------------------------------------

// Samples acknowledged Appends (one per kLagSampleInterval) and measures, on a thread per
// sample, how long the replica takes to apply each: a slow sample never delays the next.
class LagSampler {
 public:
  explicit LagSampler(Projector& replica) : replica_(replica) {}
  ~LagSampler() { Join(); }

  // Called by the appending threads.
  void OnAppend(Position p, SteadyClock::time_point acknowledged) {
    std::lock_guard lock(mu_);
    if (acknowledged - last_ < kLagSampleInterval) return;
    last_ = acknowledged;
    waiters_.emplace_back([this, p, acknowledged] { Wait(p, acknowledged); });
  }
  // Once no Append is running any more.
  void Join() {
    for (auto& t : waiters_) t.join();
    waiters_.clear();
  }
  std::vector<double> ms() const { return ms_; }
  std::size_t timeouts() const { return timeouts_; }

 private:
  void Wait(Position p, SteadyClock::time_point acknowledged) {
    Status s = replica_.WaitApplied(p, std::chrono::seconds(60));
    const double ms = Millis(SteadyClock::now() - acknowledged);
    std::lock_guard lock(mu_);
    if (s.ok()) ms_.push_back(ms);
    else ++timeouts_;
  }

  Projector& replica_;
  std::mutex mu_;
  SteadyClock::time_point last_{};
  std::vector<std::thread> waiters_;
  std::vector<double> ms_;
  std::size_t timeouts_ = 0;
};

struct LagResult {
  double offered = 0;  // events/s; 0: max
  std::string fetch_wait;
  std::uint64_t events = 0;
  double seconds = 0;
  std::vector<double> ms;  // per sample
  std::size_t timeouts = 0;
  double drain_ms = 0;  // from the last acknowledgement until the replica had applied everything
};

LagResult MeasureLag(const Options& o, double rate, const std::string& fetch_wait, std::uint64_t events) {
  static int run = 0;
  MockKafka kafka(kBrokers, static_cast<int>(o.partitions));
  auto writer = OpenKafka(kafka, true, fetch_wait);
  auto replica_log = OpenKafka(kafka, false, fetch_wait);
  auto store = OpenStore(Subdir(o, "c-replica", run++));
  Projector replica(*replica_log, *store);
  if (Status s = replica.Init(); !s.ok()) Die("replica init", s);
  replica.Start();
  LagSampler sampler(replica);

  WorkloadOptions w = Workload(o, events, o.lag_threads);
  w.rate = rate;
  w.on_append = [&](Position p, SteadyClock::time_point t) { sampler.OnAppend(p, t); };
  auto appended = AppendWorkload(*writer, w);
  if (!appended.ok()) Die("append", appended.status());
  const auto done = SteadyClock::now();
  if (Status s = replica.WaitApplied(writer->Heads(), std::chrono::seconds(120)); !s.ok()) Die("replica", s);
  LagResult r{rate, fetch_wait, appended->events, appended->seconds, {}, 0, Millis(SteadyClock::now() - done)};
  sampler.Join();
  replica.Stop();
  r.ms = sampler.ms();
  r.timeouts = sampler.timeouts();
  return r;
}

// Events for one level of (c): lag_seconds at the offered rate, within the mock's budget.
std::uint64_t LagEvents(const Options& o, double rate, double max_rate_estimate) {
  const double wanted = (rate > 0 ? rate : max_rate_estimate) * o.lag_seconds;
  return std::max<std::uint64_t>(
      3 * o.accounts, std::min<std::uint64_t>(static_cast<std::uint64_t>(wanted), MockEventBudget(o.partitions)));
}

// ---- (d) revocations through whole nodes -----------------------------------------------

Config NodeConfig(const std::string& dir, const MockKafka& kafka, const std::string& fetch_wait) {
  Config c;
  c.data_dir = dir;
  c.listen = "127.0.0.1:0";
  c.threads = 2;
  c.kafka_brokers = kafka.bootstraps();
  c.kafka_properties = KafkaProperties(fetch_wait);
  c.key_writes_per_minute = 1'000'000;  // the bench writes faster than any plan allows
  c.key_reads_per_minute = 1'000'000;
  return c;
}

std::unique_ptr<Node> ServeNode(const Config& c) {
  auto node = Node::Open(c, SystemClock::Instance());
  if (!node.ok()) Die("open node (" + c.role + ")", node.status());
  if (Status s = (*node)->Serve(); !s.ok()) Die("serve (" + c.role + ")", s);
  return std::move(node).value();
}

// A writer Node and a read replica Node of the same topic, as tests/integration/kafka_node_test.cc wires them.
class NodePair {
 public:
  NodePair(const std::string& dir, const MockKafka& kafka, const std::string& fetch_wait) {
    Config w = NodeConfig(dir + "/writer", kafka, fetch_wait);
    auto boot = Bootstrap(w, SystemClock::Instance(), "kafka-bench", "kafka_bench", false);
    if (!boot.ok()) Die("bootstrap", boot.status());
    admin_key_ = boot->full_key;
    writer_ = ServeNode(w);

    Config r = NodeConfig(dir + "/replica", kafka, fetch_wait);
    r.role = "replica";
    r.writer_url = "http://127.0.0.1:" + std::to_string(writer_->port());
    std::filesystem::create_directories(r.data_dir);
    std::filesystem::copy_file(w.PepperPath(), r.PepperPath());
    std::filesystem::permissions(r.PepperPath(),
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    replica_ = ServeNode(r);
    writer_http_ = std::make_unique<HttpClient>(writer_->port());
    replica_http_ = std::make_unique<HttpClient>(replica_->port());
  }
  ~NodePair() {
    replica_http_.reset();
    writer_http_.reset();
    replica_->Stop();
    writer_->Stop();
  }
  HttpClient& writer() { return *writer_http_; }
  HttpClient& replica() { return *replica_http_; }
  const std::string& admin_key() const { return admin_key_; }

 private:
  std::string admin_key_;
  std::unique_ptr<Node> writer_, replica_;
  std::unique_ptr<HttpClient> writer_http_, replica_http_;
};

// Polls POST /v1/keys/verify on `http` until it answers `code` for `key`; false after `timeout`.
bool WaitForCode(HttpClient& http, const std::string& key, const std::string& code, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  for (;;) {
    if (http.Call("POST", "/v1/keys/verify", "", {{"key", key}}).json().value("code", "") == code) return true;
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

struct RevocationResult {
  std::string fetch_wait;
  std::vector<double> call_ms;       // DELETE on the writer, sent to 200
  std::vector<double> visible_ms;    // DELETE sent to the replica's first REVOKED
  std::vector<double> after_200_ms;  // the writer's 200 to the replica's first REVOKED
  std::size_t missed = 0;            // not REVOKED on the replica within 10 s
};

// One key created, seen on the replica, revoked on the writer and polled on the replica until REVOKED.
void RevokeOnce(NodePair& nodes, unsigned i, RevocationResult* r) {
  auto created = nodes.writer().Call("POST", "/v1/keys", nodes.admin_key(),
                                     {{"name", "bench-" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
  if (created.status != 201) Die("create key", Status::Internal(std::to_string(created.status) + " " + created.body));
  const json body = created.json();
  const std::string key = body["key"].get<std::string>(), id = body["id"].get<std::string>();
  if (!WaitForCode(nodes.replica(), key, "VALID", std::chrono::seconds(10)))
    Die("replica", Status::Unavailable("key " + id + " not VALID on the replica within 10 s"));

  const auto sent = SteadyClock::now();
  auto revoked = nodes.writer().Call("DELETE", "/v1/keys/" + id, nodes.admin_key());
  const auto acknowledged = SteadyClock::now();
  if (revoked.status != 200) Die("revoke key", Status::Internal(std::to_string(revoked.status) + " " + revoked.body));
  if (!WaitForCode(nodes.replica(), key, "REVOKED", std::chrono::seconds(10))) {
    ++r->missed;
    return;
  }
  const auto seen = SteadyClock::now();
  r->call_ms.push_back(Millis(acknowledged - sent));
  r->visible_ms.push_back(Millis(seen - sent));
  r->after_200_ms.push_back(Millis(seen - acknowledged));
}

RevocationResult MeasureRevocations(const Options& o, const std::string& fetch_wait) {
  static int run = 0;
  MockKafka kafka(kBrokers, static_cast<int>(o.partitions));
  NodePair nodes(Subdir(o, "d-nodes", run++), kafka, fetch_wait);
  RevocationResult r{fetch_wait, {}, {}, {}, 0};
  for (unsigned i = 0; i < o.revocations; ++i) RevokeOnce(nodes, i, &r);
  return r;
}

// ---- report ----------------------------------------------------------------------------

std::string FetchWaitLabel(const std::string& w) { return w == kDefaultFetchWait ? "default (100)" : w; }
std::string Rate(double v) { return Commas(static_cast<std::uint64_t>(v + 0.5)); }

void PrintThroughput(const Options& o, const Pair& appended, const Applied& applied) {
  std::printf("| measurement (median of %u) | Kafka (mock) | embedded (reference) | Kafka / embedded |\n"
              "| --- | ---: | ---: | ---: |\n",
              o.reps);
  auto row = [](const std::string& what, const Pair& p, const char* unit) {
    const double k = Median(p.kafka), e = Median(p.embedded);
    std::printf("| %s | %s%s | %s%s | %.2f× |\n", what.c_str(), Rate(k).c_str(), unit, Rate(e).c_str(), unit, k / e);
  };
  row("(a) append, one-event batches, " + std::to_string(o.threads) + " threads (embedded: fsync)", appended,
      " events/s");
  row("(b) catch up a fresh projector (`Projector::CatchUp`)", applied.apply, " events/s");
  row("(b) … events per applied batch (one `Read` each)", applied.per_batch, "");
  row("(b) … with `" + kRoomyQueueText + "` in [kafka.properties]", applied.apply_roomy, " events/s");
  row("(b) read only (`ScanLedger`, no projector)", applied.read, " events/s");
  std::printf("\n");
}

void PrintLag(const std::vector<LagResult>& lags) {
  std::printf("(c) replica lag: Append acknowledged → replica `WaitApplied` returns\n\n"
              "| offered events/s | fetch.wait.max.ms | achieved events/s | events | samples | p50 ms | p99 ms | max "
              "ms | drain ms |\n"
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& l : lags)
    std::printf("| %s | %s | %s | %s | %zu%s | %.1f | %.1f | %.1f | %.0f |\n",
                l.offered > 0 ? Rate(l.offered).c_str() : "max", FetchWaitLabel(l.fetch_wait).c_str(),
                Rate(static_cast<double>(l.events) / l.seconds).c_str(), Commas(l.events).c_str(), l.ms.size(),
                l.timeouts ? (" (" + std::to_string(l.timeouts) + " timed out)").c_str() : "", Percentile(l.ms, 0.5),
                Percentile(l.ms, 0.99), Percentile(l.ms, 1.0), l.drain_ms);
  std::printf("\n");
}

void PrintRevocations(const std::vector<RevocationResult>& revs) {
  std::printf("(d) revocation visible on a replica node: DELETE /v1/keys/{id} sent to the writer → the replica's\n"
              "POST /v1/keys/verify first says REVOKED (target < 1 s)\n\n"
              "| fetch.wait.max.ms | revocations | DELETE → REVOKED p50 ms | p99 ms | max ms | DELETE's 200 p50 ms | "
              "200 → REVOKED p50 / max ms | < 1 s |\n"
              "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (const auto& r : revs) {
    const double max = Percentile(r.visible_ms, 1.0);
    std::printf("| %s | %zu%s | %.1f | %.1f | %.1f | %.1f | %.1f / %.1f | %s |\n", FetchWaitLabel(r.fetch_wait).c_str(),
                r.visible_ms.size(), r.missed ? (" (+" + std::to_string(r.missed) + " never)").c_str() : "",
                Median(r.visible_ms), Percentile(r.visible_ms, 0.99), max, Median(r.call_ms), Median(r.after_200_ms),
                Percentile(r.after_200_ms, 1.0), r.missed == 0 && max < 1000 ? "yes" : "**no**");
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  std::filesystem::create_directories(o.data);
  if (!std::filesystem::is_empty(o.data)) Usage("--data must be an empty or new directory");
  if (o.events > MockEventBudget(o.partitions))
    Usage("--events " + Commas(o.events) + " is more than the mock keeps safely in " + std::to_string(o.partitions) +
          " partitions (" + Commas(MockEventBudget(o.partitions)) + "): use fewer events or more partitions");
  spdlog::set_level(spdlog::level::warn);  // the nodes of (d) log every start and stop

  std::fprintf(stderr, "kafka_bench: (a) appending %s events for %s accounts, %u threads, %u reps\n",
               Commas(o.events).c_str(), Commas(o.accounts).c_str(), o.threads, o.reps);
  Appended last;
  const Pair appended = MeasureAppends(o, &last);
  std::fprintf(stderr, "kafka_bench: (b) catching up\n");
  const Applied applied = MeasureCatchUps(o, last);
  last.kafka.reset();

  std::vector<LagResult> lags;
  for (const auto& fetch_wait : o.fetch_waits)
    for (double rate : o.rates) {
      const std::uint64_t events = LagEvents(o, rate, Median(appended.kafka) * o.lag_threads / o.threads);
      std::fprintf(stderr, "kafka_bench: (c) %s events at %s events/s, fetch.wait.max.ms %s\n", Commas(events).c_str(),
                   rate > 0 ? Rate(rate).c_str() : "max", FetchWaitLabel(fetch_wait).c_str());
      lags.push_back(MeasureLag(o, rate, fetch_wait, events));
    }

  std::vector<RevocationResult> revocations;
  for (const auto& fetch_wait : o.fetch_waits) {
    std::fprintf(stderr, "kafka_bench: (d) %u revocations, fetch.wait.max.ms %s\n", o.revocations,
                 FetchWaitLabel(fetch_wait).c_str());
    revocations.push_back(MeasureRevocations(o, fetch_wait));
  }

  std::printf(
      "\n### kafka_bench: librdkafka %s mock cluster, %d brokers, %u partitions; %s events, %s accounts per topic\n\n",
      rd_kafka_version_str(), kBrokers, o.partitions, Commas(o.events).c_str(), Commas(o.accounts).c_str());
  std::printf("%u hardware threads; mock, clients, projector and nodes all share them\n\n",
              std::thread::hardware_concurrency());
  PrintThroughput(o, appended, applied);
  PrintLag(lags);
  PrintRevocations(revocations);
  std::fflush(stdout);
  return 0;
}
