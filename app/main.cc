// authledger: the credential authority's executable.
//
//   authledger serve     --data DIR --listen HOST:PORT [--config FILE] [--truncate-damaged-tail]
//                        [--kafka-brokers HOST:PORT,... [--role replica --writer-url URL]]
//   (every subcommand that touches the ledger takes --kafka-brokers / --kafka-topic)
//   authledger bootstrap --data DIR --account NAME
//   authledger rebuild   --data DIR
//   authledger audit verify --data DIR | --file FILE
//   authledger audit export --data DIR --out FILE
//   authledger replay    --data DIR --until TIME|POSITION --out OUTDIR [--keys|--clients ACCOUNT_ID]
//   authledger replay    --out OUTDIR --keys|--clients ACCOUNT_ID [--valid-only]
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "app/audit.h"
#include "app/node.h"
#include "app/replay.h"
#include "domain/crypto.h"

namespace {

using namespace authledger;

struct CommonFlags {
  std::string config_file;
  std::string data_dir;
  std::string kafka_brokers;
  std::string kafka_topic;
};

void AddCommon(CLI::App* cmd, CommonFlags* f) {
  cmd->add_option("--config", f->config_file, "TOML configuration file (env AUTHLEDGER_CONFIG)")
      ->envname("AUTHLEDGER_CONFIG");
  cmd->add_option("--data", f->data_dir,
                  "data directory holding the ledger, projections and pepper (env AUTHLEDGER_DATA; default ./data)");
  cmd->add_option("--kafka-brokers", f->kafka_brokers,
                  "HOST:PORT,... of a Kafka cluster: use its topic as the ledger instead of the embedded one in "
                  "--data (env AUTHLEDGER_KAFKA_BROKERS; [kafka] brokers)");
  cmd->add_option("--kafka-topic", f->kafka_topic,
                  "the ledger's Kafka topic (env AUTHLEDGER_KAFKA_TOPIC; default authledger.events)");
}

// Config file, then environment, then flags.
Result<Config> Resolve(const CommonFlags& f) {
  auto c = LoadConfigFile(f.config_file);
  if (!c.ok()) return c;
  if (Status s = ApplyEnvironment(&*c); !s.ok()) return s;
  if (!f.data_dir.empty()) c->data_dir = f.data_dir;
  if (!f.kafka_brokers.empty()) c->kafka_brokers = f.kafka_brokers;
  if (!f.kafka_topic.empty()) c->kafka_topic = f.kafka_topic;
  if (Status s = c->Validate(); !s.ok()) return s;
  return c;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "authledger: %s\n", s.ToString().c_str());
  return s.code() == Status::Code::kInvalidArgument ? 2 : 1;
}

