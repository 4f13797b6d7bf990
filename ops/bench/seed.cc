// bench_seed: fills a ledger with accounts and keys straight through the EventLog API (no HTTP),
// for the write-path benchmarks (ops/bench/create.sh, ops/bench/rss.sh): seeding a million keys
// through POST /v1/keys would take hours on a slow write path, and the benchmarks measure what a
// server does with a big ledger, not how the ledger got big.
//
//   bench_seed --data DIR [--config FILE] [--kafka-brokers B [--kafka-topic T]]
//              --accounts A --keys K [--max-live L] [--admin-out FILE] [--sample N --sample-out FILE]
//
// Per account, as `authledger bootstrap` and POST /v1/keys would write them: account.created and
// an admin key (scopes admin:*) by the operator, then K key.created (scope --scope, environment
// live) by that admin key, with the right accountseq and prevhash and real key material: each
// secret_hash is HashSecret(pepper, id, secret) with the pepper of the data dir, so the keys
// verify. With --max-live L < K, the K - L oldest keys are revoked right after their creation
// (one key.revoked each): the account still holds K keys, and POST /v1/keys stays under
// keys.max_live_keys. The ledger is the embedded one in DIR/ledger, or the Kafka topic.
//
// Like a first `authledger serve`, it creates the pepper and the checkpoint signing key in DIR
// when the ledger is empty. Then `authledger serve --data DIR` (same --config and Kafka flags)
// fills its projections from the ledger on start.
//
// Outputs (created mode 0600; never an existing file): --admin-out, every account's full admin
// key, one per line; --sample-out, N live keys spread evenly over all live keys (admin keys
// included), one POST /v1/keys/verify body per line: {"key":"...","scope":"<--scope>"}. The last
// line on stdout sums up what was written (events, bytes, the largest partition's bytes, time).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/config.h"
#include "app/ledger.h"
#include "app/node.h"
#include "domain/api_key.h"
#include "domain/crypto.h"
#include "domain/envelope.h"
#include "domain/ids.h"
#include "domain/scopes.h"
#include "ledger/partitioner.h"
#include "tests/support/workload.h"

namespace {

using namespace authledger;
using bench::Commas;
using bench::Seconds;
using bench::SteadyClock;

struct Options {
  std::string data_dir, config_file, kafka_brokers, kafka_topic;
  std::uint64_t accounts = 1, keys = 0, max_live = 0, sample = 0;
  std::string admin_out, sample_out, scope = "monitors:read";
  unsigned threads = 2;
  std::size_t batch = 512;  // events per Append
};

// A file for secrets: created, never overwritten, mode 0600.
class SecretFile {
 public:
  Status Open(const std::string& path) {
    if (path.empty()) return Status::Ok();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
    f_ = ::fdopen(fd, "w");
    if (!f_) {
      ::close(fd);
      return Status::IOError("cannot open " + path);
    }
    path_ = path;
    return Status::Ok();
  }
  void WriteLine(const std::string& line) {
    if (!f_) return;
    std::lock_guard lock(mu_);
    ok_ = ok_ && std::fwrite(line.data(), 1, line.size(), f_) == line.size() && std::fputc('\n', f_) != EOF;
  }
  Status Close() {
    if (!f_) return Status::Ok();
    ok_ = std::fclose(f_) == 0 && ok_;
    f_ = nullptr;
    return ok_ ? Status::Ok() : Status::IOError("cannot write " + path_);
  }
  ~SecretFile() {
    if (f_) std::fclose(f_);
  }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
  std::mutex mu_;
  bool ok_ = true;
};

// What the seeding threads share.
struct Run {
  const Options& o;
  EventLog& log;
  std::string pepper, brand;
  std::uint64_t live_keys = 0;  // live non-admin keys per account
  std::uint64_t stride = 1;     // every stride-th live key (global live index) is sampled
  SecretFile admins, sample;
  std::vector<std::atomic<std::uint64_t>> partition_bytes;
  std::atomic<std::uint64_t> events{0}, bytes{0}, next_account{0};
  std::mutex err_mu;
  Status first_error;

  Run(const Options& opts, EventLog& l) : o(opts), log(l), partition_bytes(l.Partitions()) {}
  void Fail(const Status& s) {
    std::lock_guard lock(err_mu);
    if (first_error.ok()) first_error = s;
    next_account.store(o.accounts);  // the other threads stop at their next account
  }
};

TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One account's events, appended in batches of o.batch events (one more when a key and its revocation
// straddle the limit) as they are generated.
class AccountWriter {
 public:
  AccountWriter(Run& run, std::string account_id) : run_(run), id_(std::move(account_id)) {
    partition_ = PartitionFor(id_, run.log.Partitions());
  }

