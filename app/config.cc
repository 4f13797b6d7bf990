#include "app/config.h"

#include <cstdlib>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include <toml++/toml.h>

#include "domain/api_key.h"
#include "domain/cidr.h"
#include "domain/decimal.h"
#include "domain/scopes.h"

namespace authledger {

namespace {

// An integer setting and the range it must lie in: checked where the TOML file
// is read (LoadConfigFile) and again by Config::Validate, which sees values from
// every source. Its errors name the setting and the range.
struct IntSetting {
  const char* section;
  const char* key;
  std::int64_t min;
  std::int64_t max;
};
constexpr IntSetting kThreads{"server", "threads", 0, 256};
constexpr IntSetting kMaxBodyBytes{"server", "max_body_bytes", 1024, 16 * 1024 * 1024};
constexpr IntSetting kRequestTimeoutMs{"server", "request_timeout_ms", 100, 3'600'000};
constexpr IntSetting kMaxEventStreams{"server", "max_event_streams", 0, 10'000};
constexpr IntSetting kMaxEventStreamsPerAccount{"server", "max_event_streams_per_account", 1, 10'000};
constexpr IntSetting kMaxConnections{"server", "max_connections", 0, 1'000'000};  // 0: as many as fit
constexpr IntSetting kMaxConnectionsPerClient{"server", "max_connections_per_client", 1, 1'000'000};
constexpr IntSetting kMaxMinPositionWaits{"server", "max_min_position_waits", 1, 1024};
constexpr IntSetting kMaxMinPositionWaitsPerClient{"server", "max_min_position_waits_per_client", 1, 1024};
constexpr IntSetting kRateLimitEntries{"limits", "rate_limit_entries", 1600, 100'000'000};
constexpr IntSetting kMaxLiveKeys{"keys", "max_live_keys", 1, 100'000};
constexpr IntSetting kMaxOauthClients{"oauth", "max_clients", 1, 100'000};
constexpr IntSetting kFailedAuthPerMinute{"security", "failed_auth_per_minute", 1, 1'000'000};
constexpr IntSetting kKeyReadsPerMinute{"limits", "key_reads_per_minute", 1, 1'000'000};
constexpr IntSetting kKeyWritesPerMinute{"limits", "key_writes_per_minute", 1, 1'000'000};
constexpr IntSetting kKafkaPartitions{"kafka", "partitions", 0, 32};
constexpr IntSetting kBlockCacheMb{"memory", "block_cache_mb", 8, 1'000'000};
constexpr IntSetting kWriteBufferMb{"memory", "write_buffer_mb", 8, 1'000'000};
constexpr IntSetting kCachedAccounts{"memory", "cached_accounts", 100, 100'000'000};
constexpr IntSetting kFillCachedKeys{"memory", "fill_cached_keys", 1000, 100'000'000};
constexpr IntSetting kFillBufferMb{"memory", "fill_buffer_mb", 4, 4096};

constexpr IntSetting kShutdownTimeoutMs{"server", "shutdown_timeout_ms", 100, 600'000};

constexpr TimeMs kMaxDuration = 100LL * 365 * kDayMs;  // what ParseDuration accepts

// A duration setting ("30s", "72h") and its range, checked like an IntSetting.
struct DurationSetting {
  const char* section;
  const char* key;
  TimeMs min;
  TimeMs max;
};
constexpr DurationSetting kEventStreamKeepalive{"server", "event_stream_keepalive", 10, 300 * kSecondMs};
constexpr DurationSetting kKafkaDeliveryTimeout{"kafka", "delivery_timeout", 100, 300 * kSecondMs};
constexpr DurationSetting kRotationGrace{"keys", "rotation_grace", 0, 30 * kDayMs};
constexpr DurationSetting kUsageResolution{"usage", "resolution", kSecondMs, kMaxDuration};
constexpr DurationSetting kAuditRetention{"audit", "retention", kDayMs, kMaxDuration};
constexpr DurationSetting kCheckpointInterval{"audit", "checkpoint_interval", kSecondMs, kMaxDuration};

template <typename Setting>
std::string SettingName(const Setting& s) {
  return std::string(s.section) + "." + s.key;
}

// InvalidArgument "<section>.<key> = <value> is out of range: it must be <min>..<max>".
template <typename T>
Status CheckRange(const IntSetting& s, T value) {
  if (!std::cmp_less(value, s.min) && !std::cmp_greater(value, s.max)) return Status::Ok();
  return Status::InvalidArgument(SettingName(s) + " = " + std::to_string(value) + " is out of range: it must be " +
                                 std::to_string(s.min) + ".." + std::to_string(s.max));
}

// InvalidArgument "<section>.<key> = <value> is out of range: it must be <min>..<max>", in ParseDuration's units.
Status CheckRange(const DurationSetting& s, TimeMs value) {
  if (value >= s.min && value <= s.max) return Status::Ok();
  return Status::InvalidArgument(SettingName(s) + " = " + FormatDuration(value) + " is out of range: it must be " +
                                 FormatDuration(s.min) + ".." + FormatDuration(s.max));
}

}  // namespace

std::string FormatDuration(TimeMs ms) {
  if (ms < 0) return "-" + FormatDuration(-ms);
  struct Unit {
    TimeMs scale;
    const char* name;
  };
  for (const Unit u : {Unit{kDayMs, "d"}, Unit{kHourMs, "h"}, Unit{kMinuteMs, "m"}, Unit{kSecondMs, "s"}})
    if (ms != 0 && ms % u.scale == 0) return std::to_string(ms / u.scale) + u.name;
  return std::to_string(ms) + "ms";
}

Result<TimeMs> ParseDuration(const std::string& text) {
  const std::size_t digits = std::min(text.find_first_not_of("0123456789"), text.size());
  if (digits == 0) return Status::InvalidArgument("duration '" + text + "' must start with a number, e.g. 72h");
  const std::string unit = text.substr(digits);
  TimeMs scale = unit == "ms"  ? 1
                 : unit == "s" ? kSecondMs
                 : unit == "m" ? kMinuteMs
                 : unit == "h" ? kHourMs
                 : unit == "d" ? kDayMs
                               : 0;
  if (scale == 0) return Status::InvalidArgument("duration '" + text + "' needs a unit: ms, s, m, h or d");
  const std::optional<std::uint64_t> value =
      ParseDecimal(std::string_view(text).substr(0, digits), static_cast<std::uint64_t>(kMaxDuration / scale));
  if (!value)
    return Status::InvalidArgument("duration '" + text + "' is too large (the most is " +
                                   std::to_string(kMaxDuration / kDayMs) + "d)");
  return static_cast<TimeMs>(*value) * scale;
}

Status SplitHostPort(const std::string& listen, std::string* host, std::uint16_t* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return Status::InvalidArgument("listen address '" + listen + "' must be HOST:PORT");
  std::string h = listen.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const std::optional<std::uint64_t> p = ParseDecimal(std::string_view(listen).substr(colon + 1), 65535);
  if (!p) return Status::InvalidArgument("bad port in '" + listen + "': a port is a number from 0 to 65535");
  *host = h;
  *port = static_cast<std::uint16_t>(*p);
  return Status::Ok();
}

std::string Config::SigningKeyPath() const {
  if (!signing_key_credential.empty()) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    return dir && *dir ? std::string(dir) + "/" + signing_key_credential : "";
  }
  return signing_key_file.empty() ? data_dir + "/checkpoint.key" : signing_key_file;
}

Status Config::Validate() const {
  std::string host;
  std::uint16_t port;
  if (Status s = SplitHostPort(listen, &host, &port); !s.ok()) return s;
  for (Status s : {CheckRange(kThreads, threads), CheckRange(kMaxBodyBytes, max_body_bytes),
                   CheckRange(kRequestTimeoutMs, request_timeout_ms), CheckRange(kMaxEventStreams, max_event_streams)})
    if (!s.ok()) return s;
  for (Status s :
       {CheckRange(kShutdownTimeoutMs, shutdown_timeout_ms), CheckRange(kEventStreamKeepalive, event_stream_keepalive)})
    if (!s.ok()) return s;
  for (Status s :
       {CheckRange(kMaxEventStreamsPerAccount, max_event_streams_per_account),
        CheckRange(kMaxConnections, max_connections), CheckRange(kMaxConnectionsPerClient, max_connections_per_client),
        CheckRange(kMaxMinPositionWaits, max_min_position_waits),
        CheckRange(kMaxMinPositionWaitsPerClient, max_min_position_waits_per_client),
        CheckRange(kRateLimitEntries, rate_limit_entries)})
    if (!s.ok()) return s;
  for (const std::string& block : trusted_proxies)
    if (!ParseCidr(block))
      return Status::InvalidArgument(
          "http.trusted_proxies: '" + block +
          "' is not a CIDR block: it must be like 10.0.0.0/8 or 2001:db8::/32, host bits zero");
  if (data_dir.empty()) return Status::InvalidArgument("ledger.data_dir must not be empty");
  if (!IsValidBrand(brand))
    return Status::InvalidArgument("keys.brand must be 2-10 of [a-z0-9], starting with a letter");
  if (Status s = CheckRange(kRotationGrace, rotation_grace); !s.ok()) return s;
  for (Status s :
       {CheckRange(kMaxLiveKeys, max_live_keys), CheckRange(kMaxOauthClients, max_oauth_clients),
        CheckRange(kFailedAuthPerMinute, failed_auth_per_minute), CheckRange(kKeyReadsPerMinute, key_reads_per_minute),
        CheckRange(kKeyWritesPerMinute, key_writes_per_minute)})
    if (!s.ok()) return s;
  if (auto c = ScopeCatalogue::FromList(scope_catalogue); !c.ok()) return c.status();
  for (Status s : {CheckRange(kUsageResolution, usage_resolution), CheckRange(kAuditRetention, audit_retention),
                   CheckRange(kCheckpointInterval, checkpoint_interval)})
    if (!s.ok()) return s;
  if (!signing_key_credential.empty() && !signing_key_file.empty())
    return Status::InvalidArgument(
        "audit.signing_key_credential and audit.signing_key_file exclude each other: set one");
  if (!signing_key_credential.empty() &&
      (signing_key_credential.find('/') != std::string::npos || signing_key_credential == "." ||
       signing_key_credential == ".." || signing_key_credential.size() > 255))
    return Status::InvalidArgument("audit.signing_key_credential must be a credential name (1..255 characters, no "
                                   "'/'), as in the unit's LoadCredential=NAME:PATH");
  if (role != "writer" && role != "replica") return Status::InvalidArgument("server.role must be writer or replica");
  if (role == "replica" && kafka_brokers.empty())
    return Status::InvalidArgument("server.role = replica needs a Kafka ledger (kafka.brokers / --kafka-brokers): a "
                                   "replica consumes the writer's topic");
  if (!writer_url.empty() && !writer_url.starts_with("http://") && !writer_url.starts_with("https://"))
    return Status::InvalidArgument("server.writer_url must start with http:// or https://");
  if (!kafka_brokers.empty() && kafka_topic.empty()) return Status::InvalidArgument("kafka.topic must not be empty");
  for (Status s : {CheckRange(kKafkaPartitions, kafka_partitions), CheckRange(kBlockCacheMb, block_cache_mb),
                   CheckRange(kWriteBufferMb, write_buffer_mb), CheckRange(kCachedAccounts, cached_accounts),
                   CheckRange(kFillCachedKeys, fill_cached_keys), CheckRange(kFillBufferMb, fill_buffer_mb)})
    if (!s.ok()) return s;
  if (Status s = CheckRange(kKafkaDeliveryTimeout, kafka_delivery_timeout); !s.ok()) return s;
  return Status::Ok();
}

namespace {

// The parsed file, and which settings were asked for: a setting nobody asks for
// is unknown (a typo, or a setting of another version), and refused.
class SettingsFile {
 public:
  explicit SettingsFile(toml::table t) : t_(std::move(t)) {}

  // The node of `section`.`key` (empty if the file does not set it), noted as known.
  toml::node_view<const toml::node> Get(const char* section, const char* key) {
    known_.insert(std::string(section) + "." + key);
    return std::as_const(t_)[section][key];
  }
  // InvalidArgument naming the first setting or section of the file that nobody asked for.
  Status CheckNothingUnknown() const {
    for (const auto& [section, node] : t_) {
      const std::string name(section.str());
      const toml::table* keys = node.as_table();
      if (!keys)
        return Status::InvalidArgument("config: unknown setting '" + name +
                                       "': every setting belongs to a section such as [server] "
                                       "(ops/authledger.example.toml lists them all)");
      const auto in_section = known_.lower_bound(name + ".");
      if (in_section == known_.end() || !in_section->starts_with(name + "."))
        return Status::InvalidArgument("config: unknown section [" + name +
                                       "] (ops/authledger.example.toml lists every section)");
      for (const auto& [key, value] : *keys)
        if (!known_.contains(name + "." + std::string(key.str())))
          return Status::InvalidArgument("config: unknown setting " + name + "." + std::string(key.str()) +
                                         " (ops/authledger.example.toml lists every setting of [" + name + "])");
    }
    return Status::Ok();
  }

 private:
  toml::table t_;
  std::set<std::string> known_;
};

// "an integer", "a string", ... for error messages.
std::string TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

template <typename T>
std::string ExpectedType() {
  if constexpr (std::is_same_v<T, std::string>) return "a string";
  else if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else return "an integer";
}

// InvalidArgument "config: <section>.<key> must be <what>, not <the file's type>".
Status WrongType(const char* section, const char* key, const std::string& what, toml::node_view<const toml::node> n) {
  return Status::InvalidArgument(std::string("config: ") + section + "." + key + " must be " + what + ", not " +
                                 TypeName(n.type()));
}

// A list of strings, if the file has it, replaces *out; `what` names the
// expected form in the error ("a list of CIDR blocks").
Status ReadStringList(SettingsFile& t, const char* section, const char* key, const std::string& what,
                      std::vector<std::string>* out) {
  auto node = t.Get(section, key);
  if (!node) return Status::Ok();
  auto* arr = node.as_array();
  if (!arr) return WrongType(section, key, what, node);
  std::vector<std::string> list;
  for (auto& e : *arr) {
    auto v = e.value<std::string>();
    if (!v)
      return Status::InvalidArgument(std::string("config: ") + section + "." + key + " must be " + what +
                                     ": an element is " + TypeName(e.type()));
    list.push_back(*v);
  }
  *out = std::move(list);
  return Status::Ok();
}

template <typename T>
Status Read(SettingsFile& t, const char* section, const char* key, T* out) {
  auto node = t.Get(section, key);
  if (!node) return Status::Ok();
  auto v = node.value_exact<T>();  // exact: true is not 1, nor 3.0 an integer
  if (!v) return WrongType(section, key, ExpectedType<T>(), node);
  *out = *v;
  return Status::Ok();
}

// An integer setting, if the file has it; InvalidArgument if it is not an
// integer or lies outside the setting's range.
template <typename T>
Status ReadInt(SettingsFile& t, const IntSetting& setting, T* out) {
  if (!t.Get(setting.section, setting.key)) return Status::Ok();
  std::int64_t v = 0;
  if (Status s = Read(t, setting.section, setting.key, &v); !s.ok()) return s;
  if (Status s = CheckRange(setting, v); !s.ok()) return Status::InvalidArgument("config: " + s.message());
  *out = static_cast<T>(v);
  return Status::Ok();
}

// A duration setting ("30s"), if the file has it; InvalidArgument if it is not a
// duration or lies outside the setting's range.
Status ReadDuration(SettingsFile& t, const DurationSetting& setting, TimeMs* out) {
  auto node = t.Get(setting.section, setting.key);
  if (!node) return Status::Ok();
  auto text = node.value<std::string>();
  if (!text) return WrongType(setting.section, setting.key, "a duration string such as \"30s\"", node);
  auto d = ParseDuration(*text);
  if (!d.ok())
    return Status::InvalidArgument("config: " + SettingName(setting) + " = \"" + *text + "\": " + d.status().message());
  if (Status s = CheckRange(setting, *d); !s.ok()) return Status::InvalidArgument("config: " + s.message());
  *out = *d;
  return Status::Ok();
}

}  // namespace

Result<Config> LoadConfigFile(const std::string& path) {
  Config c;
  if (path.empty()) return c;
  toml::table parsed;
  try {
    parsed = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config " + path + ": " + std::string(e.description()) + " at line " +
                                   std::to_string(e.source().begin.line));
  }
  SettingsFile t(std::move(parsed));
  for (Status s : {ReadInt(t, kKeyReadsPerMinute, &c.key_reads_per_minute),
                   ReadInt(t, kKeyWritesPerMinute, &c.key_writes_per_minute),
                   Read(t, "server", "listen", &c.listen),
                   ReadInt(t, kThreads, &c.threads),
                   Read(t, "server", "role", &c.role),
                   Read(t, "server", "writer_url", &c.writer_url),
                   ReadInt(t, kShutdownTimeoutMs, &c.shutdown_timeout_ms),
                   Read(t, "kafka", "brokers", &c.kafka_brokers),
                   Read(t, "kafka", "topic", &c.kafka_topic),
                   ReadInt(t, kKafkaPartitions, &c.kafka_partitions),
                   ReadDuration(t, kKafkaDeliveryTimeout, &c.kafka_delivery_timeout),
                   ReadInt(t, kMaxBodyBytes, &c.max_body_bytes),
                   ReadInt(t, kRequestTimeoutMs, &c.request_timeout_ms),
                   ReadInt(t, kMaxEventStreams, &c.max_event_streams),
                   ReadDuration(t, kEventStreamKeepalive, &c.event_stream_keepalive),
                   ReadInt(t, kMaxEventStreamsPerAccount, &c.max_event_streams_per_account),
                   ReadInt(t, kMaxConnections, &c.max_connections),
                   ReadInt(t, kMaxConnectionsPerClient, &c.max_connections_per_client),
                   ReadInt(t, kMaxMinPositionWaits, &c.max_min_position_waits),
                   ReadInt(t, kMaxMinPositionWaitsPerClient, &c.max_min_position_waits_per_client),
                   ReadInt(t, kRateLimitEntries, &c.rate_limit_entries),
                   Read(t, "ledger", "data_dir", &c.data_dir),
                   Read(t, "keys", "brand", &c.brand),
                   ReadDuration(t, kRotationGrace, &c.rotation_grace),
                   ReadInt(t, kMaxLiveKeys, &c.max_live_keys),
                   ReadInt(t, kMaxOauthClients, &c.max_oauth_clients),
                   Read(t, "security", "pepper_file", &c.pepper_file),
                   ReadInt(t, kFailedAuthPerMinute, &c.failed_auth_per_minute),
                   ReadDuration(t, kUsageResolution, &c.usage_resolution),
                   Read(t, "audit", "signing_key_file", &c.signing_key_file),
                   ReadDuration(t, kCheckpointInterval, &c.checkpoint_interval),
                   ReadDuration(t, kAuditRetention, &c.audit_retention),
                   Read(t, "audit", "signing_key_credential", &c.signing_key_credential),
                   Read(t, "audit", "witness_dir", &c.witness_dir),
                   ReadInt(t, kBlockCacheMb, &c.block_cache_mb),
                   ReadInt(t, kWriteBufferMb, &c.write_buffer_mb),
                   ReadInt(t, kCachedAccounts, &c.cached_accounts),
                   ReadInt(t, kFillCachedKeys, &c.fill_cached_keys),
                   ReadInt(t, kFillBufferMb, &c.fill_buffer_mb)}) {
    if (!s.ok()) return s;
  }
  for (Status s : {ReadStringList(t, "scopes", "catalogue", "a list of strings", &c.scope_catalogue),
                   ReadStringList(t, "http", "trusted_proxies", "a list of CIDR blocks", &c.trusted_proxies)})
    if (!s.ok()) return s;
  if (auto properties = t.Get("kafka", "properties")) {
    auto* props = properties.as_table();
    if (!props) return WrongType("kafka", "properties", "a table ([kafka.properties])", properties);
    for (auto& [k, v] : *props) {
      std::string value;
      if (auto str = v.value<std::string>()) value = *str;
      else if (auto num = v.value<std::int64_t>()) value = std::to_string(*num);
      else if (auto b = v.value<bool>()) value = *b ? "true" : "false";
      else
        return Status::InvalidArgument("config: kafka.properties." + std::string(k.str()) +
                                       " must be a string, integer or boolean");
      c.kafka_properties.emplace_back(std::string(k.str()), value);
    }
  }
  if (Status s = t.CheckNothingUnknown(); !s.ok()) return s;
  return c;
}

Status ApplyEnvironment(Config* c) {
  auto env = [](const char* name, std::string* out) {
    if (const char* v = std::getenv(name); v && *v) *out = v;
  };
  env("AUTHLEDGER_DATA", &c->data_dir);
  env("AUTHLEDGER_LISTEN", &c->listen);
  env("AUTHLEDGER_BRAND", &c->brand);
  env("AUTHLEDGER_PEPPER_FILE", &c->pepper_file);
  env("AUTHLEDGER_SIGNING_KEY_FILE", &c->signing_key_file);
  env("AUTHLEDGER_SIGNING_KEY_CREDENTIAL", &c->signing_key_credential);
  env("AUTHLEDGER_WITNESS_DIR", &c->witness_dir);
  env("AUTHLEDGER_KAFKA_BROKERS", &c->kafka_brokers);
  env("AUTHLEDGER_KAFKA_TOPIC", &c->kafka_topic);
  env("AUTHLEDGER_ROLE", &c->role);
  env("AUTHLEDGER_WRITER_URL", &c->writer_url);
  std::string threads;
  env("AUTHLEDGER_THREADS", &threads);
  if (!threads.empty()) {
    const std::optional<std::uint64_t> n = ParseDecimal(threads, static_cast<std::uint64_t>(kThreads.max));
    if (!n)
      return Status::InvalidArgument("AUTHLEDGER_THREADS must be an integer from " + std::to_string(kThreads.min) +
                                     " to " + std::to_string(kThreads.max) + " (0: one per core)");
    c->threads = static_cast<int>(*n);
  }
  return Status::Ok();
}

}  // namespace authledger
