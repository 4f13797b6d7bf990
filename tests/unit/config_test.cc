// Configuration: TOML file over defaults, environment over the file, validation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "app/config.h"

namespace authledger {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  // One file per process: ctest runs these tests in parallel processes.
  std::string path_ = ::testing::TempDir() + "/authledger-config-test-" + std::to_string(::getpid()) + ".toml";
  void Write(const std::string& text) { std::ofstream(path_) << text; }
  void TearDown() override {
    std::remove(path_.c_str());
    for (const char* v : {"AUTHLEDGER_DATA", "AUTHLEDGER_LISTEN", "AUTHLEDGER_BRAND", "AUTHLEDGER_THREADS"})
      ::unsetenv(v);
  }
};

TEST_F(ConfigTest, DefaultsAreValidAndMatchTheDocumentedExample) {
  Config c;
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.rotation_grace, 72 * kHourMs);
  EXPECT_EQ(c.failed_auth_per_minute, 20u);
  EXPECT_EQ(c.PepperPath(), "./data/pepper");
  // The shipped example config parses and equals the defaults.
  auto example = LoadConfigFile(std::string(AUTHLEDGER_SOURCE_DIR) + "/ops/authledger.example.toml");
  ASSERT_TRUE(example.ok()) << example.status().ToString();
  EXPECT_EQ(example->listen, c.listen);
  EXPECT_EQ(example->brand, c.brand);
  EXPECT_EQ(example->rotation_grace, c.rotation_grace);
  EXPECT_EQ(example->usage_resolution, c.usage_resolution);
  EXPECT_EQ(example->scope_catalogue, c.scope_catalogue);
  EXPECT_EQ(example->kafka_brokers, c.kafka_brokers);
  EXPECT_EQ(example->kafka_topic, c.kafka_topic);
  EXPECT_EQ(example->kafka_partitions, c.kafka_partitions);
  EXPECT_EQ(example->kafka_delivery_timeout, c.kafka_delivery_timeout);
  EXPECT_EQ(example->role, c.role);
  EXPECT_EQ(example->shutdown_timeout_ms, c.shutdown_timeout_ms);
  EXPECT_EQ(example->max_oauth_clients, c.max_oauth_clients);
  EXPECT_EQ(c.max_oauth_clients, 25u);
  EXPECT_EQ(example->block_cache_mb, c.block_cache_mb);
  EXPECT_EQ(example->write_buffer_mb, c.write_buffer_mb);
  EXPECT_EQ(example->cached_accounts, c.cached_accounts);
  EXPECT_EQ(example->fill_cached_keys, c.fill_cached_keys);
  EXPECT_EQ(example->fill_buffer_mb, c.fill_buffer_mb);
  EXPECT_EQ(example->max_event_streams_per_account, c.max_event_streams_per_account);
  EXPECT_EQ(example->max_connections, c.max_connections);
  EXPECT_EQ(example->max_connections_per_client, c.max_connections_per_client);
  EXPECT_EQ(example->max_min_position_waits, c.max_min_position_waits);
  EXPECT_EQ(example->max_min_position_waits_per_client, c.max_min_position_waits_per_client);
  EXPECT_EQ(example->rate_limit_entries, c.rate_limit_entries);
  EXPECT_EQ(example->trusted_proxies, c.trusted_proxies);
}

