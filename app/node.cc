#include "app/node.h"

#include <malloc.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include <spdlog/spdlog.h>

#include "app/ledger.h"
#include "app/witness.h"
#include "commands/await.h"
#include "commands/handlers.h"
#include "domain/crypto.h"

namespace authledger {

namespace fs = std::filesystem;

Result<std::string> LoadOrCreateSecret(const std::string& path, bool may_create, const std::string& why_needed) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (!may_create)
      return Status::FailedPrecondition("secret file " + path +
                                        " is missing but the ledger already has events: restore it from backup or "
                                        "copy it from the writer (" +
                                        why_needed + ")");
    // Written to a temporary file, fsync'd, renamed into place, and the directory
    // fsync'd: after a crash the pepper is either fully there or not at all.
    std::string random = RandomBytes(64);
    Digest digest = Sha256(random);
    SecureWipe(random);
    std::string hex = ToHex(digest);  // 32 bytes of CSPRNG output, hex
    SecureWipe(reinterpret_cast<char*>(digest.data()), digest.size());
    std::string tmp = path + ".tmp";
    ::unlink(tmp.c_str());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      SecureWipe(hex);
      return Status::IOError("cannot create pepper file " + tmp + ": " + std::strerror(errno));
    }
    std::string line = hex + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    SecureWipe(line);
    ::close(fd);
    ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
    std::string dir = fs::path(path).parent_path().string();
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ok = ok && dfd >= 0 && ::fsync(dfd) == 0;
    if (dfd >= 0) ::close(dfd);
    if (!ok) {
      SecureWipe(hex);
      return Status::IOError("cannot write pepper file " + path + ": " + std::strerror(errno));
    }
    return hex;
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return Status::FailedPrecondition("pepper file " + path + " is accessible by group or others; chmod 600 it");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::IOError("cannot read pepper file " + path + ": " + std::strerror(errno));
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || opened.st_ino != st.st_ino || opened.st_dev != st.st_dev) {
    ::close(fd);
    return Status::FailedPrecondition("pepper file " + path + " changed while being opened");
  }
  char buf[257];
  struct WipeBuf {  // the secret's bytes do not stay on the stack
    char* p;
    ~WipeBuf() { SecureWipe(p, sizeof buf); }
  } wipe_buf{buf};
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return Status::IOError("pepper file " + path + " is empty");
  if (n == sizeof buf) return Status::FailedPrecondition("pepper file " + path + " is longer than 256 bytes");
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) --n;
  if (n < 32) return Status::FailedPrecondition("pepper in " + path + " is shorter than 32 characters");
  return std::string(buf, static_cast<std::size_t>(n));
}

StoreOptions StoreOptionsOf(const Config& config) {
  StoreOptions o;
  o.block_cache_bytes = config.block_cache_mb << 20;
  o.write_buffer_bytes = config.write_buffer_mb << 20;
  return o;
}

Projector::Options ProjectorOptionsOf(const Config& config) {
  Projector::Options o;
  o.max_cached_accounts = config.cached_accounts;
  o.max_cached_entities = config.fill_cached_keys;
  o.fill_run_bytes = config.fill_buffer_mb << 20;
  return o;
}

