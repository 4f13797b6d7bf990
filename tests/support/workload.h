// The realistic ledger workload of the benchmark programs (ledger_bench, kafka_bench) and the fill
// test, and the small statistics helpers the benchmarks report with.
//
// The workload: per account an account.created and its first (admin) key, then, over
// `span_days` of synthetic time (evenly spread over the events, ending now), a mix of
// key.created (~10 keys per account), key.scopes_granted, key.revoked and, most of all,
// key.used batches (one key.used per used key, as the usage recorder appends them). Every
// event carries the right accountseq and prevhash.
//
// AppendWorkload drives it through any EventLog: `threads` threads each own a share of the
// accounts and append one batch per account at a time, so Appends are in flight concurrently
// and accounts interleave in the ledger as they do in production.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "domain/clock.h"
#include "domain/status.h"
#include "ledger/event_log.h"
#include "ledger/position.h"

namespace authledger::bench {

using SteadyClock = std::chrono::steady_clock;

struct WorkloadOptions {
  std::uint64_t events = 200'000;  // appended in all
  std::uint64_t accounts = 1'000;
  unsigned threads = 4;  // clamped to `accounts`
  double span_days = 365;
  std::uint64_t seed = 42;
  // > 0: a generated batch is appended as Appends of at most this many events each
  // (1: one-event batches, like the HTTP writes). 0: as generated (1-4 events).
  std::size_t max_batch_events = 0;
  // Offered load in events/s over all threads (open loop: event i is due at start + i/rate,
  // a late thread does not sleep). 0: as fast as the log acknowledges.
  double rate = 0;
  // Called on the appending thread after each acknowledged Append (optional).
  std::function<void(Position last, SteadyClock::time_point acknowledged)> on_append;
};

struct WorkloadResult {
  std::uint64_t events = 0;              // acknowledged
  std::uint64_t appends = 0;             // acknowledged Append calls
  double seconds = 0;                    // first Append to last acknowledgement
  TimeMs first_time = 0, last_time = 0;  // synthetic times of the first and last event
  std::vector<std::string> accounts;     // ids, sorted
};

// Appends o.events events of o.accounts new accounts to `log`. The first failed Append stops
// every thread and is returned.
Result<WorkloadResult> AppendWorkload(EventLog& log, const WorkloadOptions& o);

// ---- reporting ----------------------------------------------------------------

double Seconds(SteadyClock::duration d);
double Millis(SteadyClock::duration d);
// 1234567 -> "1,234,567"
std::string Commas(std::uint64_t v);
// The value at rank p (0..1, rounded to the nearest rank) of `v`; 0 if empty.
double Percentile(std::vector<double> v, double p);
inline double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

}  // namespace authledger::bench