TEST_F(ConfigTest, GatewayLimitsAndTrustedProxies) {
  Write("[server]\nmax_connections = 500\nmax_connections_per_client = 20\nmax_event_streams_per_account = 3\n"
        "max_min_position_waits = 4\nmax_min_position_waits_per_client = 2\n"
        "[http]\ntrusted_proxies = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n[limits]\nrate_limit_entries = 5000\n");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->max_connections, 500u);
  EXPECT_EQ(c->max_connections_per_client, 20u);
  EXPECT_EQ(c->max_event_streams_per_account, 3u);
  EXPECT_EQ(c->max_min_position_waits, 4u);
  EXPECT_EQ(c->max_min_position_waits_per_client, 2u);
  EXPECT_EQ(c->rate_limit_entries, 5000u);
  EXPECT_EQ(c->trusted_proxies, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_TRUE(c->Validate().ok());
  Write("[server]\nmax_connections = 2000000\n");
  EXPECT_EQ(LoadConfigFile(path_).status().message(),
            "config: server.max_connections = 2000000 is out of range: it must be 0..1000000");
  Write("[server]\nmax_connections_per_client = 0\n");
  EXPECT_EQ(LoadConfigFile(path_).status().message(),
            "config: server.max_connections_per_client = 0 is out of range: it must be 1..1000000");
  Write("[limits]\nrate_limit_entries = 10\n");
  EXPECT_EQ(LoadConfigFile(path_).status().message(),
            "config: limits.rate_limit_entries = 10 is out of range: it must be 1600..100000000");
  Write("[http]\ntrusted_proxies = \"10.0.0.0/8\"\n");
  EXPECT_EQ(LoadConfigFile(path_).status().message(),
            "config: http.trusted_proxies must be a list of CIDR blocks, not a string");
  Config v;
  v.trusted_proxies = {"10.0.0.1/8"};
  EXPECT_NE(v.Validate().message().find("http.trusted_proxies: '10.0.0.1/8' is not a CIDR block"), std::string::npos);
  v.trusted_proxies = {};
  v.max_min_position_waits = 0;
  EXPECT_EQ(v.Validate().message(), "server.max_min_position_waits = 0 is out of range: it must be 1..1024");
  v.max_min_position_waits = 2;
  v.max_event_streams_per_account = 0;
  EXPECT_EQ(v.Validate().message(), "server.max_event_streams_per_account = 0 is out of range: it must be 1..10000");
}

TEST_F(ConfigTest, MemorySection) {
  Write("[memory]\nblock_cache_mb = 16\nwrite_buffer_mb = 32\ncached_accounts = 500\nfill_cached_keys = 2000\n"
        "fill_buffer_mb = 8\n");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->block_cache_mb, 16u);
  EXPECT_EQ(c->write_buffer_mb, 32u);
  EXPECT_EQ(c->cached_accounts, 500u);
  EXPECT_EQ(c->fill_cached_keys, 2000u);
  EXPECT_EQ(c->fill_buffer_mb, 8u);
  Write("[memory]\nfill_buffer_mb = 5000\n");
  EXPECT_EQ(LoadConfigFile(path_).status().message(),
            "config: memory.fill_buffer_mb = 5000 is out of range: it must be 4..4096");
  Write("[memory]\nblock_cache_mb = 4\n");
  EXPECT_EQ(LoadConfigFile(path_).status().message(),
            "config: memory.block_cache_mb = 4 is out of range: it must be 8..1000000");
  Config v;
  v.cached_accounts = 10;
  EXPECT_EQ(v.Validate().message(), "memory.cached_accounts = 10 is out of range: it must be 100..100000000");
}

TEST_F(ConfigTest, OauthClientLimit) {
  Write("[oauth]\nmax_clients = 3\n");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->max_oauth_clients, 3u);
  Write("[oauth]\nmax_clients = 0\n");
  c = LoadConfigFile(path_);
  EXPECT_FALSE(c.ok() && c->Validate().ok());
  Write("[oauth]\nmax_clients = -1\n");
  EXPECT_FALSE(LoadConfigFile(path_).ok());
}

TEST_F(ConfigTest, KafkaSectionAndReplicaRole) {
  Write(R"(
[server]
role = "replica"
writer_url = "http://10.0.0.5:8080"
[kafka]
brokers = "k1:9092,k2:9092"
topic = "creds"
partitions = 12
delivery_timeout = "2s"
[kafka.properties]
"security.protocol" = "SASL_SSL"
"linger.ms" = 2
)");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->Validate().ok()) << c->Validate().ToString();
  EXPECT_TRUE(c->is_replica());
  EXPECT_EQ(c->writer_url, "http://10.0.0.5:8080");
  EXPECT_EQ(c->kafka_brokers, "k1:9092,k2:9092");
  EXPECT_EQ(c->kafka_topic, "creds");
  EXPECT_EQ(c->kafka_partitions, 12u);
  EXPECT_EQ(c->kafka_delivery_timeout, 2 * kSecondMs);
  ASSERT_EQ(c->kafka_properties.size(), 2u);
  EXPECT_NE(std::find(c->kafka_properties.begin(), c->kafka_properties.end(),
                      std::pair<std::string, std::string>{"linger.ms", "2"}),
            c->kafka_properties.end());

  // A replica needs a Kafka ledger; the partition count is bounded; roles are known.
  Config bad = *c;
  bad.kafka_brokers.clear();
  EXPECT_EQ(bad.Validate().code(), Status::Code::kInvalidArgument);
  bad = *c;
  bad.role = "primary";
  EXPECT_EQ(bad.Validate().code(), Status::Code::kInvalidArgument);
  bad = *c;
  bad.writer_url = "10.0.0.5:8080";
  EXPECT_EQ(bad.Validate().code(), Status::Code::kInvalidArgument);
  Write("[kafka]\npartitions = 33\n");
  EXPECT_EQ(LoadConfigFile(path_).status().code(), Status::Code::kInvalidArgument);

  ::setenv("AUTHLEDGER_KAFKA_BROKERS", "env:9092", 1);
  Config e;
  ASSERT_TRUE(ApplyEnvironment(&e).ok());
  EXPECT_EQ(e.kafka_brokers, "env:9092");
  ::unsetenv("AUTHLEDGER_KAFKA_BROKERS");
}

