// ledger_bench: generates a realistic ledger directly through EmbeddedLog (no HTTP),
// then measures, each separately with steady_clock:
//   (a) Rebuild(config, ...)        events/s (all projections deleted and re-derived), next to a
//       reference taken right before it: reading the ledger's files (read(2), 1 MiB at a
//       time, as `cat` does) in events/s, the bound no rebuild can beat on this machine
//   (b) QueryAudit page latency     median / p99 per query kind (100 entries, newest first)
//   (c) VerifyLedger(config, "")    events/s (every hash chain checked)
//
//   ledger_bench --data DIR --events N --accounts A [--threads T] [--span-days D]
//                [--sync] [--queries Q] [--seed S]
//
// The generated ledger is the workload of tests/support/workload.h: per account an
// account.created and its first (admin) key, then, over D days of synthetic time (default
// 365, evenly spread over the N events), a mix of key.created (~10 keys per account),
// key.scopes_granted, key.revoked and, most of all, key.used batches (one key.used per
// used key, as the usage recorder appends them). Every event carries the right accountseq
// and prevhash. T threads (default 4) each own a share of the accounts and append one batch per
// account at a time, so Appends are in flight concurrently and group-committed, and
// accounts interleave in the ledger as they do in production.
// --sync: fdatasync every group (as the server does); off by default because the
// data is throwaway and the generation is not what is being measured.
// DIR must be empty or absent; it is left in place (the caller removes it).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "app/audit.h"
#include "app/config.h"
#include "app/node.h"
#include "domain/decimal.h"
#include "domain/events.h"
#include "ledger/embedded_log.h"
#include "projections/audit_query.h"
#include "projections/store.h"
#include "tests/support/workload.h"

using namespace authledger;
using namespace authledger::bench;

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

void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "ledger_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

// ---- generation -------------------------------------------------------------

struct GenResult : WorkloadResult {
  std::uint64_t head = 0;  // the ledger's last event after the run
};

GenResult Generate(const Options& o) {
  auto log = EmbeddedLog::Open(o.data + "/ledger", EmbeddedLogOptions{64ull << 20, o.sync});
  if (!log.ok()) Die("open ledger", log.status());
  if ((*log)->Head() != 0) Usage("the ledger in --data is not empty");
  WorkloadOptions w;
  w.events = o.events;
  w.accounts = o.accounts;
  w.threads = o.threads;
  w.span_days = o.span_days;
  w.seed = o.seed;
  auto r = AppendWorkload(**log, w);
  if (!r.ok()) Die("append", r.status());
  GenResult g{std::move(r).value(), (*log)->Head()};
  return g;
}

// ---- measurement ------------------------------------------------------------

// Reads every file in `dir` to the end, 1 MiB at a time; returns the bytes read.
std::uint64_t ReadAll(const std::string& dir) {
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::FILE* in = std::fopen(f.path().c_str(), "rb");
    if (!in) continue;
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;) total += n;
    std::fclose(in);
  }
  return total;
}

struct Latencies {
  std::string name;
  std::vector<double> ms;
  std::uint64_t entries = 0;
  double Pct(double p) const { return Percentile(ms, p); }
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
      const auto x = ParseDecimal(v);
      if (!x) Usage(("not a number: " + v).c_str());
      return *x;
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
  if (o.accounts == 0 || o.threads == 0 || o.threads > 256)
    Usage("--accounts and --threads must be >= 1 (threads <= 256)");
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
  if (gen.head != o.events) {
    std::fprintf(stderr, "ledger_bench: ledger holds %" PRIu64 " events, expected %" PRIu64 "\n", gen.head, o.events);
    return 1;
  }
  std::uintmax_t ledger_bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(o.data + "/ledger"))
    if (f.is_regular_file()) ledger_bytes += f.file_size();
  std::fprintf(stderr,
               "ledger_bench: appended %s events in %s batches in %.1f s: %.0f events/s, %.1f MiB (%.0f B/event)\n",
               Commas(gen.events).c_str(), Commas(gen.appends).c_str(), gen.seconds, gen.events / gen.seconds,
               ledger_bytes / 1048576.0, static_cast<double>(ledger_bytes) / gen.events);

  // (a) Rebuild, after the raw read of the ledger's files it is measured against.
  auto t = SteadyClock::now();
  const std::uint64_t raw_bytes = ReadAll(o.data + "/ledger");
  const double raw_s = Seconds(SteadyClock::now() - t);
  std::fprintf(stderr, "ledger_bench: rebuilding the projections\n");
  t = SteadyClock::now();
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
      TimeMs from = gen.first_time +
                    static_cast<TimeMs>(rng() % static_cast<std::uint64_t>(std::max<TimeMs>(1, span - 30 * kDayMs)));
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
  std::printf("| reference: reading the ledger's files (%.0f MiB) | %s events/s (%.2f s) |\n", raw_bytes / 1048576.0,
              Commas(static_cast<std::uint64_t>(gen.events / raw_s)).c_str(), raw_s);
  std::printf("| (a) `Rebuild` | **%s events/s** (%.1f s; target ≥ 500,000) |\n",
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