Result<std::unique_ptr<Node>> Node::Open(const Config& config, const Clock& clock) {
  if (Status s = config.Validate(); !s.ok()) return s;
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) return Status::IOError("cannot create data directory " + config.data_dir + ": " + ec.message());
  std::unique_ptr<Node> n(new Node(config, clock));
  auto ledger = OpenLedger(config, config.is_replica() ? LedgerAccess::kReadOnly : LedgerAccess::kReadWrite);
  if (!ledger.ok()) return ledger.status();
  n->recovery_ = ledger->recovery;
  n->ledger_description_ = ledger->description;
  n->log_ = std::move(ledger->log);
  // A replica never creates the pepper: it must verify with the writer's.
  const bool fresh_ledger = n->log_->Heads().Total() == 0;
  auto loaded = LoadOrCreateSecret(config.PepperPath(), !config.is_replica() && fresh_ledger,
                                   "without the pepper no existing key can be verified");
  if (!loaded.ok()) return loaded.status();
  const SecretString pepper(std::move(loaded).value());  // wiped when Open returns; the holders wipe theirs
  // A damaged tail cut on the operator's word (--truncate-damaged-tail) may have held
  // events the projections applied: they are filled again from the ledger.
  if (n->recovery_.damaged && n->recovery_.cut) {
    if (Status s = ProjectionStore::Destroy(config.ProjectionsDir()); !s.ok()) return s;
  }
  auto store = ProjectionStore::Open(config.ProjectionsDir(), StoreOptionsOf(config));
  if (!store.ok()) return store.status();
  n->store_ = std::move(store).value();
  n->projector_ = std::make_unique<Projector>(*n->log_, *n->store_, ProjectorOptionsOf(config));
  if (Status s = n->projector_->Init(); !s.ok()) return s;
  if (Status s = n->projector_->CatchUp(); !s.ok()) return s;
  // A fill (a first start, or projections of another format) freed its sort
  // buffers and caches just now: give those pages back to the system, or they
  // would count against the process for as long as it serves (glibc keeps them).
  malloc_trim(0);
  n->queries_ = std::make_unique<Queries>(*n->store_);
  n->verifier_ = std::make_unique<Verifier>(*n->store_, clock, std::string(pepper.view()), config.brand);
  CommandConfig cc;
  cc.pepper = pepper;
  cc.brand = config.brand;
  auto catalogue = ScopeCatalogue::FromList(config.scope_catalogue);
  if (!catalogue.ok()) return catalogue.status();
  cc.policy.catalogue = std::move(catalogue).value();
  cc.policy.default_grace = config.rotation_grace;
  cc.policy.max_live_keys = config.max_live_keys;
  cc.policy.max_clients = config.max_oauth_clients;
  cc.max_cached_accounts = config.cached_accounts;
  n->commands_ = std::make_unique<CommandContext>(*n->log_, *n->projector_, *n->queries_, clock, std::move(cc));
  n->usage_ = std::make_unique<UsageRecorder>(*n->commands_, config.usage_resolution);
  if (config.is_replica()) n->usage_->Disable();  // a replica appends nothing
  // A replica signs nothing; it serves the checkpoint public key only if given the key file.
  std::error_code exists_ec;
  if (!config.signing_key_credential.empty() && config.SigningKeyPath().empty())
    return Status::FailedPrecondition("audit.signing_key_credential is set but $CREDENTIALS_DIRECTORY is not: start "
                                      "the service with LoadCredential=" +
                                      config.signing_key_credential + ":/path/to/key (systemd)");
  if (!config.witness_dir.empty() && !fs::is_directory(config.witness_dir, exists_ec))
    return Status::FailedPrecondition("audit.witness_dir " + config.witness_dir + " is not a directory");
  if (!config.is_replica() || fs::exists(config.SigningKeyPath(), exists_ec)) {
    // Created only with a fresh ledger: a new key would make the next checkpoint look forged.
    auto signing = LoadOrCreateSecret(config.SigningKeyPath(), fresh_ledger,
                                      "checkpoints signed with another key would fail `audit verify`");
    if (!signing.ok()) return signing.status();
    std::string signing_raw;
    const bool is_hex = FromHex(*signing, &signing_raw);
    SecureWipe(*signing);
    if (!is_hex || Ed25519PublicKey(signing_raw).empty()) {
      SecureWipe(signing_raw);
      return Status::FailedPrecondition("signing key file " + config.SigningKeyPath() +
                                        " does not hold a 32-byte hex key");
    }
    Checkpointer::OnSigned witness;
    if (!config.witness_dir.empty())
      witness = [dir = config.witness_dir](const SignedTreeHead& head) {
        if (Status s = WitnessTreeHead(dir, head); !s.ok())
          spdlog::warn("could not witness the tree head of partition {} (tree_size {}): {}", head.partition,
                       head.tree_size, s.ToString());
      };
    n->checkpointer_ =
        std::make_unique<Checkpointer>(*n->commands_, *n->projector_, std::move(signing_raw), std::move(witness));
  }
  const std::size_t entries = config.rate_limit_entries;
  n->failed_auth_ = std::make_unique<RateLimiter>(clock, config.failed_auth_per_minute, kMinuteMs, entries);
  n->key_reads_ = std::make_unique<RateLimiter>(clock, config.key_reads_per_minute, kMinuteMs, entries);
  n->key_writes_ = std::make_unique<RateLimiter>(clock, config.key_writes_per_minute, kMinuteMs, entries);
  n->auth_ = std::make_unique<Authenticator>(*n->verifier_, *n->failed_auth_, *n->key_reads_, *n->key_writes_,
                                             *n->usage_, clock);
  return n;
}