TEST_F(ConfigTest, FileOverridesDefaultsAndEnvironmentOverridesFile) {
  Write(R"([server]
listen = "127.0.0.1:9090"
threads = 3
[ledger]
data_dir = "/var/lib/x"
[keys]
brand = "sp"
rotation_grace = "14d"
[scopes]
catalogue = ["read:checks", "admin:*"]
[usage]
resolution = "5m"
)");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen, "127.0.0.1:9090");
  EXPECT_EQ(c->threads, 3);
  EXPECT_EQ(c->data_dir, "/var/lib/x");
  EXPECT_EQ(c->brand, "sp");
  EXPECT_EQ(c->rotation_grace, 14 * kDayMs);
  EXPECT_EQ(c->usage_resolution, 5 * kMinuteMs);
  EXPECT_EQ(c->scope_catalogue, (std::vector<std::string>{"read:checks", "admin:*"}));
  ::setenv("AUTHLEDGER_DATA", "/srv/authledger", 1);
  ::setenv("AUTHLEDGER_LISTEN", "0.0.0.0:8443", 1);
  ASSERT_TRUE(ApplyEnvironment(&*c).ok());
  EXPECT_EQ(c->data_dir, "/srv/authledger");
  EXPECT_EQ(c->listen, "0.0.0.0:8443");
  EXPECT_TRUE(c->Validate().ok());
}

TEST_F(ConfigTest, EventStreamSettings) {
  Config d;
  EXPECT_EQ(d.max_event_streams, 64u);
  EXPECT_EQ(d.event_stream_keepalive, 15 * kSecondMs);
  EXPECT_NE(std::find(d.scope_catalogue.begin(), d.scope_catalogue.end(), "events:read"), d.scope_catalogue.end());
  Write("[server]\nmax_event_streams = 8\nevent_stream_keepalive = \"30s\"\n");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->max_event_streams, 8u);
  EXPECT_EQ(c->event_stream_keepalive, 30 * kSecondMs);
  EXPECT_TRUE(c->Validate().ok());
  Write("[server]\nmax_event_streams = -1\n");
  EXPECT_EQ(LoadConfigFile(path_).status().code(), Status::Code::kInvalidArgument);
  Write("[server]\nevent_stream_keepalive = \"15\"\n");
  auto unitless = LoadConfigFile(path_);
  ASSERT_FALSE(unitless.ok());
  EXPECT_NE(unitless.status().message().find("server.event_stream_keepalive"), std::string::npos);
  Config bad;
  bad.event_stream_keepalive = 0;
  EXPECT_NE(bad.Validate().message().find("server.event_stream_keepalive"), std::string::npos);
}

TEST_F(ConfigTest, BadFilesAndValuesAreRejectedWithTheSettingNamed) {
  Write("[server\nlisten = 1");
  auto broken = LoadConfigFile(path_);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("line"), std::string::npos);
  Write("[server]\nlisten = 8080\n");
  auto typed = LoadConfigFile(path_);
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.status().message().find("server.listen"), std::string::npos);
  Write("[keys]\nrotation_grace = \"72\"\n");
  auto unitless = LoadConfigFile(path_);
  ASSERT_FALSE(unitless.ok());
  EXPECT_NE(unitless.status().message().find("keys.rotation_grace"), std::string::npos);
  EXPECT_FALSE(LoadConfigFile(path_ + ".missing").ok());

  Config c;
  c.brand = "Bad-Brand";
  EXPECT_NE(c.Validate().message().find("keys.brand"), std::string::npos);
  c = Config{};
  c.listen = "localhost";
  EXPECT_NE(c.Validate().message().find("HOST:PORT"), std::string::npos);
  c = Config{};
  c.rotation_grace = 31 * kDayMs;
  EXPECT_FALSE(c.Validate().ok());
  c = Config{};
  c.scope_catalogue = {"no-colon"};
  EXPECT_FALSE(c.Validate().ok());
  ::setenv("AUTHLEDGER_THREADS", "many", 1);
  EXPECT_FALSE(ApplyEnvironment(&c).ok());
}