  void Add(const Actor& actor, EventData data) {
    Event e;
    e.time = NowMs();
    e.id = NewUuidV7(e.time);
    e.account_id = id_;
    e.seq = seq_ + pending_.size() + 1;
    e.prev_hash = head_;
    e.actor = actor;
    e.data = std::move(data);
    pending_.push_back(AppendEventOf(e));
    head_ = EventHash(pending_.back().bytes);
  }
  bool Full() const { return pending_.size() >= run_.o.batch; }

  // Appends what is pending; false (and the run failed) if the log refused it.
  bool Flush() {
    if (pending_.empty()) return true;
    AppendBatch b;
    b.account_id = id_;
    b.expected_seq = seq_;
    std::uint64_t n = pending_.size(), bytes = 0;
    for (const auto& e : pending_) bytes += e.bytes.size();
    b.events = std::move(pending_);
    pending_.clear();
    auto pos = run_.log.Append(std::move(b));
    if (!pos.ok()) {
      run_.Fail(pos.status());
      return false;
    }
    seq_ += n;
    run_.events.fetch_add(n, std::memory_order_relaxed);
    run_.bytes.fetch_add(bytes, std::memory_order_relaxed);
    run_.partition_bytes[partition_].fetch_add(bytes, std::memory_order_relaxed);
    return true;
  }

