// TestNode: a real authledger node for integration tests — embedded ledger and
// RocksDB projections in a fresh temp directory, HTTP on a loopback port chosen
// by the OS, and a ManualClock the test advances. Bootstraps one account with an
// admin key (admin:*). With AUTHLEDGER_TEST_DUMP_DIR set, the destructor appends
// every event of its ledger to <dir>/events-<pid>-<n>.jsonl (one file per
// ledger), which tests/schemas/suite.sh validates against the event schemas.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "app/node.h"
#include "tests/support/http_client.h"

namespace authledger::testing {

// A unique empty directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class TestNode {
 public:
  // 2026-01-01T00:00:00Z: a fixed start so time-dependent results are repeatable.
  static constexpr TimeMs kStart = 1767225600000;

  TestNode();  // new data dir + bootstrap + serve
  // The same, with `configure` applied to the configuration first.
  explicit TestNode(const std::function<void(Config&)>& configure);
  ~TestNode();

  // Stops the server and closes everything (the data dir stays).
  void Shutdown();
  // Opens the same data dir again and serves (same clock).
  void Restart();

  Node& node() { return *node_; }
  HttpClient& http() { return *http_; }
  ManualClock& clock() { return clock_; }
  Config& config() { return config_; }
  const std::string& data_dir() const { return dir_.path(); }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& account_id() const { return account_id_; }

  // For tests that break the ledger on purpose: its events are not dumped for
  // the schema suite (which re-checks every chain).
  void SkipEventDump() { skip_dump_ = true; }

  // Creates a key through the API; returns the response JSON (with "key").
  nlohmann::json CreateKey(const nlohmann::json& body, const std::string& bearer = "");

 private:
  void Start();
  void DumpEvents();
  TempDir dir_;
  ManualClock clock_{kStart};
  Config config_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<HttpClient> http_;
  std::string admin_key_;
  std::string account_id_;
  bool skip_dump_ = false;
};

}  // namespace authledger::testing