TEST_F(ConfigTest, IntegerSettingsOutOfRangeNameTheSettingAndItsRange) {
  struct Case {
    const char* toml;
    const char* message;
  };
  for (const Case& c :
       {Case{"[keys]\nmax_live_keys = 1000000\n",
             "config: keys.max_live_keys = 1000000 is out of range: it must be 1..100000"},
        Case{"[keys]\nmax_live_keys = 0\n", "config: keys.max_live_keys = 0 is out of range: it must be 1..100000"},
        Case{"[oauth]\nmax_clients = -1\n", "config: oauth.max_clients = -1 is out of range: it must be 1..100000"},
        Case{"[server]\nthreads = 257\n", "config: server.threads = 257 is out of range: it must be 0..256"},
        Case{"[server]\nmax_body_bytes = 1023\n",
             "config: server.max_body_bytes = 1023 is out of range: it must be 1024..16777216"},
        Case{"[server]\nrequest_timeout_ms = 3600001\n",
             "config: server.request_timeout_ms = 3600001 is out of range: it must be 100..3600000"},
        Case{"[server]\nmax_event_streams = 10001\n",
             "config: server.max_event_streams = 10001 is out of range: it must be 0..10000"},
        Case{"[security]\nfailed_auth_per_minute = 0\n",
             "config: security.failed_auth_per_minute = 0 is out of range: it must be 1..1000000"},
        Case{"[limits]\nkey_reads_per_minute = 1000001\n",
             "config: limits.key_reads_per_minute = 1000001 is out of range: it must be 1..1000000"},
        Case{"[limits]\nkey_writes_per_minute = 0\n",
             "config: limits.key_writes_per_minute = 0 is out of range: it must be 1..1000000"},
        Case{"[kafka]\npartitions = 33\n", "config: kafka.partitions = 33 is out of range: it must be 0..32"},
        Case{"[server]\nthreads = -9223372036854775808\n",
             "config: server.threads = -9223372036854775808 is out of range: it must be 0..256"}}) {
    Write(c.toml);
    auto r = LoadConfigFile(path_);
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
  // The ends of each range are accepted.
  Write(R"([server]
threads = 256
max_body_bytes = 16777216
request_timeout_ms = 100
max_event_streams = 0
[keys]
max_live_keys = 100000
[oauth]
max_clients = 1
[security]
failed_auth_per_minute = 1000000
[limits]
key_reads_per_minute = 1
key_writes_per_minute = 1000000
[kafka]
partitions = 32
)");
  auto ends = LoadConfigFile(path_);
  ASSERT_TRUE(ends.ok()) << ends.status().ToString();
  EXPECT_TRUE(ends->Validate().ok()) << ends->Validate().ToString();
  EXPECT_EQ(ends->threads, 256);
  EXPECT_EQ(ends->max_body_bytes, 16777216u);
  EXPECT_EQ(ends->max_live_keys, 100000u);
  EXPECT_EQ(ends->key_writes_per_minute, 1000000u);
  EXPECT_EQ(ends->kafka_partitions, 32u);
  // Validate says the same of values that came from elsewhere.
  Config v;
  v.max_live_keys = 0;
  EXPECT_EQ(v.Validate().message(), "keys.max_live_keys = 0 is out of range: it must be 1..100000");
  v = Config{};
  v.threads = -1;
  EXPECT_EQ(v.Validate().message(), "server.threads = -1 is out of range: it must be 0..256");
  v = Config{};
  v.key_reads_per_minute = 0;
  EXPECT_EQ(v.Validate().message(), "limits.key_reads_per_minute = 0 is out of range: it must be 1..1000000");
}

TEST_F(ConfigTest, DurationSettingsOutOfRangeNameTheSettingAndItsRange) {
  struct Case {
    const char* toml;
    const char* message;
  };
  for (const Case& c :
       {Case{"[keys]\nrotation_grace = \"31d\"\n",
             "config: keys.rotation_grace = 31d is out of range: it must be 0ms..30d"},
        Case{"[server]\nevent_stream_keepalive = \"5ms\"\n",
             "config: server.event_stream_keepalive = 5ms is out of range: it must be 10ms..5m"},
        Case{"[kafka]\ndelivery_timeout = \"301s\"\n",
             "config: kafka.delivery_timeout = 301s is out of range: it must be 100ms..5m"},
        Case{"[usage]\nresolution = \"999ms\"\n",
             "config: usage.resolution = 999ms is out of range: it must be 1s..36500d"},
        Case{"[audit]\nretention = \"23h\"\n", "config: audit.retention = 23h is out of range: it must be 1d..36500d"},
        Case{"[audit]\ncheckpoint_interval = \"0s\"\n",
             "config: audit.checkpoint_interval = 0ms is out of range: it must be 1s..36500d"},
        Case{"[server]\nshutdown_timeout_ms = 99\n",
             "config: server.shutdown_timeout_ms = 99 is out of range: it must be 100..600000"},
        Case{"[keys]\nrotation_grace = \"72\"\n",
             "config: keys.rotation_grace = \"72\": duration '72' needs a unit: ms, s, m, h or d"}}) {
    Write(c.toml);
    auto r = LoadConfigFile(path_);
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
  Config v;
  EXPECT_EQ(v.shutdown_timeout_ms, 5000);
  v.rotation_grace = 31 * kDayMs;
  EXPECT_EQ(v.Validate().message(), "keys.rotation_grace = 31d is out of range: it must be 0ms..30d");
  v = Config{};
  v.kafka_delivery_timeout = 300 * kSecondMs + 1;
  EXPECT_EQ(v.Validate().message(), "kafka.delivery_timeout = 300001ms is out of range: it must be 100ms..5m");
  v = Config{};
  v.shutdown_timeout_ms = 600001;
  EXPECT_EQ(v.Validate().message(), "server.shutdown_timeout_ms = 600001 is out of range: it must be 100..600000");
  EXPECT_EQ(FormatDuration(0), "0ms");
  EXPECT_EQ(FormatDuration(90 * kSecondMs), "90s");
  EXPECT_EQ(FormatDuration(72 * kHourMs), "3d");
  EXPECT_EQ(FormatDuration(1500), "1500ms");
}

TEST_F(ConfigTest, WrongTypesNameTheExpectedType) {
  struct Case {
    const char* toml;
    const char* message;
  };
  for (const Case& c :
       {Case{"[server]\nlisten = 8080\n", "config: server.listen must be a string, not an integer"},
        Case{"[keys]\nmax_live_keys = \"10\"\n", "config: keys.max_live_keys must be an integer, not a string"},
        Case{"[keys]\nrotation_grace = 72\n",
             "config: keys.rotation_grace must be a duration string such as \"30s\", not an integer"},
        Case{"[scopes]\ncatalogue = \"admin:*\"\n", "config: scopes.catalogue must be a list of strings, not a string"},
        Case{"[kafka]\nproperties = 1\n",
             "config: kafka.properties must be a table ([kafka.properties]), not an integer"},
        Case{"[server]\nthreads = true\n", "config: server.threads must be an integer, not a boolean"}}) {
    Write(c.toml);
    auto r = LoadConfigFile(path_);
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().message(), c.message);
  }
}

TEST_F(ConfigTest, UnknownSettingsAndSectionsNameThemselves) {
  struct Case {
    const char* toml;
    const char* message;
  };
  for (const Case& c :
       {Case{"[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n",
             "config: unknown setting server.lisen (ops/authledger.example.toml lists every setting of [server])"},
        Case{"[keys]\nmax_live_key = 5\n",
             "config: unknown setting keys.max_live_key (ops/authledger.example.toml lists every setting of [keys])"},
        Case{"[serve]\nlisten = \"127.0.0.1:1\"\n",
             "config: unknown section [serve] (ops/authledger.example.toml lists every section)"},
        Case{"listen = \"127.0.0.1:1\"\n",
             "config: unknown setting 'listen': every setting belongs to a section such as [server] "
             "(ops/authledger.example.toml lists them all)"}}) {
    Write(c.toml);
    auto r = LoadConfigFile(path_);
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message);
  }
  // Free-form librdkafka properties are not settings of ours.
  Write("[kafka.properties]\n\"socket.keepalive.enable\" = true\n");
  EXPECT_TRUE(LoadConfigFile(path_).ok());
}

