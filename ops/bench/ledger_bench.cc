// ledger_bench: generates a realistic ledger directly through EmbeddedLog (no HTTP),
// then measures, each separately with steady_clock:
//   (a) Rebuild(config, ...)        events/s (all projections deleted and re-derived)
//   (b) QueryAudit page latency     median / p99 per query kind (100 entries, newest first)
//   (c) VerifyLedger(config, "")    events/s (every hash chain checked)
//
//   ledger_bench --data DIR --events N --accounts A [--threads T] [--span-days D]
//                [--sync] [--queries Q] [--seed S]
//
// The generated ledger: per account an account.created and its first (admin) key,
// then, over D days of synthetic time (default 365, evenly spread over the N events),
// a mix of key.created (~10 keys per account), key.scopes_granted, key.revoked and,
// most of all, key.used batches (one key.used per used key, as the usage recorder
// appends them). Every event carries the right accountseq and prevhash.
// T threads (default 4) each own a share of the accounts and append one batch per
// account at a time, so Appends are in flight concurrently and group-committed, and
// accounts interleave in the ledger as they do in production.
// --sync: fdatasync every group (as the server does); off by default because the
// data is throwaway and the generation is not what is being measured.
// DIR must be empty or absent; it is left in place (the caller removes it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/audit.h"
#include "app/config.h"
#include "app/node.h"
#include "domain/envelope.h"
#include "domain/events.h"
#include "domain/ids.h"
#include "ledger/embedded_log.h"
#include "projections/audit_query.h"
#include "projections/store.h"

