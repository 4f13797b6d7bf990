#include "tests/support/workload.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

#include "domain/envelope.h"
#include "domain/events.h"
#include "domain/ids.h"

namespace authledger::bench {

namespace {

constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const std::vector<std::string> kScopes = {"alerts:read",  "alerts:write",  "billing:read",   "incidents:read",
                                          "metrics:read", "monitors:read", "monitors:write", "teams:admin"};

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
  std::string Ip() { return "203.0." + std::to_string(rng_() % 256) + "." + std::to_string(1 + rng_() % 254); }
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
      *actor = Actor::Cli("operator", "authledger bootstrap");
      out->push_back(AccountCreated{"customer " + a.id.substr(5, 6)});
      out->push_back(NewKey(a, {"admin:*"}, "admin"));
      a.admin_key = a.keys.back().id;
      for (int i = 0; i < 4; ++i) a.ips.push_back(Ip());
      return;
    }
    double r = Uniform();
    const std::string ip = a.ips[Below(a.ips.size())];
    if (a.live < 2 || (r < p_create_ && a.live < 25)) {
      *actor = Actor::Key(a.admin_key, ip, "POST /v1/keys");
      out->push_back(NewKey(a, SomeScopes(3), "key " + std::to_string(a.keys.size())));
      return;
    }
    r -= p_create_;
    if (r < p_revoke_ && a.live > 2) {
      Key& k = LiveKey(a, /*not_admin=*/true);
      k.live = false;
      --a.live;
      *actor = Actor::Key(a.admin_key, ip, "POST /v1/keys/" + k.id + "/revoke");
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
        *actor = Actor::Key(a.admin_key, ip, "POST /v1/keys/" + k.id + "/scopes");
        out->push_back(KeyScopesGranted{k.id, std::move(add)});
        return;
      }
    }
    // Usage: one key.used per key used since the last flush, as the usage recorder does.
    *actor = Actor::System("usage-recorder");
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

// What the threads of one AppendWorkload run share.
struct Run {
  Run(EventLog& l, const WorkloadOptions& opts) : log(l), o(opts) {
    const TimeMs span = static_cast<TimeMs>(o.span_days * kDayMs);
    const TimeMs now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    t0 = now - span;
    step = static_cast<double>(span) / static_cast<double>(o.events);
  }

  // The synthetic time of the i-th event of the workload.
  TimeMs TimeOf(std::uint64_t i) const { return t0 + static_cast<TimeMs>(static_cast<double>(i) * step); }

  // Open loop: waits until the i-th event is due (no wait when unpaced or late).
  void Pace(std::uint64_t i) const {
    if (o.rate <= 0) return;
    std::this_thread::sleep_until(start + std::chrono::duration_cast<SteadyClock::duration>(
                                              std::chrono::duration<double>(static_cast<double>(i) / o.rate)));
  }

  void Fail(const Status& s) {
    std::lock_guard lock(err_mu);
    if (first_error.ok()) first_error = s;
    reserved.store(o.events);  // the other threads stop at their next batch
  }

  EventLog& log;
  const WorkloadOptions& o;
  TimeMs t0 = 0;
  double step = 0;  // synthetic ms per event
  SteadyClock::time_point start;
  std::atomic<std::uint64_t> reserved{0};  // events handed out to threads
  std::atomic<std::uint64_t> events{0}, appends{0};
  std::mutex err_mu;
  Status first_error;
};