 private:
  Run& run_;
  std::string id_;
  std::uint32_t partition_ = 0;
  std::uint64_t seq_ = 0;
  std::string head_ = kGenesisHash;
  std::vector<AppendEvent> pending_;
};

KeyCreated NewKeyCreated(const NewKeyMaterial& m, std::string name, std::string scope) {
  KeyCreated k;
  k.key_id = m.key_id;
  k.name = std::move(name);
  k.scopes = {std::move(scope)};
  k.environment = "live";
  k.secret_hash = ToHex(m.secret_hash);
  return k;
}

// Writes the sampled key's verify body when `live_index` (over all accounts' live keys) is sampled.
void MaybeSample(Run& run, std::uint64_t live_index, const std::string& full_key) {
  if (run.o.sample == 0 || live_index % run.stride != 0 || live_index / run.stride >= run.o.sample) return;
  std::string body = R"({"key":")" + full_key + R"(","scope":")" + run.o.scope + R"("})";
  run.sample.WriteLine(body);
  SecureWipe(body);
}

bool SeedAccount(Run& run, std::uint64_t index) {
  const Options& o = run.o;
  AccountWriter w(run, NewAccountId());
  const std::uint64_t first_live = index * (1 + run.live_keys);  // global live index of its admin key

  NewKeyMaterial admin = GenerateApiKey(run.brand, KeyEnvironment::kLive, run.pepper);
  const Actor op = Actor::Cli("bench", "authledger bootstrap");
  w.Add(op, AccountCreated{"bench " + std::to_string(index)});
  w.Add(op, NewKeyCreated(admin, "bench-admin", std::string(kAdminWildcard)));
  run.admins.WriteLine(admin.full_key);
  MaybeSample(run, first_live, admin.full_key);
  SecureWipe(admin.full_key);

  const Actor by_admin = Actor::Key(admin.key_id, "127.0.0.1", "POST /v1/keys");
  const std::uint64_t revoked = o.keys - run.live_keys;  // the oldest ones
  for (std::uint64_t j = 0; j < o.keys; ++j) {
    NewKeyMaterial m = GenerateApiKey(run.brand, KeyEnvironment::kLive, run.pepper);
    w.Add(by_admin, NewKeyCreated(m, "bench-" + std::to_string(j), o.scope));
    if (j < revoked) {
      const Actor revoker = Actor::Key(admin.key_id, "127.0.0.1", "POST /v1/keys/" + m.key_id + "/revoke");
      w.Add(revoker, KeyRevoked{m.key_id, "bench: older than the live ones"});
    } else {
      MaybeSample(run, first_live + 1 + (j - revoked), m.full_key);
    }
    SecureWipe(m.full_key);
    if (w.Full() && !w.Flush()) return false;
  }
  return w.Flush();
}

void SeedThread(Run& run) {
  for (;;) {
    const std::uint64_t i = run.next_account.fetch_add(1);
    if (i >= run.o.accounts) return;
    if (!SeedAccount(run, i)) return;
  }
}

int Fail(const Status& s) {
  std::fprintf(stderr, "bench_seed: %s\n", s.ToString().c_str());
  return s.code() == Status::Code::kInvalidArgument ? 2 : 1;
}

int Seed(const Options& o) {
  auto config = LoadConfigFile(o.config_file);
  if (!config.ok()) return Fail(config.status());
  config->data_dir = o.data_dir;
  if (!o.kafka_brokers.empty()) config->kafka_brokers = o.kafka_brokers;
  if (!o.kafka_topic.empty()) config->kafka_topic = o.kafka_topic;
  if (Status s = config->Validate(); !s.ok()) return Fail(s);
  if (o.max_live > o.keys) return Fail(Status::InvalidArgument("--max-live must not exceed --keys"));
  if ((o.sample == 0) != o.sample_out.empty())
    return Fail(Status::InvalidArgument("--sample and --sample-out go together"));

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return Fail(Status::IOError("cannot create " + o.data_dir + ": " + ec.message()));
  auto ledger = OpenLedger(*config, LedgerAccess::kReadWrite);
  if (!ledger.ok()) return Fail(ledger.status());
  // As Node::Open: the secrets are created only along with a fresh ledger.
  const bool fresh = ledger->log->Heads().Total() == 0;
  auto pepper = LoadOrCreateSecret(config->PepperPath(), fresh, "the seeded keys must verify with it");
  if (!pepper.ok()) return Fail(pepper.status());
  auto signing = LoadOrCreateSecret(config->SigningKeyPath(), fresh, "authledger serve needs it");
  if (!signing.ok()) return Fail(signing.status());

  Run run(o, *ledger->log);
  run.pepper = std::move(pepper).value();
  run.brand = config->brand;
  run.live_keys = o.max_live == 0 ? o.keys : o.max_live;
  const std::uint64_t live_total = o.accounts * (1 + run.live_keys);
  if (o.sample > 0) run.stride = std::max<std::uint64_t>(1, live_total / o.sample);
  if (Status s = run.admins.Open(o.admin_out); !s.ok()) return Fail(s);
  if (Status s = run.sample.Open(o.sample_out); !s.ok()) return Fail(s);

  std::fprintf(stderr, "bench_seed: %s: %s accounts x (admin + %s keys, %s live) ...\n", ledger->description.c_str(),
               Commas(o.accounts).c_str(), Commas(o.keys).c_str(), Commas(run.live_keys).c_str());
  const auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  const unsigned threads = static_cast<unsigned>(std::min<std::uint64_t>(std::max(1u, o.threads), o.accounts));
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(SeedThread, std::ref(run));
  for (auto& th : pool) th.join();
  const double secs = Seconds(SteadyClock::now() - start);
  if (!run.first_error.ok()) return Fail(run.first_error);
  if (Status s = run.admins.Close(); !s.ok()) return Fail(s);
  if (Status s = run.sample.Close(); !s.ok()) return Fail(s);

  std::uint64_t max_partition = 0;
  for (const auto& b : run.partition_bytes) max_partition = std::max(max_partition, b.load());
  const std::uint64_t events = run.events.load();
  std::printf("bench_seed: accounts=%llu keys_per_account=%llu live_per_account=%llu events=%llu bytes=%llu "
              "max_partition_bytes=%llu seconds=%.1f events_per_s=%.0f\n",
              static_cast<unsigned long long>(o.accounts), static_cast<unsigned long long>(o.keys),
              static_cast<unsigned long long>(run.live_keys), static_cast<unsigned long long>(events),
              static_cast<unsigned long long>(run.bytes.load()), static_cast<unsigned long long>(max_partition), secs,
              secs > 0 ? static_cast<double>(events) / secs : 0.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"bench_seed: writes accounts with an admin key and N keys each straight into a ledger"};
  app.add_option("--data", o.data_dir, "data directory (ledger, pepper, signing key)")->required();
  app.add_option("--config", o.config_file, "TOML configuration file (brand, pepper_file, [kafka])");
  app.add_option("--kafka-brokers", o.kafka_brokers, "HOST:PORT,...: write the Kafka topic instead");
  app.add_option("--kafka-topic", o.kafka_topic, "the ledger's Kafka topic (default authledger.events)");
  app.add_option("--accounts", o.accounts, "accounts to create")->check(CLI::Range(1, 10'000'000));
  app.add_option("--keys", o.keys, "keys per account besides its admin key")->check(CLI::Range(0, 10'000'000));
  app.add_option("--max-live", o.max_live, "at most this many of them live, the older ones revoked (0: all live)");
  app.add_option("--admin-out", o.admin_out, "file for the admin keys (created 0600)");
  app.add_option("--sample", o.sample, "live keys to write to --sample-out as verify bodies");
  app.add_option("--sample-out", o.sample_out, "file for the sampled keys (created 0600)");
  app.add_option("--scope", o.scope, "scope of the seeded keys and of the verify bodies");
  app.add_option("--threads", o.threads, "appending threads")->check(CLI::Range(1, 64));
  app.add_option("--batch", o.batch, "events per Append")->check(CLI::Range(1, 10'000));
  CLI11_PARSE(app, argc, argv);
  return Seed(o);
}
