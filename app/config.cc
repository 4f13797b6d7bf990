#include "app/config.h"

#include <cstdlib>

#include <toml++/toml.h>

#include "domain/api_key.h"
#include "domain/scopes.h"

namespace authledger {

Result<TimeMs> ParseDuration(const std::string& text) {
  std::size_t i = 0;
  TimeMs value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (value > 1'000'000'000'000LL) return Status::InvalidArgument("duration too large: " + text);
    value = value * 10 + (text[i++] - '0');
  }
  if (i == 0) return Status::InvalidArgument("duration '" + text + "' must start with a number, e.g. 72h");
  std::string unit = text.substr(i);
  TimeMs scale = unit == "ms" ? 1
                 : unit == "s" ? kSecondMs
                 : unit == "m" ? kMinuteMs
                 : unit == "h" ? kHourMs
                 : unit == "d" ? kDayMs
                               : 0;
  if (scale == 0) return Status::InvalidArgument("duration '" + text + "' needs a unit: ms, s, m, h or d");
  if (value > 100LL * 365 * kDayMs / scale) return Status::InvalidArgument("duration '" + text + "' is too large");
  return value * scale;
}

Status SplitHostPort(const std::string& listen, std::string* host, std::uint16_t* port) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return Status::InvalidArgument("listen address '" + listen + "' must be HOST:PORT");
  std::string h = listen.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  long p = 0;
  for (char c : listen.substr(colon + 1)) {
    if (c < '0' || c > '9' || p > 65535) return Status::InvalidArgument("bad port in '" + listen + "'");
    p = p * 10 + (c - '0');
  }
  if (p > 65535) return Status::InvalidArgument("bad port in '" + listen + "'");
  *host = h;
  *port = static_cast<std::uint16_t>(p);
  return Status::Ok();
}

Status Config::Validate() const {
  std::string host;
  std::uint16_t port;
  if (Status s = SplitHostPort(listen, &host, &port); !s.ok()) return s;
  if (threads < 0 || threads > 256) return Status::InvalidArgument("server.threads must be 0..256");
  if (max_body_bytes < 1024 || max_body_bytes > 16 * 1024 * 1024)
    return Status::InvalidArgument("server.max_body_bytes must be 1024..16777216");
  if (request_timeout_ms < 100) return Status::InvalidArgument("server.request_timeout_ms must be >= 100");
  if (max_event_streams > 10000) return Status::InvalidArgument("server.max_event_streams must be 0..10000");
  if (event_stream_keepalive < 10 || event_stream_keepalive > 300 * kSecondMs)
    return Status::InvalidArgument("server.event_stream_keepalive must be between 10ms and 300s");
  if (data_dir.empty()) return Status::InvalidArgument("ledger.data_dir must not be empty");
  if (!IsValidBrand(brand)) return Status::InvalidArgument("keys.brand must be 2-10 of [a-z0-9], starting with a letter");
  if (rotation_grace < 0 || rotation_grace > 30 * kDayMs)
    return Status::InvalidArgument("keys.rotation_grace must be between 0 and 30d");
  if (max_live_keys < 1) return Status::InvalidArgument("keys.max_live_keys must be >= 1");
  if (max_oauth_clients < 1) return Status::InvalidArgument("oauth.max_clients must be >= 1");
  if (failed_auth_per_minute < 1) return Status::InvalidArgument("security.failed_auth_per_minute must be >= 1");
  if (auto c = ScopeCatalogue::FromList(scope_catalogue); !c.ok()) return c.status();
  if (usage_resolution < kSecondMs) return Status::InvalidArgument("usage.resolution must be >= 1s");
  if (audit_retention < kDayMs) return Status::InvalidArgument("audit.retention must be >= 1d");
  if (checkpoint_interval < kSecondMs) return Status::InvalidArgument("audit.checkpoint_interval must be >= 1s");
  if (role != "writer" && role != "replica") return Status::InvalidArgument("server.role must be writer or replica");
  if (role == "replica" && kafka_brokers.empty())
    return Status::InvalidArgument("server.role = replica needs a Kafka ledger (kafka.brokers / --kafka-brokers): a "
                                   "replica consumes the writer's topic");
  if (!writer_url.empty() && !writer_url.starts_with("http://") && !writer_url.starts_with("https://"))
    return Status::InvalidArgument("server.writer_url must start with http:// or https://");
  if (!kafka_brokers.empty() && kafka_topic.empty()) return Status::InvalidArgument("kafka.topic must not be empty");
  if (kafka_partitions > 32) return Status::InvalidArgument("kafka.partitions must be 0..32");
  if (kafka_delivery_timeout < 100 || kafka_delivery_timeout > 300 * kSecondMs)
    return Status::InvalidArgument("kafka.delivery_timeout must be between 100ms and 300s");
  return Status::Ok();
}

namespace {

template <typename T>
Status Read(const toml::table& t, const char* section, const char* key, T* out) {
  auto node = t[section][key];
  if (!node) return Status::Ok();
  auto v = node.value<T>();
  if (!v) return Status::InvalidArgument(std::string("config: ") + section + "." + key + " has the wrong type");
  *out = *v;
  return Status::Ok();
}

Status ReadDuration(const toml::table& t, const char* section, const char* key, TimeMs* out) {
  std::string text;
  if (Status s = Read(t, section, key, &text); !s.ok() || text.empty()) return s;
  auto d = ParseDuration(text);
  if (!d.ok()) return Status::InvalidArgument(std::string("config: ") + section + "." + key + ": " + d.status().message());
  *out = *d;
  return Status::Ok();
}

}  // namespace