// The envelopes of `data`, account a's next events: numbered from a.seq+1, chained from
// a.head, stamped with the synthetic times of workload events first, first+1, ...
std::vector<AppendEvent> Encode(const Run& run, Generator& gen, const Account& a, std::vector<EventData>& data,
                                const Actor& actor, std::uint64_t first) {
  std::vector<AppendEvent> out;
  out.reserve(data.size());
  std::string head = a.head;
  for (std::size_t i = 0; i < data.size(); ++i) {
    Event e;
    e.time = run.TimeOf(first + i);
    e.id = NewUuidV7(e.time);
    e.account_id = a.id;
    e.seq = a.seq + 1 + i;
    e.prev_hash = head;
    e.actor = actor;
    if (auto* u = std::get_if<KeyUsed>(&data[i])) u->last_used_at = e.time - static_cast<TimeMs>(gen.Below(60'000));
    e.data = std::move(data[i]);
    out.push_back(AppendEventOf(e));
    head = EventHash(out.back().bytes);
  }
  return out;
}

// Appends `envelopes` (a's next events) in Appends of at most o.max_batch_events each,
// advancing a's sequence and head after each acknowledgement. False once one failed.
bool AppendChunks(Run& run, Account& a, std::vector<AppendEvent>& envelopes) {
  const std::size_t chunk = run.o.max_batch_events ? run.o.max_batch_events : envelopes.size();
  for (std::size_t i = 0; i < envelopes.size(); i += chunk) {
    const std::size_t n = std::min(chunk, envelopes.size() - i);
    AppendBatch batch;
    batch.account_id = a.id;
    batch.expected_seq = a.seq;
    batch.events.assign(std::make_move_iterator(envelopes.begin() + i),
                        std::make_move_iterator(envelopes.begin() + i + n));
    std::string head = EventHash(batch.events.back().bytes);
    auto pos = run.log.Append(std::move(batch));
    const auto acknowledged = SteadyClock::now();
    if (!pos.ok()) {
      run.Fail(pos.status());
      return false;
    }
    a.seq += n;
    a.head = std::move(head);
    run.events.fetch_add(n, std::memory_order_relaxed);
    run.appends.fetch_add(1, std::memory_order_relaxed);
    if (run.o.on_append) run.o.on_append(*pos, acknowledged);
  }
  return true;
}

void AppendThread(Run& run, unsigned t, std::vector<Account>& mine) {
  Generator gen(run.o.seed * 1000003 + t, run.o.events / run.o.accounts);
  std::vector<EventData> data;
  Actor actor;
  std::size_t created = 0;
  for (;;) {
    // New accounts first (all customers exist from the start), then random ones.
    Account& a = created < mine.size() ? mine[created++] : mine[gen.Below(mine.size())];
    gen.NextBatch(a, &data, &actor);
    const std::uint64_t first = run.reserved.fetch_add(data.size());
    if (first >= run.o.events) return;
    if (data.size() > run.o.events - first)
      data.erase(data.begin() + static_cast<std::ptrdiff_t>(run.o.events - first), data.end());
    run.Pace(first);
    std::vector<AppendEvent> envelopes = Encode(run, gen, a, data, actor, first);
    if (!AppendChunks(run, a, envelopes)) return;
  }
}

}  // namespace

Result<WorkloadResult> AppendWorkload(EventLog& log, const WorkloadOptions& o) {
  if (o.accounts == 0 || o.threads == 0 || o.events == 0)
    return Status::InvalidArgument("workload: events, accounts and threads must be >= 1");
  Run run(log, o);
  const unsigned threads = static_cast<unsigned>(std::min<std::uint64_t>(o.threads, o.accounts));
  std::vector<std::vector<Account>> owned(threads);
  for (std::uint64_t i = 0; i < o.accounts; ++i) {
    Account a;
    a.id = NewAccountId();
    owned[i % threads].push_back(std::move(a));
  }

  run.start = SteadyClock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(AppendThread, std::ref(run), t, std::ref(owned[t]));
  for (auto& th : pool) th.join();
  if (!run.first_error.ok()) return run.first_error;

  WorkloadResult r;
  r.seconds = Seconds(SteadyClock::now() - run.start);
  r.events = run.events.load();
  r.appends = run.appends.load();
  r.first_time = run.TimeOf(0);
  r.last_time = run.TimeOf(o.events - 1);
  for (auto& v : owned)
    for (auto& a : v) r.accounts.push_back(a.id);
  std::sort(r.accounts.begin(), r.accounts.end());
  return r;
}

// ---- reporting ----------------------------------------------------------------

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }
double Millis(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string Commas(std::uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace authledger::bench
