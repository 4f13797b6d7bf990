// Node: one authledger process's parts, wired. Opening a node opens the ledger
// (embedded, or Kafka — read-only on a replica), the projections and catches the
// projector up; Serve() then starts
// the projector thread, the usage recorder and the HTTP gateway. Tests build a
// Node with a ManualClock and port 0 to drive the real server over loopback.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "app/config.h"
#include "app/ledger.h"
#include "commands/checkpointer.h"
#include "commands/command_context.h"
#include "commands/usage_recorder.h"
#include "gateway/api.h"
#include "gateway/http_server.h"
#include "gateway/rate_limiter.h"
#include "ledger/event_log.h"
#include "projections/projector.h"
#include "projections/queries.h"
#include "projections/store.h"
#include "projections/verifier.h"

namespace authledger {

class Node {
 public:
  static Result<std::unique_ptr<Node>> Open(const Config& config, const Clock& clock);
  ~Node();

  // Starts background work and the HTTP server on config.listen (port 0 = any).
  Status Serve();
  // Stops the server, flushes usage, signs a final checkpoint, stops the projector;
  // logs each step. Idempotent. Bounded by config.shutdown_timeout_ms: the ledger
  // gives up then on appends it has not acknowledged (EventLog::GiveUpAt), so no
  // step waits longer for one.
  void Stop();
  std::uint16_t port() const { return server_ ? server_->port() : 0; }

  EventLog& log() { return *log_; }
  ProjectionStore& store() { return *store_; }
  Projector& projector() { return *projector_; }
  Queries& queries() { return *queries_; }
  CommandContext& commands() { return *commands_; }
  UsageRecorder& usage() { return *usage_; }
  // Null on a read replica without the signing key file.
  Checkpointer* checkpointer() { return checkpointer_.get(); }
  const Config& config() const { return config_; }
  // What opening the embedded ledger had to repair (a torn tail after a crash).
  const RecoveryReport& recovery() const { return recovery_; }
  // "embedded ledger in DIR" / "Kafka topic T on BROKERS (N partitions)".
  const std::string& ledger_description() const { return ledger_description_; }

 private:
  Node(Config config, const Clock& clock) : config_(std::move(config)), clock_(clock) {}

  Config config_;
  const Clock& clock_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<ProjectionStore> store_;
  std::unique_ptr<Projector> projector_;
  std::unique_ptr<Queries> queries_;
  std::unique_ptr<Verifier> verifier_;
  std::unique_ptr<CommandContext> commands_;
  std::unique_ptr<UsageRecorder> usage_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<RateLimiter> failed_auth_;
  std::unique_ptr<RateLimiter> key_reads_;
  std::unique_ptr<RateLimiter> key_writes_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<EventLog> stream_log_;  // Kafka: GET /v1/events reads through this one
  std::unique_ptr<ConcurrencyQuota> event_streams_;
  std::unique_ptr<ConcurrencyQuota> min_position_waits_;
  std::unique_ptr<ApiDeps> deps_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> server_;
  RecoveryReport recovery_;
  std::string ledger_description_;
  bool serving_ = false;
  bool stopped_ = false;
};

// The memory bounds of Config's [memory] section, for the store and the projector.
StoreOptions StoreOptionsOf(const Config& config);
Projector::Options ProjectorOptionsOf(const Config& config);

// Reads a server secret (the pepper, the checkpoint signing key) from `path`,
// creating it (32 CSPRNG bytes as hex, mode 0600, atomically) when it does not
// exist and `may_create`; otherwise FailedPrecondition says `why_needed`.
// Refuses a file readable by group/others.
Result<std::string> LoadOrCreateSecret(const std::string& path, bool may_create, const std::string& why_needed);

struct BootstrapResult {
  std::string account_id;
  std::string key_id;
  std::string full_key;  // print once, then forget
  Position position = 0;
  std::string checkpoint_public_key;  // hex Ed25519 key that signs checkpoints (for auditors)
};
// Creates an account and its first admin key (scope admin:*). Refuses when the
// ledger already holds events, unless `allow_existing`.
Result<BootstrapResult> Bootstrap(const Config& config, const Clock& clock, const std::string& account_name,
                                  const std::string& operator_name, bool allow_existing);

// Deletes every projection and rebuilds it from the ledger. `progress` gets
// (events applied, events in the ledger) after each batch.
Status Rebuild(const Config& config, const std::function<void(std::uint64_t, std::uint64_t)>& progress);

}  // namespace authledger