using namespace authledger;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string data;
  std::uint64_t events = 200'000;
  std::uint64_t accounts = 1'000;
  unsigned threads = 4;
  double span_days = 365;
  bool sync = false;
  std::size_t queries = 250;  // per query kind
  std::uint64_t seed = 42;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "ledger_bench: %s\n"
               "usage: ledger_bench --data DIR --events N --accounts A [--threads T] [--span-days D]\n"
               "                    [--sync] [--queries Q] [--seed S]\n",
               why);
  std::exit(2);
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Commas(std::uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "ledger_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// ---- generation -------------------------------------------------------------

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const std::vector<std::string> kScopes = {"alerts:read",    "alerts:write", "billing:read", "incidents:read",
                                          "metrics:read",   "monitors:read", "monitors:write", "teams:admin"};

struct Key {
  std::string id;
  bool live = true;
  std::vector<std::string> scopes;
};

struct Account {
  std::string id;
  std::uint64_t seq = 0;
  std::string head = kGenesisHash;
  std::vector<Key> keys;
  std::size_t live = 0;
  std::string admin_key;
  std::vector<std::string> ips;  // where its clients call from
};

class Generator {
 public:
  Generator(std::uint64_t seed, std::uint64_t events_per_account) : rng_(seed) {
    // ~10 keys per account over its lifetime (the admin key included).
    double e = static_cast<double>(std::max<std::uint64_t>(events_per_account, 3));
    p_create_ = std::min(0.25, 9.0 / e);
    p_revoke_ = p_create_ * 0.5;
    p_grant_ = std::min(0.05, 4.0 / e);
  }

  std::string Base62(std::size_t n) {
    std::string s(n, '0');
    for (auto& c : s) c = kBase62[rng_() % 62];
    return s;
  }
  std::string Hex64() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(64, '0');
    for (std::size_t i = 0; i < 64; i += 16) {
      std::uint64_t v = rng_();
      for (std::size_t j = 0; j < 16; ++j) s[i + j] = kHex[(v >> (4 * j)) & 15];
    }
    return s;
  }
  std::string Ip() {
    return "203.0." + std::to_string(rng_() % 256) + "." + std::to_string(1 + rng_() % 254);
  }
  std::uint64_t Below(std::uint64_t n) { return rng_() % n; }
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  std::vector<std::string> SomeScopes(std::size_t max) {
    std::vector<std::string> out;
    std::size_t n = 1 + Below(max);
    for (std::size_t i = 0; i < n; ++i) out.push_back(kScopes[Below(kScopes.size())]);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // The next batch of event data for `a` (mutates the generator's model of it).
  void NextBatch(Account& a, std::vector<EventData>* out, Actor* actor) {
    out->clear();
    if (a.seq == 0) {  // a new customer: the operator bootstraps it
      *actor = Actor{"cli", "operator", "", "authledger bootstrap"};
      out->push_back(AccountCreated{"customer " + a.id.substr(5, 6)});
      out->push_back(NewKey(a, {"admin:*"}, "admin"));
      a.admin_key = a.keys.back().id;
      for (int i = 0; i < 4; ++i) a.ips.push_back(Ip());
      return;
    }
    double r = Uniform();
    const std::string ip = a.ips[Below(a.ips.size())];
    if (a.live < 2 || (r < p_create_ && a.live < 25)) {
      *actor = Actor{"key", a.admin_key, ip, "POST /v1/keys"};
      out->push_back(NewKey(a, SomeScopes(3), "key " + std::to_string(a.keys.size())));
      return;
    }
    r -= p_create_;
    if (r < p_revoke_ && a.live > 2) {
      Key& k = LiveKey(a, /*not_admin=*/true);
      k.live = false;
      --a.live;
      *actor = Actor{"key", a.admin_key, ip, "POST /v1/keys/" + k.id + "/revoke"};
      out->push_back(KeyRevoked{k.id, Below(3) == 0 ? "compromised" : "no longer used"});
      return;
    }
    r -= p_revoke_;
    if (r < p_grant_) {
      Key& k = LiveKey(a, true);
      std::vector<std::string> add;
      for (const auto& s : SomeScopes(2))
        if (!std::binary_search(k.scopes.begin(), k.scopes.end(), s)) add.push_back(s);
      if (!add.empty()) {
        std::vector<std::string> merged = k.scopes;
        merged.insert(merged.end(), add.begin(), add.end());
        std::sort(merged.begin(), merged.end());
        k.scopes = std::move(merged);
        *actor = Actor{"key", a.admin_key, ip, "POST /v1/keys/" + k.id + "/scopes"};
        out->push_back(KeyScopesGranted{k.id, std::move(add)});
        return;
      }
    }
    // Usage: one key.used per key used since the last flush, as the usage recorder does.
    *actor = Actor{"system", "usage-recorder", "", ""};
    std::size_t n = 1 + Below(std::min<std::size_t>(a.live, 4));
    std::size_t start = Below(a.keys.size());
    for (std::size_t i = 0; i < a.keys.size() && out->size() < n; ++i) {
      const Key& k = a.keys[(start + i) % a.keys.size()];
      if (!k.live) continue;
      out->push_back(KeyUsed{k.id, 0, a.ips[Below(a.ips.size())], 1 + Below(500)});
    }
  }

 private:
  KeyCreated NewKey(Account& a, std::vector<std::string> scopes, std::string name) {
    KeyCreated k;
    k.key_id = Base62(12);
    k.name = std::move(name);
    k.scopes = std::move(scopes);
    k.environment = Below(5) == 0 ? "test" : "live";
    k.secret_hash = Hex64();
    a.keys.push_back(Key{k.key_id, true, k.scopes});
    ++a.live;
    return k;
  }
  Key& LiveKey(Account& a, bool not_admin) {
    for (;;) {
      Key& k = a.keys[Below(a.keys.size())];
      if (k.live && !(not_admin && k.id == a.admin_key)) return k;
    }
  }

  std::mt19937_64 rng_;
  double p_create_, p_revoke_, p_grant_;
};

struct GenResult {
  std::uint64_t events = 0;
  std::uint64_t appends = 0;
  double seconds = 0;
  TimeMs first_time = 0, last_time = 0;
  std::vector<std::string> accounts;  // ids, for the queries
};

GenResult Generate(const Options& o) {
  auto log = EmbeddedLog::Open(o.data + "/ledger", EmbeddedLogOptions{64ull << 20, o.sync});
  if (!log.ok()) Die("open ledger", log.status());
  if ((*log)->Head() != 0) Usage("the ledger in --data is not empty");

  const TimeMs span = static_cast<TimeMs>(o.span_days * kDayMs);
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  const TimeMs t0 = now - span;
  const double step = static_cast<double>(span) / static_cast<double>(o.events);  // ms per event

  std::atomic<std::uint64_t> reserved{0};
  std::atomic<std::uint64_t> appends{0};
  std::vector<std::vector<Account>> owned(o.threads);
  for (std::uint64_t i = 0; i < o.accounts; ++i) {
    Account a;
    a.id = NewAccountId();
    owned[i % o.threads].push_back(std::move(a));
  }

  std::mutex err_mu;
  Status first_error;
  auto t_start = SteadyClock::now();
  auto worker = [&](unsigned t) {
    Generator gen(o.seed * 1000003 + t, o.events / o.accounts);
    std::vector<Account>& mine = owned[t];
    std::vector<EventData> data;
    Actor actor;
    std::size_t created = 0;
    for (;;) {
      // New accounts first (all customers exist from the start), then random ones.
      Account& a = created < mine.size() ? mine[created++] : mine[gen.Below(mine.size())];
      gen.NextBatch(a, &data, &actor);
      std::uint64_t first = reserved.fetch_add(data.size());
      if (first >= o.events) return;
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), o.events - first));
      AppendBatch batch;
      batch.account_id = a.id;
      batch.expected_seq = a.seq;
      batch.events.reserve(n);
      std::string head = a.head;
      for (std::size_t i = 0; i < n; ++i) {
        Event e;
        e.time = t0 + static_cast<TimeMs>(static_cast<double>(first + i) * step);
        e.id = NewUuidV7(e.time);
        e.account_id = a.id;
        e.seq = a.seq + 1 + i;
        e.prev_hash = head;
        e.actor = actor;
        if (auto* u = std::get_if<KeyUsed>(&data[i])) u->last_used_at = e.time - static_cast<TimeMs>(gen.Below(60'000));
        e.data = std::move(data[i]);
        batch.events.push_back(EncodeEvent(e));
        head = EventHash(batch.events.back());
      }
      auto pos = (*log)->Append(std::move(batch));
      if (!pos.ok()) {
        std::lock_guard lock(err_mu);
        if (first_error.ok()) first_error = pos.status();
        reserved.store(o.events);
        return;
      }
      a.seq += n;
      a.head = std::move(head);
      appends.fetch_add(1, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < o.threads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();
  if (!first_error.ok()) Die("append", first_error);

  GenResult r;
  r.seconds = Seconds(SteadyClock::now() - t_start);
  r.events = (*log)->Head();
  r.appends = appends.load();
  r.first_time = t0;
  r.last_time = t0 + static_cast<TimeMs>(static_cast<double>(o.events - 1) * step);
  for (auto& v : owned)
    for (auto& a : v) r.accounts.push_back(a.id);
  std::sort(r.accounts.begin(), r.accounts.end());
  return r;
}

// ---- measurement ------------------------------------------------------------

struct Latencies {
  std::string name;
  std::vector<double> ms;
  std::uint64_t entries = 0;
  double Pct(double p) const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    if (v.empty()) return 0;
    std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
  }
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    auto num = [&](const std::string& v) -> std::uint64_t {
      char* end = nullptr;
      unsigned long long x = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end) Usage(("not a number: " + v).c_str());
      return x;
    };
    if (a == "--data") o.data = next();
    else if (a == "--events") o.events = num(next());
    else if (a == "--accounts") o.accounts = num(next());
    else if (a == "--threads") o.threads = static_cast<unsigned>(num(next()));
    else if (a == "--span-days") o.span_days = std::atof(next().c_str());
    else if (a == "--queries") o.queries = num(next());
    else if (a == "--seed") o.seed = num(next());
    else if (a == "--sync") o.sync = true;
    else if (a == "-h" || a == "--help") Usage("help");
    else Usage(("unknown argument " + a).c_str());
  }
  if (o.data.empty()) Usage("--data is required");
  if (o.accounts == 0 || o.threads == 0 || o.threads > 256) Usage("--accounts and --threads must be >= 1 (threads <= 256)");
  if (o.threads > o.accounts) o.threads = static_cast<unsigned>(o.accounts);
  if (o.events < 3 * o.accounts) Usage("--events must be at least 3 x --accounts");
  if (o.span_days <= 0) Usage("--span-days must be > 0");
  if (o.queries < 1) Usage("--queries must be >= 1");
  std::filesystem::create_directories(o.data);
  if (!std::filesystem::is_empty(o.data)) Usage("--data must be an empty or new directory");

  Config config;
  config.data_dir = o.data;

  std::fprintf(stderr, "ledger_bench: generating %s events for %s accounts (%u threads, %s, %.0f days)\n",
               Commas(o.events).c_str(), Commas(o.accounts).c_str(), o.threads, o.sync ? "fdatasync" : "no fsync",
               o.span_days);
  GenResult gen = Generate(o);
  if (gen.events != o.events) {
    std::fprintf(stderr, "ledger_bench: ledger holds %" PRIu64 " events, expected %" PRIu64 "\n", gen.events, o.events);
    return 1;
  }
  std::uintmax_t ledger_bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(o.data + "/ledger"))
    if (f.is_regular_file()) ledger_bytes += f.file_size();
  std::fprintf(stderr, "ledger_bench: appended %s events in %s batches in %.1f s: %.0f events/s, %.1f MiB (%.0f B/event)\n",
               Commas(gen.events).c_str(), Commas(gen.appends).c_str(), gen.seconds, gen.events / gen.seconds,
               ledger_bytes / 1048576.0, static_cast<double>(ledger_bytes) / gen.events);

  // (a) Rebuild.
  std::fprintf(stderr, "ledger_bench: rebuilding the projections\n");
  auto t = SteadyClock::now();
  auto last_report = t;
  Status s = Rebuild(config, [&](Position p, Position head) {
    auto n = SteadyClock::now();
    if (n - last_report > std::chrono::seconds(10)) {
      last_report = n;
      std::fprintf(stderr, "  rebuild %5.1f%%  %.0f events/s so far\n", 100.0 * p / head, p / Seconds(n - t));
    }
  });
  double rebuild_s = Seconds(SteadyClock::now() - t);
  if (!s.ok()) Die("rebuild", s);
  std::uintmax_t proj_bytes = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(o.data + "/projections"))
    if (f.is_regular_file()) proj_bytes += f.file_size();

  // (b) Audit pages.
  std::fprintf(stderr, "ledger_bench: querying the audit log (%zu queries per kind)\n", o.queries);
  std::vector<Latencies> kinds;
  {
    auto store = ProjectionStore::Open(config.ProjectionsDir());
    if (!store.ok()) Die("open projections", store.status());
    std::mt19937_64 rng(o.seed);
    auto pick = [&] { return gen.accounts[rng() % gen.accounts.size()]; };
    auto timed = [&](Latencies& l, const std::string& account, const AuditFilter& f) {
      auto t0 = SteadyClock::now();
      auto r = QueryAudit(**store, account, f);
      l.ms.push_back(Seconds(SteadyClock::now() - t0) * 1e3);
      if (!r.ok()) Die("QueryAudit", r.status());
      l.entries += r->entries.size();
      return std::move(r).value();
    };
    const TimeMs span = gen.last_time - gen.first_time;
    const TimeMs retention = config.audit_retention;

    Latencies first{"newest page (no cursor)", {}, 0};
    Latencies deep{"next pages (cursor, pages 2-5)", {}, 0};
    Latencies range{"30-day window, newest first", {}, 0};
    Latencies revoked{"type=key.revoked, whole year", {}, 0};
    for (std::size_t q = 0; q < o.queries; ++q) {
      AuditFilter f;
      f.limit = 100;
      f.newest_first = true;
      f.since = gen.last_time - retention;  // what GET /v1/audit-log reaches
      std::string account = pick();
      timed(first, account, f);
    }
    for (std::size_t q = 0; deep.ms.size() < o.queries && q < 4 * o.queries; ++q) {
      AuditFilter f;
      f.limit = 100;
      f.since = gen.last_time - retention;
      std::string account = pick();
      auto r = QueryAudit(**store, account, f);  // page 1, not timed
      if (!r.ok()) Die("QueryAudit", r.status());
      std::optional<AuditCursor> next = r->next;
      for (int page = 2; page <= 5 && next; ++page) {
        f.after = next;
        next = timed(deep, account, f).next;
      }
    }
    for (std::size_t q = 0; q < o.queries; ++q) {
      AuditFilter f;
      f.limit = 100;
      TimeMs from = gen.first_time + static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(std::max<TimeMs>(1, span - 30 * kDayMs)));
      f.since = from;
      f.until = from + 30 * kDayMs;
      timed(range, pick(), f);
    }
    for (std::size_t q = 0; q < o.queries; ++q) {
      AuditFilter f;
      f.limit = 100;
      f.since = gen.last_time - retention;
      f.types = {std::string(KeyRevoked::kType)};
      timed(revoked, pick(), f);
    }
    kinds = {first, deep, range, revoked};
  }

  // (c) VerifyLedger.
  std::fprintf(stderr, "ledger_bench: verifying the ledger\n");
  t = SteadyClock::now();
  auto v = VerifyLedger(config, "");
  double verify_s = Seconds(SteadyClock::now() - t);
  if (!v.ok()) Die("VerifyLedger", v.status());
  if (!v->status.ok()) Die("VerifyLedger found a broken chain", v->status);
  if (v->report.events != gen.events) {
    std::fprintf(stderr, "ledger_bench: VerifyLedger saw %" PRIu64 " events\n", v->report.events);
    return 1;
  }

  std::printf("\n### ledger_bench: %s events, %s accounts, %.0f days\n\n", Commas(gen.events).c_str(),
              Commas(gen.accounts.size()).c_str(), o.span_days);
  std::printf("ledger %.0f MiB (%.0f B/event), projections after rebuild %.0f MiB; %u hardware threads\n\n",
              ledger_bytes / 1048576.0, static_cast<double>(ledger_bytes) / gen.events, proj_bytes / 1048576.0,
              std::thread::hardware_concurrency());
  std::printf("| measurement | result |\n| --- | ---: |\n");
  std::printf("| generate + append (%u threads, %s, %s batches) | %s events/s (%.1f s) |\n", o.threads,
              o.sync ? "fdatasync" : "no fsync", Commas(gen.appends).c_str(),
              Commas(static_cast<std::uint64_t>(gen.events / gen.seconds)).c_str(), gen.seconds);
  std::printf("| (a) `Rebuild` | **%s events/s** (%.1f s; target ≥ 250,000) |\n",
              Commas(static_cast<std::uint64_t>(gen.events / rebuild_s)).c_str(), rebuild_s);
  std::printf("| (c) `VerifyLedger` | **%s events/s** (%.1f s) |\n\n",
              Commas(static_cast<std::uint64_t>(gen.events / verify_s)).c_str(), verify_s);
  std::printf("(b) `QueryAudit`, limit 100, newest first, random accounts:\n\n");
  std::printf("| query | n | median (ms) | p99 (ms) | mean entries/page |\n| --- | ---: | ---: | ---: | ---: |\n");
  for (const auto& k : kinds)
    std::printf("| %s | %zu | %.3f | %.3f | %.1f |\n", k.name.c_str(), k.ms.size(), k.Pct(0.5), k.Pct(0.99),
                k.ms.empty() ? 0.0 : static_cast<double>(k.entries) / k.ms.size());
  std::printf("\n");
  std::fflush(stdout);
  return 0;
}