Result<Config> LoadConfigFile(const std::string& path) {
  Config c;
  if (path.empty()) return c;
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config " + path + ": " + std::string(e.description()) + " at line " +
                                   std::to_string(e.source().begin.line));
  }
  std::int64_t reads = c.key_reads_per_minute, writes = c.key_writes_per_minute;
  if (Status s = Read(t, "limits", "key_reads_per_minute", &reads); !s.ok()) return s;
  if (Status s = Read(t, "limits", "key_writes_per_minute", &writes); !s.ok()) return s;
  if (reads < 1 || writes < 1 || reads > 1'000'000 || writes > 1'000'000)
    return Status::InvalidArgument("config: limits.key_*_per_minute must be 1..1000000");
  c.key_reads_per_minute = static_cast<std::uint32_t>(reads);
  c.key_writes_per_minute = static_cast<std::uint32_t>(writes);
  std::int64_t threads = c.threads, max_body = static_cast<std::int64_t>(c.max_body_bytes),
               timeout = c.request_timeout_ms, failed = c.failed_auth_per_minute,
               max_keys = static_cast<std::int64_t>(c.max_live_keys), partitions = c.kafka_partitions,
               max_clients = static_cast<std::int64_t>(c.max_oauth_clients),
               max_streams = static_cast<std::int64_t>(c.max_event_streams);
  for (Status s : {Read(t, "server", "listen", &c.listen), Read(t, "server", "threads", &threads),
                   Read(t, "server", "role", &c.role), Read(t, "server", "writer_url", &c.writer_url),
                   Read(t, "kafka", "brokers", &c.kafka_brokers), Read(t, "kafka", "topic", &c.kafka_topic),
                   Read(t, "kafka", "partitions", &partitions),
                   ReadDuration(t, "kafka", "delivery_timeout", &c.kafka_delivery_timeout),
                   Read(t, "server", "max_body_bytes", &max_body), Read(t, "server", "request_timeout_ms", &timeout),
                   Read(t, "server", "max_event_streams", &max_streams),
                   ReadDuration(t, "server", "event_stream_keepalive", &c.event_stream_keepalive),
                   Read(t, "ledger", "data_dir", &c.data_dir), Read(t, "keys", "brand", &c.brand),
                   ReadDuration(t, "keys", "rotation_grace", &c.rotation_grace),
                   Read(t, "keys", "max_live_keys", &max_keys), Read(t, "oauth", "max_clients", &max_clients),
                   Read(t, "security", "pepper_file", &c.pepper_file),
                   Read(t, "security", "failed_auth_per_minute", &failed),
                   ReadDuration(t, "usage", "resolution", &c.usage_resolution),
                   Read(t, "audit", "signing_key_file", &c.signing_key_file),
                   ReadDuration(t, "audit", "checkpoint_interval", &c.checkpoint_interval),
                   ReadDuration(t, "audit", "retention", &c.audit_retention)}) {
    if (!s.ok()) return s;
  }
  if (auto* arr = t["scopes"]["catalogue"].as_array()) {
    c.scope_catalogue.clear();
    for (auto& e : *arr) {
      auto v = e.value<std::string>();
      if (!v) return Status::InvalidArgument("config: scopes.catalogue must be a list of strings");
      c.scope_catalogue.push_back(*v);
    }
  }
  if (auto* props = t["kafka"]["properties"].as_table()) {
    for (auto& [k, v] : *props) {
      std::string value;
      if (auto str = v.value<std::string>()) value = *str;
      else if (auto num = v.value<std::int64_t>()) value = std::to_string(*num);
      else if (auto b = v.value<bool>()) value = *b ? "true" : "false";
      else return Status::InvalidArgument("config: kafka.properties." + std::string(k.str()) + " must be a string, integer or boolean");
      c.kafka_properties.emplace_back(std::string(k.str()), value);
    }
  }
  if (partitions < 0 || partitions > 32) return Status::InvalidArgument("config: kafka.partitions must be 0..32");
  c.kafka_partitions = static_cast<std::uint32_t>(partitions);
  if (threads < 0 || max_body < 0 || timeout < 0 || failed < 0 || max_keys < 0 || max_clients < 0 ||
      max_clients > 100'000 || threads > 256 ||
      failed > 1'000'000 || max_keys > 100'000 || timeout > 3'600'000 || max_body > (1 << 30) || max_streams < 0 ||
      max_streams > 10'000)
    return Status::InvalidArgument("config: a numeric setting is out of range");
  c.threads = static_cast<int>(threads);
  c.max_body_bytes = static_cast<std::size_t>(max_body);
  c.request_timeout_ms = static_cast<int>(timeout);
  c.failed_auth_per_minute = static_cast<std::uint32_t>(failed);
  c.max_live_keys = static_cast<std::size_t>(max_keys);
  c.max_oauth_clients = static_cast<std::size_t>(max_clients);
  c.max_event_streams = static_cast<std::size_t>(max_streams);
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
  env("AUTHLEDGER_KAFKA_BROKERS", &c->kafka_brokers);
  env("AUTHLEDGER_KAFKA_TOPIC", &c->kafka_topic);
  env("AUTHLEDGER_ROLE", &c->role);
  env("AUTHLEDGER_WRITER_URL", &c->writer_url);
  std::string threads;
  env("AUTHLEDGER_THREADS", &threads);
  if (!threads.empty()) {
    try {
      c->threads = std::stoi(threads);
    } catch (...) {
      return Status::InvalidArgument("AUTHLEDGER_THREADS must be an integer");
    }
  }
  return Status::Ok();
}

}  // namespace authledger