// The last resort behind the ledger's own deadline: once the stop has taken
// `limit`, something blocks that no deadline reaches (a librdkafka or disk call
// that does not return), and the process ends with status 1 without closing the
// rest. What was acknowledged is durable already (the ledger acknowledges only
// stored writes; projections are rebuilt from it).
class StopWatchdog {
 public:
  explicit StopWatchdog(std::chrono::milliseconds limit)
      : thread_([this, limit] {
          std::unique_lock<std::mutex> l(mu_);
          if (cv_.wait_for(l, limit, [&] { return done_; })) return;
          spdlog::error("shutdown: still not done {} ms after the signal (the last shutdown line above says where); "
                        "exiting without closing the rest (acknowledged writes are durable)",
                        limit.count());
          spdlog::default_logger()->flush();
          std::_Exit(1);
        }) {}
  ~StopWatchdog() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  StopWatchdog(const StopWatchdog&) = delete;
  StopWatchdog& operator=(const StopWatchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the rest is constructed
};
// How long after shutdown_timeout_ms the watchdog waits: the appends given up
// at the deadline unwind within a second or so (a re-synchronising read may be
// under way on the append thread: up to 1 s).
constexpr std::chrono::milliseconds kStopGrace{2000};

std::string OperatorName() {
  if (const char* u = std::getenv("SUDO_USER"); u && *u) return u;
  if (struct passwd* pw = ::getpwuid(::geteuid())) return pw->pw_name;
  return "uid-" + std::to_string(::geteuid());
}

int Serve(const CommonFlags& f, const std::string& listen, int threads, const std::string& role,
          const std::string& writer_url, bool truncate_damaged_tail) {
  auto config = Resolve(f);
  if (!config.ok()) return Fail(config.status());
  if (!listen.empty()) config->listen = listen;
  if (threads >= 0) config->threads = threads;
  if (!role.empty()) config->role = role;
  if (!writer_url.empty()) config->writer_url = writer_url;
  config->truncate_damaged_tail = truncate_damaged_tail;
  if (Status s = config->Validate(); !s.ok()) return Fail(s);
  // Block the stop signals before any thread starts, then wait for them here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto node = Node::Open(*config, SystemClock::Instance());
  if (!node.ok()) return Fail(node.status());
  if (Status s = (*node)->Serve(); !s.ok()) return Fail(s);
  spdlog::info("authledger {} serving as {} on {} (port {}), data {}, {} at {}, projections at {}", AUTHLEDGER_VERSION,
               config->role, config->listen, (*node)->port(), config->data_dir, (*node)->ledger_description(),
               (*node)->log().Heads().ToString(), (*node)->projector().applied().ToString());
  if (Checkpointer* cp = (*node)->checkpointer())
    spdlog::info("ledger checkpoints are signed with Ed25519 public key {} (GET /v1/audit/public-key)",
                 cp->public_key_hex());
  if (config->is_replica())
    spdlog::info("read replica: writes are redirected to {}",
                 config->writer_url.empty() ? "(no writer_url: answered 503)" : config->writer_url);
  else if ((*node)->log().Heads().Total() == 0)
    spdlog::warn("the ledger is empty: stop the server and run `authledger bootstrap --data {} --account NAME` "
                 "to create the first account and its admin key",
                 config->data_dir);
  int sig = 0;
  sigwait(&stop, &sig);
  const auto started = std::chrono::steady_clock::now();
  spdlog::info("signal {}: shutting down (appends not acknowledged within {} ms are given up: [server] "
               "shutdown_timeout_ms)",
               sig, config->shutdown_timeout_ms);
  {
    StopWatchdog watchdog(std::chrono::milliseconds(config->shutdown_timeout_ms) + kStopGrace);
    (*node)->Stop();
    node->reset();  // closes the ledger and the projections
  }
  spdlog::info(
      "shutdown: done in {} ms",
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return 0;
}

int BootstrapCmd(const CommonFlags& f, const std::string& account, bool allow_existing) {
  auto config = Resolve(f);
  if (!config.ok()) return Fail(config.status());
  auto r = Bootstrap(*config, SystemClock::Instance(), account, OperatorName(), allow_existing);
  if (!r.ok()) return Fail(r.status());
  std::cout << "account: " << r->account_id << "\n"
            << "key_id: " << r->key_id << "\n"
            << "key: " << r->full_key << "\n"
            << "position: " << r->position << "\n"
            << "checkpoint_public_key: " << r->checkpoint_public_key << std::endl;
  std::cerr << "\nThis admin key (scope admin:*) is shown once and never stored; keep it in a secret manager.\n"
               "Start the server with `authledger serve --data "
            << config->data_dir
            << (config->kafka_brokers.empty()
                    ? ""
                    : " --kafka-brokers " + config->kafka_brokers + " --kafka-topic " + config->kafka_topic)
            << "` and create narrower keys with POST /v1/keys.\n";
  SecureWipe(r->full_key);
  return 0;
}

int RebuildCmd(const CommonFlags& f) {
  auto config = Resolve(f);
  if (!config.ok()) return Fail(config.status());
  auto start = std::chrono::steady_clock::now();
  auto last = start;
  std::uint64_t applied = 0;
  Status s = Rebuild(*config, [&](std::uint64_t p, std::uint64_t head) {
    applied = p;
    auto now = std::chrono::steady_clock::now();
    if (now - last > std::chrono::seconds(1) || p == head) {
      double secs = std::chrono::duration<double>(now - start).count();
      std::fprintf(stderr, "\rrebuild: %llu / %llu events (%.0f events/s)", static_cast<unsigned long long>(p),
                   static_cast<unsigned long long>(head), secs > 0 ? static_cast<double>(p) / secs : 0.0);
      last = now;
    }
  });
  std::fprintf(stderr, "\n");
  if (!s.ok()) return Fail(s);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("rebuilt projections from %llu events in %.2fs\n", static_cast<unsigned long long>(applied), secs);
  return 0;
}

int AuditVerifyCmd(const CommonFlags& f, const std::string& file, const std::string& public_key_hex, bool strict,
                   std::uint32_t partitions, const std::string& since_head) {
  std::string trusted;
  if (!public_key_hex.empty() && (!FromHex(public_key_hex, &trusted) || trusted.size() != 32))
    return Fail(Status::InvalidArgument("--public-key must be 64 hex characters (GET /v1/audit/public-key)"));
  std::vector<SignedTreeHead> kept;
  if (!since_head.empty()) {
    auto heads = ReadTreeHeadFile(since_head);
    if (!heads.ok()) return Fail(heads.status());
    kept = std::move(heads).value();
  }
  const std::size_t kept_count = kept.size();
  Result<AuditVerification> r = Status::Ok();
  std::string what;
  if (!file.empty()) {
    r = VerifyExportFile(file, trusted, partitions, std::move(kept));
    what = file;
  } else {
    auto config = Resolve(f);
    if (!config.ok()) return Fail(config.status());
    r = VerifyLedger(*config, trusted, std::move(kept));
    what = config->kafka_brokers.empty() ? "the ledger in " + config->data_dir
                                         : "Kafka topic " + config->kafka_topic + " on " + config->kafka_brokers;
  }
  if (!r.ok()) return Fail(r.status());
  const ChainReport& rep = r->report;
  if (r->status.ok()) {
    std::printf("OK: verified %llu events in %llu account chains and %llu signed checkpoints of %s\n",
                static_cast<unsigned long long>(rep.events), static_cast<unsigned long long>(rep.accounts),
                static_cast<unsigned long long>(rep.checkpoints), what.c_str());
    if (!rep.signer.empty())
      std::printf("checkpoints signed by Ed25519 key %s%s\n", rep.signer.c_str(),
                  trusted.empty() ? " (not pinned: pass --public-key to require it)" : " (pinned)");
    if (rep.newest_tree_head > 0) {
      const TimeMs age = std::max<TimeMs>(0, SystemClock::Instance().Now() - rep.newest_tree_head);
      std::printf("%llu signed tree heads; the newest was signed at %s (%lld s ago)\n",
                  static_cast<unsigned long long>(rep.tree_heads), FormatRfc3339(rep.newest_tree_head).c_str(),
                  static_cast<long long>(age / 1000));
    } else {
      std::printf("no signed tree head yet (checkpoints of an older format, or none)\n");
    }
    if (kept_count > 0)
      std::printf("consistent with the %zu tree head(s) of %s: the ledger extends them (nothing truncated, "
                  "rewritten or forked)\n",
                  kept_count, since_head.c_str());
    if (rep.after_last_checkpoint > 0) {
      std::printf("%s: the last %llu events are not covered by a signed checkpoint (removing them would "
                  "go unnoticed)\n",
                  strict ? "FAILED" : "note", static_cast<unsigned long long>(rep.after_last_checkpoint));
      if (strict) return 3;
    }
    if (strict && rep.checkpoints == 0 && rep.events > 0) {
      std::printf("FAILED: no signed checkpoint\n");
      return 3;
    }
    return 0;
  }
  std::printf("FAILED after %llu intact events: %s\n", static_cast<unsigned long long>(rep.events),
              r->status.message().c_str());
  std::printf("first broken link: account %s, seq %llu, position %s\n", rep.account.empty() ? "?" : rep.account.c_str(),
              static_cast<unsigned long long>(rep.seq), PositionToString(rep.position).c_str());
  return 3;
}

int AuditExportCmd(const CommonFlags& f, const std::string& out) {
  auto config = Resolve(f);
  if (!config.ok()) return Fail(config.status());
  auto n = ExportLedger(*config, out);
  if (!n.ok()) return Fail(n.status());
  std::printf("exported %llu events to %s\n", static_cast<unsigned long long>(*n), out.c_str());
  return 0;
}

// What to print from a replay: an account's keys or OAuth clients ("" account: nothing).
struct ReplayQuery {
  std::string account;
  bool clients = false;
  bool valid_only = false;
  std::string format;
};

int ReplayCmd(const CommonFlags& f, const std::string& until_text, const std::string& out, bool force,
              const ReplayQuery& q) {
  if (until_text.empty() && q.account.empty())
    return Fail(Status::InvalidArgument(
        "nothing to do: pass --until to replay, --keys or --clients to query a replay, or both"));
  if (q.valid_only && q.account.empty())
    return Fail(Status::InvalidArgument("--valid-only filters --keys or --clients ACCOUNT_ID"));
  if (force && until_text.empty()) return Fail(Status::InvalidArgument("--force only applies to a replay (--until)"));
  if (!until_text.empty()) {
    auto until = ParseReplayUntil(until_text);
    if (!until.ok()) return Fail(until.status());
    auto config = Resolve(f);
    if (!config.ok()) return Fail(config.status());
    auto start = std::chrono::steady_clock::now();
    auto last = start;
    auto r = Replay(*config, *until, out, force, [&](std::uint64_t p, std::uint64_t target) {
      auto now = std::chrono::steady_clock::now();
      if (now - last > std::chrono::seconds(1) || p == target) {
        double secs = std::chrono::duration<double>(now - start).count();
        std::fprintf(stderr, "\rreplay: %llu events (%.0f events/s)", static_cast<unsigned long long>(p),
                     secs > 0 ? static_cast<double>(p) / secs : 0.0);
        last = now;
      }
    });
    std::fprintf(stderr, "\n");
    if (!r.ok()) return Fail(r.status());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("replayed %llu of %llu events into %s in %.2fs\n", static_cast<unsigned long long>(r->events),
                static_cast<unsigned long long>(r->ledger_head), out.c_str(), secs);
    std::printf("position: %s\n", r->cursor.c_str());
    std::printf("last_event_time: %s\n", FormatRfc3339(r->last_event_time).c_str());
    std::printf("as_of: %s\n", FormatRfc3339(r->as_of).c_str());
    if (r->stopped_before != 0)
      std::printf("stopped before position %s, the first event after --until (%s)\n",
                  PositionToString(r->stopped_before).c_str(), FormatRfc3339(r->stopped_before_time).c_str());
    std::fflush(stdout);
  }
  if (q.account.empty()) return 0;
  ReplayInfo info;
  if (q.clients) {
    auto clients = ReplayedClients(out, q.account, q.valid_only, &info);
    if (!clients.ok()) return Fail(clients.status());
    PrintReplayedClients(std::cout, info, q.account, *clients, q.valid_only, q.format);
    return 0;
  }
  auto keys = ReplayedKeys(out, q.account, q.valid_only, &info);
  if (!keys.ok()) return Fail(keys.status());
  PrintReplayedKeys(std::cout, info, q.account, *keys, q.valid_only, q.format);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything authledger creates (ledger, projections, secrets, replays, exports) holds
  // emails, addresses and keyed hashes: owner only, whatever the caller's umask.
  ::umask(077);
  spdlog::set_default_logger(spdlog::stderr_color_mt("authledger"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  CLI::App app{"authledger: the credential authority. Issues, verifies and retires API keys; every change is an "
               "immutable event in the ledger, and RocksDB read models answer the hot path."};
  app.require_subcommand(1);
  app.set_version_flag("--version", AUTHLEDGER_VERSION);

  CommonFlags serve_flags, boot_flags, rebuild_flags;
  std::string listen, account, role, writer_url;
  int threads = -1;
  bool allow_existing = false, truncate_damaged_tail = false;

  auto* serve =
      app.add_subcommand("serve", "Run the HTTP gateway on the ledger (embedded, or Kafka with --kafka-brokers)");
  AddCommon(serve, &serve_flags);
  serve->add_option("--listen", listen, "HOST:PORT to listen on (env AUTHLEDGER_LISTEN; default 127.0.0.1:8080)");
  serve->add_option("--threads", threads, "I/O threads; 0 = one per core")->check(CLI::Range(0, 256));
  serve
      ->add_option("--role", role,
                   "writer (default: reads and writes) or replica (Kafka only: consumes the topic into its own "
                   "projections, serves verify/list/audit, redirects writes)")
      ->check(CLI::IsMember({"writer", "replica"}));
  serve->add_option("--writer-url", writer_url,
                    "replica: base URL of the writer that write calls are redirected to (307), e.g. "
                    "http://10.0.0.5:8080");
  serve->add_flag("--truncate-damaged-tail", truncate_damaged_tail,
                  "cut a damaged end of the embedded ledger (records that do not verify and that no valid record "
                  "follows, not provably a write that never finished) instead of refusing to start; what is cut is "
                  "logged. See docs/ledger-format.md");
  serve->footer("Stop with SIGINT or SIGTERM. GET /healthz, /readyz and /metrics report its state.\n"
                "A replica needs the writer's pepper file (--data DIR/pepper or [security] pepper_file).");

  auto* boot = app.add_subcommand("bootstrap", "Create the first account and print its admin API key once");
  AddCommon(boot, &boot_flags);
  boot->add_option("--account", account, "name of the account to create")->required();
  boot->add_flag("--allow-existing", allow_existing, "add another account to a ledger that already has events");
  boot->footer("Run while the server is stopped (the ledger admits one process at a time).\n"
               "Prints 'key: <key>' on stdout; it is shown only this once.");

  auto* rebuild = app.add_subcommand("rebuild", "Drop every projection and rebuild it from the ledger");
  AddCommon(rebuild, &rebuild_flags);
  rebuild->footer("Run while the server is stopped. The result is byte-identical to the projections it replaces.");

  CommonFlags audit_flags;
  std::string audit_file, audit_out, audit_public_key, audit_since_head;
  bool audit_strict = false;
  std::uint32_t audit_partitions = 1;
  auto* audit =
      app.add_subcommand("audit", "Auditors' tools: verify the ledger's hash chains and checkpoints, export it");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify", "Verify every account's hash chain and every signed checkpoint in a ledger or an exported file");
  AddCommon(verify, &audit_flags);
  verify->add_option("--file", audit_file, "verify an exported JSON Lines file instead of a data directory");
  verify->add_option("--public-key", audit_public_key,
                     "hex Ed25519 public key that must have signed every checkpoint (GET /v1/audit/public-key)");
  verify
      ->add_option("--partitions", audit_partitions,
                   "with --file: partitions of the ledger it was exported from (a Kafka topic's count; default 1)")
      ->check(CLI::Range(1, 32));
  verify->add_option("--since-head", audit_since_head,
                     "a signed tree head kept from earlier (JSON from GET /v1/audit/tree-head or a witness file): "
                     "fail unless the ledger extends it (detects truncation, rewrite and fork, even re-signed)");
  verify->add_flag("--strict", audit_strict,
                   "also fail if events follow the last signed checkpoint (detects a truncated tail)");
  verify->footer("Exit status: 0 intact, 3 tampering found (the first broken link is named), 1/2 other errors.\n"
                 "With --data, run while the server is stopped (the ledger admits one process at a time).");
  auto* exp = audit->add_subcommand("export", "Write the ledger as JSON Lines, one event per line as stored");
  AddCommon(exp, &audit_flags);
  exp->add_option("--out", audit_out,
                  "file to write (one event per line as stored; with one partition line N = position N)")
      ->required();
  exp->footer("The file is self-contained: `authledger audit verify --file FILE` checks it offline.");

  CommonFlags replay_flags;
  std::string replay_until, replay_out, replay_account, replay_clients, replay_format = "table";
  bool replay_force = false, replay_valid_only = false;
  auto* replay = app.add_subcommand(
      "replay", "Rebuild every read model as it stood at a past time or ledger position into a separate directory, "
                "and query it");
  AddCommon(replay, &replay_flags);
  replay->add_option("--until", replay_until,
                     "TIME (RFC 3339, e.g. 2026-03-01T00:00:00Z: every event whose time is <= TIME) or a ledger "
                     "POSITION (every event up to it)");
  replay->add_option("--out", replay_out, "the replay directory: written by --until, read by --keys/--clients")
      ->required();
  replay->add_flag("--force", replay_force, "replace the replay in a non-empty --out directory");
  auto* keys_opt = replay->add_option("--keys", replay_account,
                                      "ACCOUNT_ID: print that account's keys as they stood at the replay point");
  replay
      ->add_option("--clients", replay_clients,
                   "ACCOUNT_ID: print that account's OAuth clients as they stood at the replay point")
      ->excludes(keys_opt);
  replay->add_flag("--valid-only", replay_valid_only,
                   "with --keys: only keys active or rotating at that time; with --clients: only clients not deleted");
  replay->add_option("--format", replay_format, "output of --keys/--clients: table or jsonl (default table)")
      ->check(CLI::IsMember({"table", "jsonl"}));
  replay->footer(
      "With --until, run while the server is stopped (the ledger admits one process at a time); the data\n"
      "directory is only read. Without --until, --keys/--clients read an existing replay. Statuses are computed at\n"
      "the replay time (TIME, or the time of the event at POSITION). See docs/replay.md.");

  CLI11_PARSE(app, argc, argv);
  if (*verify)
    return AuditVerifyCmd(audit_flags, audit_file, audit_public_key, audit_strict, audit_partitions, audit_since_head);
  if (*exp) return AuditExportCmd(audit_flags, audit_out);
  if (*serve) return Serve(serve_flags, listen, threads, role, writer_url, truncate_damaged_tail);
  if (*boot) return BootstrapCmd(boot_flags, account, allow_existing);
  if (*rebuild) return RebuildCmd(rebuild_flags);
  if (*replay)
    return ReplayCmd(replay_flags, replay_until, replay_out, replay_force,
                     ReplayQuery{replay_clients.empty() ? replay_account : replay_clients, !replay_clients.empty(),
                                 replay_valid_only, replay_format});
  return 0;
}