Status Node::Serve() {
  projector_->Start();
  // Event streams read Kafka through readers of their own, so many streams at
  // old cursors never make the projector wait for a reader.
  EventLog* stream_log = log_.get();
  if (!config_.kafka_brokers.empty()) {
    auto streams = OpenLedger(config_, LedgerAccess::kReadOnly);
    if (!streams.ok()) return streams.status();
    stream_log_ = std::move(streams->log);
    stream_log = stream_log_.get();
  }
  if (!config_.is_replica()) {  // a replica appends nothing: no usage events, no checkpoints
    usage_->Start(std::chrono::milliseconds(config_.usage_flush_interval));
    checkpointer_->Start(std::chrono::milliseconds(config_.checkpoint_interval));
  }
  // The server caps streams in all; an account, at its own share of them.
  event_streams_ = std::make_unique<ConcurrencyQuota>(std::numeric_limits<std::size_t>::max(),
                                                      config_.max_event_streams_per_account);
  min_position_waits_ =
      std::make_unique<ConcurrencyQuota>(config_.max_min_position_waits, config_.max_min_position_waits_per_client);
  deps_ = std::unique_ptr<ApiDeps>(
      new ApiDeps{*commands_, *queries_, *verifier_, *auth_, *usage_, *projector_, clock_, AUTHLEDGER_VERSION,
                  config_.audit_retention, checkpointer_ ? checkpointer_->public_key_hex() : "", config_.is_replica(),
                  config_.writer_url, *stream_log, std::chrono::milliseconds(config_.event_stream_keepalive),
                  *event_streams_, *min_position_waits_});
  router_ = std::make_unique<Router>();
  AddVerifyApi(*router_, *deps_);
  AddKeysApi(*router_, *deps_);
  AddClientsApi(*router_, *deps_);
  AddAuditApi(*router_, *deps_);
  AddHealthApi(*router_, *deps_);
  AddEventsApi(*router_, *deps_);
  ServerOptions so;
  if (Status s = SplitHostPort(config_.listen, &so.address, &so.port); !s.ok()) return s;
  so.io_threads = config_.threads;
  so.max_body_bytes = config_.max_body_bytes;
  so.request_timeout_ms = config_.request_timeout_ms;
  so.max_streams = config_.max_event_streams;
  so.max_connections = config_.max_connections;
  so.max_connections_per_client = config_.max_connections_per_client;
  std::vector<Cidr> proxies;
  for (const std::string& block : config_.trusted_proxies) proxies.push_back(*ParseCidr(block));  // Validate()d
  so.trusted_proxies = TrustedProxies(std::move(proxies));
  server_ = std::make_unique<HttpServer>(so, *router_);
  if (Status s = server_->Start(); !s.ok()) return s;
  serving_ = true;  // only now does Stop() sign a final checkpoint
  return Status::Ok();
}

void Node::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // Bounded: appends the ledger has not acknowledged by the deadline are given up
  // (it logs which), so every step below that waits for one ends by then.
  const auto started = std::chrono::steady_clock::now();
  if (log_) log_->GiveUpAt(started + std::chrono::milliseconds(config_.shutdown_timeout_ms));
  const auto ms_since = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  };
  if (server_) {
    server_->Stop();
    spdlog::info("shutdown: HTTP server stopped ({} ms)", ms_since());
  }
  if (usage_ && !config_.is_replica()) {
    usage_->Stop();
    usage_->Flush();
  }
  if (checkpointer_ && !config_.is_replica()) {
    checkpointer_->Stop();
    if (serving_)  // sign everything up to the end
      if (auto cp = checkpointer_->Checkpoint(); !cp.ok())
        spdlog::warn("shutdown: no final checkpoint: {}", cp.status().ToString());
  }
  if (projector_) projector_->Stop();
  if (serving_) spdlog::info("shutdown: usage flushed, projector stopped ({} ms); closing the ledger", ms_since());
}
Node::~Node() { Stop(); }

Result<BootstrapResult> Bootstrap(const Config& config, const Clock& clock, const std::string& account_name,
                                  const std::string& operator_name, bool allow_existing) {
  auto node = Node::Open(config, clock);
  if (!node.ok()) return node.status();
  Node& n = **node;
  if (config.is_replica()) return Status::InvalidArgument("bootstrap writes to the ledger: run it with role = writer");
  if (n.log().Heads().Total() != 0 && !allow_existing)
    return Status::AlreadyExists(
        "the ledger in " + config.data_dir +
        " already has events; bootstrap runs once (use --allow-existing to add another account)");
  n.projector().Start();
  Actor actor = Actor::Cli(operator_name, "authledger bootstrap");
  auto account = Await<CreatedAccount>([&](auto done) { CreateAccount(n.commands(), account_name, actor, done); });
  if (!account.ok()) return account.status();
  CreateKeyInput input;
  input.name = "bootstrap-admin";
  input.scopes = {std::string(kAdminWildcard)};
  auto key =
      Await<IssuedKey>([&](auto done) { CreateKey(n.commands(), account->account_id, input, Caller{}, actor, done); });
  if (!key.ok()) return key.status();
  return BootstrapResult{account->account_id, key->key.id, std::move(key->full_key), key->position,
                         n.checkpointer()->public_key_hex()};
}

Status Rebuild(const Config& config, const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  auto ledger = OpenLedger(config, LedgerAccess::kReadOnly);
  if (!ledger.ok()) return ledger.status();
  if (Status s = ProjectionStore::Destroy(config.ProjectionsDir()); !s.ok()) return s;
  auto store = ProjectionStore::Open(config.ProjectionsDir(), StoreOptionsOf(config));
  if (!store.ok()) return store.status();
  Projector projector(*ledger->log, **store, ProjectorOptionsOf(config));
  if (Status s = projector.Init(); !s.ok()) return s;
  const std::uint64_t total = ledger->log->Heads().Total();
  return projector.CatchUp([&](const Cursor& applied) {
    if (progress) progress(applied.Total(), total);
  });
}

}  // namespace authledger
