#include "tests/support/test_node.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>

#include <filesystem>
#include <stdexcept>
#include "app/ledger.h"
#include "ledger/scan.h"

namespace authledger::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/authledger-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestNode::TestNode() : TestNode([](Config&) {}) {}

TestNode::TestNode(const std::function<void(Config&)>& configure) {
  config_.data_dir = dir_.path() + "/data";
  config_.listen = "127.0.0.1:0";
  config_.threads = 2;
  config_.usage_flush_interval = kHourMs;  // usage is flushed explicitly (or at Stop) in tests
  configure(config_);
  auto boot = Bootstrap(config_, clock_, "test-account", "tester", false);
  if (!boot.ok()) throw std::runtime_error("bootstrap: " + boot.status().ToString());
  admin_key_ = boot->full_key;
  account_id_ = boot->account_id;
  Start();
}

TestNode::~TestNode() {
  Shutdown();
  DumpEvents();
}

void TestNode::DumpEvents() {
  const char* dir = std::getenv("AUTHLEDGER_TEST_DUMP_DIR");
  if (!dir || !*dir || skip_dump_) return;
  static std::atomic<int> counter{0};
  auto ledger = OpenLedger(config_, LedgerAccess::kReadOnly);
  if (!ledger.ok()) return;
  std::ofstream out(std::string(dir) + "/events-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                    ".jsonl");
  (void)ScanLedger(*ledger->log, [&](const StoredEvent& e) {
    out << e.bytes << "\n";
    return Status::Ok();
  });
}

void TestNode::Start() {
  auto n = Node::Open(config_, clock_);
  if (!n.ok()) throw std::runtime_error("open node: " + n.status().ToString());
  node_ = std::move(n).value();
  if (Status s = node_->Serve(); !s.ok()) throw std::runtime_error("serve: " + s.ToString());
  http_ = std::make_unique<HttpClient>(node_->port());
}

void TestNode::Shutdown() {
  http_.reset();
  if (node_) node_->Stop();
  node_.reset();
}

void TestNode::Restart() {
  Shutdown();
  Start();
}

nlohmann::json TestNode::CreateKey(const nlohmann::json& body, const std::string& bearer) {
  auto r = http_->Call("POST", "/v1/keys", bearer.empty() ? admin_key_ : bearer, body);
  if (r.status != 201) throw std::runtime_error("create key: " + std::to_string(r.status) + " " + r.body);
  return r.json();
}

}  // namespace authledger::testing
