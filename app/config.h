// Configuration of the authledger executable. Sources, highest precedence first:
// command-line flags, environment (AUTHLEDGER_*), the TOML file (--config or
// AUTHLEDGER_CONFIG), built-in defaults. ops/authledger.example.toml documents
// every key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/clock.h"
#include "domain/status.h"

namespace authledger {

struct Config {
  // [server]
  std::string listen = "127.0.0.1:8080";
  int threads = 0;
  std::size_t max_body_bytes = 64 * 1024;
  int request_timeout_ms = 10000;
  // GET /v1/events: streams open at once on this node (beyond: 503; 0: the
  // stream is off), and the idle time after which a stream sends a keep-alive.
  std::size_t max_event_streams = 64;
  TimeMs event_stream_keepalive = 15 * kSecondMs;
  std::size_t max_event_streams_per_account = 8;  // beyond: 429 for that account
  // Connections open at once in all (checked at start against the open-file
  // limit) and from one client address (an IPv6 client by its /64; trusted
  // proxies are exempt). Beyond either cap a new connection is closed at once.
  std::size_t max_connections = 0;  // 0: as many as the open-file limit holds, at most 10,000
  std::size_t max_connections_per_client = 256;
  // X-Min-Position waits (each holds a command thread) at once, in all and per
  // client address; beyond: 503 / 429 too-many-waits.
  std::size_t max_min_position_waits = 2;
  std::size_t max_min_position_waits_per_client = 1;
  // "writer" (the default: serves reads and writes) or "replica" (consumes the
  // Kafka ledger into its own projections and serves reads; writes are
  // redirected to writer_url).
  std::string role = "writer";
  std::string writer_url;  // replica: base URL of the writer, e.g. "http://10.0.0.5:8080"
  // How long stopping (SIGTERM) may take: in-flight requests, the last usage flush and
  // checkpoint, the ledger's outstanding writes. Past it, what is still unresolved is
  // logged and given up (never anything acknowledged: decisions.md 49).
  int shutdown_timeout_ms = 5000;
  // [http]
  // CIDR blocks of the reverse proxies whose Forwarded / X-Forwarded-For headers
  // name the client (gateway/client_address.h); from any other peer they are ignored.
  std::vector<std::string> trusted_proxies;
  // [ledger]
  std::string data_dir = "./data";
  // Command line only (`serve --truncate-damaged-tail`): cut a damaged tail of the embedded
  // ledger when it opens for writing, instead of refusing (docs/ledger-format.md).
  bool truncate_damaged_tail = false;
  // [kafka] — brokers empty: the embedded ledger in <data_dir>/ledger.
  std::string kafka_brokers;  // "host:port,..."
  std::string kafka_topic = "authledger.events";
  std::uint32_t kafka_partitions = 0;             // 0: the topic's count; else it must match
  TimeMs kafka_delivery_timeout = 5 * kSecondMs;  // a write fails (503) if Kafka has not acknowledged it by then
  std::vector<std::pair<std::string, std::string>> kafka_properties;  // [kafka.properties]: librdkafka settings
  // [keys]
  std::string brand = "al";
  TimeMs rotation_grace = 72 * kHourMs;
  std::size_t max_live_keys = 25;
  // [oauth]
  std::size_t max_oauth_clients = 25;  // active (not deleted) OAuth clients per account
  // [security]
  std::string pepper_file;  // "" = <data_dir>/pepper
  std::uint32_t failed_auth_per_minute = 20;
  // [limits] per key and minute, for authenticated REST calls (the Team plan of the seeds)
  std::uint32_t key_reads_per_minute = 600;
  std::uint32_t key_writes_per_minute = 120;
  // Sources or keys each rate limiter remembers; beyond, the least recently seen are forgotten.
  std::size_t rate_limit_entries = 1 << 20;
  // [scopes]
  std::vector<std::string> scope_catalogue = {"monitors:read", "monitors:write", "alerts:read", "alerts:write",
                                              "metrics:read",  "incidents:read", "teams:admin", "billing:read",
                                              "keys:admin",    "clients:admin",  "events:read", "ops:read",
                                              "admin:*"};
  // [audit]
  std::string signing_key_file;  // "" = <data_dir>/checkpoint.key
  // A systemd credential (LoadCredential=NAME:/path) holding the signing key:
  // read from $CREDENTIALS_DIRECTORY/NAME; excludes signing_key_file.
  std::string signing_key_credential;
  // Every signed tree head is also written here (tree-heads.jsonl, one per line,
  // and tree-head-<partition>.json, the newest): a witness outside data_dir.
  std::string witness_dir;
  TimeMs checkpoint_interval = 1 * kHourMs;
  TimeMs audit_retention = 365 * kDayMs;  // how far back GET /v1/audit-log reaches (the ledger keeps all)
  // [usage]
  TimeMs usage_resolution = 15 * kMinuteMs;
  TimeMs usage_flush_interval = 1 * kSecondMs;
  // [memory] — what the process holds does not grow with the keys it serves;
  // these bound it (docs/operations.md's memory budget).
  std::size_t block_cache_mb = 64;       // RocksDB block cache, shared by every read model
  std::size_t write_buffer_mb = 64;      // RocksDB memtables, all read models together
  std::size_t cached_accounts = 100000;  // account headers the projector and the write path each keep
  std::size_t fill_cached_keys = 20000;  // keys and clients a fill holds before writing them
  std::size_t fill_buffer_mb = 16;       // a fill sorts audit rows in two buffers of this size

  std::string PepperPath() const { return pepper_file.empty() ? data_dir + "/pepper" : pepper_file; }
  // The signing key file: the credential's, signing_key_file, or <data_dir>/checkpoint.key.
  // "" if a credential is configured but $CREDENTIALS_DIRECTORY is not set.
  std::string SigningKeyPath() const;
  std::string LedgerDir() const { return data_dir + "/ledger"; }
  std::string ProjectionsDir() const { return data_dir + "/projections"; }
  bool is_replica() const { return role == "replica"; }
  // Checks ranges and formats; InvalidArgument names the offending setting, its
  // value and the allowed range.
  Status Validate() const;
};

// Reads `path` (TOML) over the defaults; an empty path reads nothing. Every error
// names the setting: "config: keys.max_live_keys = 1000000 is out of range: it must
// be 1..100000", "config: server.listen must be a string, not an integer",
// "config: unknown setting server.lisen".
Result<Config> LoadConfigFile(const std::string& path);
// Applies AUTHLEDGER_DATA, AUTHLEDGER_LISTEN, AUTHLEDGER_BRAND, AUTHLEDGER_PEPPER_FILE,
// AUTHLEDGER_SIGNING_KEY_FILE, AUTHLEDGER_THREADS, AUTHLEDGER_KAFKA_BROKERS,
// AUTHLEDGER_KAFKA_TOPIC, AUTHLEDGER_ROLE, AUTHLEDGER_WRITER_URL from the environment.
Status ApplyEnvironment(Config* config);
// "30s", "15m", "72h", "14d", "250ms" -> milliseconds: decimal digits and a unit, at most 100 years.
Result<TimeMs> ParseDuration(const std::string& text);
// Milliseconds in ParseDuration's largest exact unit: 90000 -> "90s", 250 -> "250ms".
std::string FormatDuration(TimeMs ms);
// "127.0.0.1:8080" / "[::1]:8080" -> host, port.
Status SplitHostPort(const std::string& listen, std::string* host, std::uint16_t* port);

}  // namespace authledger