TEST_F(ConfigTest, ThreadsFromTheEnvironmentAreADecimalFrom0To256) {
  for (const char* ok : {"0", "7", "256", "008"}) {
    ::setenv("AUTHLEDGER_THREADS", ok, 1);
    Config c;
    ASSERT_TRUE(ApplyEnvironment(&c).ok()) << ok;
    EXPECT_EQ(c.threads, std::stoi(ok)) << ok;
  }
  // std::stoi took "4abc" as 4 and " 4" or "+4" as 4; now only digits are a number.
  for (const char* bad : {"many", "4abc", " 4", "+4", "-1", "257", "0x10", "99999999999999999999"}) {
    ::setenv("AUTHLEDGER_THREADS", bad, 1);
    Config c;
    Status s = ApplyEnvironment(&c);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "AUTHLEDGER_THREADS must be an integer from 0 to 256 (0: one per core)") << bad;
    EXPECT_EQ(c.threads, 0) << bad;
  }
}

TEST_F(ConfigTest, DurationsAndListenAddresses) {
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  EXPECT_EQ(*ParseDuration("30s"), 30 * kSecondMs);
  EXPECT_EQ(*ParseDuration("15m"), 15 * kMinuteMs);
  EXPECT_EQ(*ParseDuration("72h"), 72 * kHourMs);
  EXPECT_EQ(*ParseDuration("90d"), 90 * kDayMs);
  for (const char* bad : {"", "h", "5", "5w", "-5m", "+5m", " 5m", "5 m", "999999999999d", "1.5h", "0x5m"})
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  // At most 100 years, whatever the unit; beyond, and on overflow, one sentence.
  EXPECT_EQ(*ParseDuration("36500d"), 36500 * kDayMs);
  EXPECT_EQ(*ParseDuration("3153600000000ms"), 36500 * kDayMs);
  for (const char* big : {"36501d", "3153600000001ms", "99999999999999999999999h"})
    EXPECT_EQ(ParseDuration(big).status().message(),
              "duration '" + std::string(big) + "' is too large (the most is 36500d)")
        << big;
  std::string host;
  std::uint16_t port = 0;
  ASSERT_TRUE(SplitHostPort("[::1]:8080", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 8080);
  ASSERT_TRUE(SplitHostPort("0.0.0.0:65535", &host, &port).ok());
  EXPECT_EQ(port, 65535);
  ASSERT_TRUE(SplitHostPort("h:0", &host, &port).ok());  // 0: the system picks a free port
  EXPECT_EQ(port, 0);
  for (const char* bad :
       {"127.0.0.1:70000", "h:65536", "h:-1", "h:+80", "h: 80", "h:80a", "h:0x50", "h:99999999999999999999"}) {
    Status s = SplitHostPort(bad, &host, &port);
    EXPECT_EQ(s.message(), "bad port in '" + std::string(bad) + "': a port is a number from 0 to 65535") << bad;
  }
  EXPECT_FALSE(SplitHostPort(":80", &host, &port).ok());
  EXPECT_FALSE(SplitHostPort("h:", &host, &port).ok());
}

}  // namespace
}  // namespace authledger

namespace authledger {
namespace {

// [audit]: the signing key as a systemd credential, and the witness directory.
TEST_F(ConfigTest, SigningKeyCredentialAndWitnessDir) {
  Write("[ledger]\ndata_dir = \"/srv/al\"\n[audit]\nsigning_key_credential = \"checkpoint-key\"\n"
        "witness_dir = \"/srv/witness\"\n");
  auto c = LoadConfigFile(path_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->witness_dir, "/srv/witness");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  EXPECT_EQ(c->SigningKeyPath(), "") << "no credentials directory: nothing to read";
  ::setenv("CREDENTIALS_DIRECTORY", "/run/credentials/authledger.service", 1);
  EXPECT_EQ(c->SigningKeyPath(), "/run/credentials/authledger.service/checkpoint-key");
  ::unsetenv("CREDENTIALS_DIRECTORY");
  Config d;
  EXPECT_EQ(d.SigningKeyPath(), "./data/checkpoint.key");
  d.signing_key_file = "/etc/al/key";
  EXPECT_EQ(d.SigningKeyPath(), "/etc/al/key");
  d.signing_key_credential = "k";
  Status both = d.Validate();
  EXPECT_FALSE(both.ok());
  EXPECT_NE(both.message().find("audit.signing_key_credential and audit.signing_key_file"), std::string::npos);
  for (const char* bad : {"../key", "a/b", ".."}) {
    Config e;
    e.signing_key_credential = bad;
    Status s = e.Validate();
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("audit.signing_key_credential"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace authledger
