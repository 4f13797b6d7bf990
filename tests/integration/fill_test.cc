// Filling an empty store is a bulk load (projections/projector.h): audit rows go
// through sorted runs into ingested SST files (audit_bulk_load.h) and states are
// written once at the end. Whatever path the rows take, the store must come out
// exactly as row-by-row, batch-by-batch projection makes it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include <rocksdb/write_batch.h>

#include "app/node.h"
#include "ledger/embedded_log.h"
#include "projections/audit_bulk_load.h"
#include "projections/audit_entry.h"
#include "projections/projector.h"
#include "projections/store.h"
#include "tests/support/test_node.h"
#include "tests/support/workload.h"

namespace authledger::testing {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<ProjectionStore> OpenStore(const std::string& dir) {
  auto store = ProjectionStore::Open(dir);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

struct AuditRow {
  std::string account;
  TimeMs time;
  Position position;
  std::string bytes;
};

// Rows in no particular order: accounts of several lengths (some longer than the
// loader's inline key prefix, some sharing all of it), times that tie, values of
// every size up to a few KiB.
std::vector<AuditRow> RandomRows(std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<std::string> accounts = {"acct_000000000001",  "acct_zzzzzzzzzzzz",        "a",
                                       "acct_0000000000011", std::string(45, 'x') + "1", std::string(45, 'x') + "2",
                                       std::string(39, 'y')};
  std::vector<AuditRow> rows;
  for (std::size_t i = 0; i < n; ++i) {
    AuditRow r;
    r.account = accounts[rng() % accounts.size()];
    r.time = static_cast<TimeMs>(rng() % 50) - 3;  // a few before 1970: they sort as 0
    r.position = i + 1;
    r.bytes.assign(rng() % 3000, static_cast<char>('a' + rng() % 26));
    rows.push_back(std::move(r));
  }
  std::shuffle(rows.begin(), rows.end(), rng);
  return rows;
}

std::vector<ProjectionStore::Row> AuditRows(ProjectionStore& store) {
  std::vector<ProjectionStore::Row> audit;
  for (auto& row : store.DumpAll())
    if (row.cf == "audit") audit.push_back(std::move(row));
  return audit;
}

TEST(AuditBulkLoadTest, IngestsExactlyWhatRowByRowWritesGive) {
  TempDir dir;
  const auto rows = RandomRows(3000);
  auto by_rows = OpenStore(dir.path() + "/rows");
  ASSERT_TRUE(by_rows);
  rocksdb::WriteBatch wb;
  for (const auto& r : rows) wb.Put(by_rows->cf(Cf::kAudit), AuditKey(r.account, r.time, r.position), r.bytes);
  ASSERT_TRUE(by_rows->Write(&wb).ok());
  const auto expected = AuditRows(*by_rows);
  ASSERT_EQ(expected.size(), rows.size());

  // One buffer (no run files), a few runs, and a run per handful of rows.
  for (std::size_t run_bytes : {std::size_t{64} << 20, std::size_t{1} << 20, std::size_t{16} << 10}) {
    SCOPED_TRACE("run_bytes " + std::to_string(run_bytes));
    const std::string store_dir = dir.path() + "/bulk-" + std::to_string(run_bytes);
    auto bulk = OpenStore(store_dir);
    ASSERT_TRUE(bulk);
    const std::string work = ProjectionStore::FillDir(store_dir);
    {
      AuditBulkLoad load(*bulk, work, run_bytes);
      for (const auto& r : rows) ASSERT_TRUE(load.Add(r.account, r.time, r.position, r.bytes).ok());
      ASSERT_TRUE(load.Finish().ok());
      EXPECT_EQ(load.Finish().code(), Status::Code::kFailedPrecondition);  // once
    }
    EXPECT_FALSE(fs::exists(work)) << "the loader leaves no scratch files";
    EXPECT_EQ(AuditRows(*bulk), expected);
  }
}

TEST(AuditBulkLoadTest, NothingAddedIngestsNothing) {
  TempDir dir;
  auto store = OpenStore(dir.path() + "/p");
  ASSERT_TRUE(store);
  {
    AuditBulkLoad load(*store, ProjectionStore::FillDir(dir.path() + "/p"));
    ASSERT_TRUE(load.Finish().ok());
  }
  EXPECT_TRUE(AuditRows(*store).empty());
}

// A ledger of realistic traffic (the benchmarks' workload): many accounts,
// their keys created, granted, rotated, revoked and used, interleaved.
class FillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = EmbeddedLog::Open(dir_.path() + "/ledger");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    bench::WorkloadOptions w;
    w.events = 6000;
    w.accounts = 40;
    w.threads = 3;
    w.span_days = 400;
    auto r = bench::AppendWorkload(*log_, w);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(log_->Heads().Total(), w.events);
  }

  // Fills a new store with one CatchUp.
  std::vector<ProjectionStore::Row> Fill(const std::string& name, Projector::Options o) {
    auto store = OpenStore(dir_.path() + "/" + name);
    if (!store) return {};
    Projector p(*log_, *store, o);
    EXPECT_TRUE(p.Init().ok());
    std::vector<std::uint64_t> progress;
    EXPECT_TRUE(p.CatchUp([&](const Cursor& c) { progress.push_back(c.Total()); }).ok());
    EXPECT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), log_->Heads().Total());
    EXPECT_EQ(p.applied().Total(), log_->Heads().Total());
    EXPECT_FALSE(fs::exists(ProjectionStore::FillDir(store->dir())));
    return store->DumpAll();
  }

  TempDir dir_;
  std::unique_ptr<EmbeddedLog> log_;
};

TEST_F(FillTest, AFillEqualsBatchByBatchProjection) {
  // Batch by batch, as a live server applies: the first event fills the store,
  // everything after is applied in the live loop's batches of 1024.
  auto live = OpenStore(dir_.path() + "/live");
  ASSERT_TRUE(live);
  {
    Projector p(*log_, *live);
    ASSERT_TRUE(p.Init().ok());
    Cursor first(log_->Partitions());
    first.Advance(MakePosition(0, 1));
    ASSERT_TRUE(p.CatchUpTo(first).ok());
    EXPECT_EQ(p.applied().Total(), 1u);
    p.Start();
    ASSERT_TRUE(p.WaitApplied(log_->Heads(), std::chrono::seconds(60)).ok());
    p.Stop();
  }
  const auto expected = live->DumpAll();
  ASSERT_GT(expected.size(), 6000u);
  for (const auto& row : expected) ASSERT_NE(row.key, ProjectionStore::kFillingKey);

  // Filled at once: audit rows in one buffer, every state cached to the end.
  EXPECT_EQ(Fill("filled", Projector::Options{}), expected);
  // Filled with a tiny cache (states written as it overflows, read back later)
  // and tiny runs (many run files, merged).
  EXPECT_EQ(Fill("evicting", Projector::Options{3, 16 << 10}), expected);
}

TEST_F(FillTest, AHalfFilledStoreIsDeletedAndFilledAgain) {
  const std::string dir = dir_.path() + "/p";
  {
    auto store = OpenStore(dir);
    ASSERT_TRUE(store);
    // What a crash in the middle of a fill leaves: the mark, some rows, scratch files.
    rocksdb::WriteBatch wb;
    wb.Put(store->cf(Cf::kMeta), ProjectionStore::kFillingKey, "");
    wb.Put(store->cf(Cf::kAccounts), "acct_000000000001", "half");
    wb.Put(store->cf(Cf::kAudit), AuditKey("acct_000000000001", 5, 1), "{}");
    ASSERT_TRUE(store->Write(&wb).ok());
    ASSERT_TRUE(store->Flush().ok());
    fs::create_directories(ProjectionStore::FillDir(dir));
    std::ofstream(ProjectionStore::FillDir(dir) + "/run-0") << "partial";
  }
  auto store = OpenStore(dir);
  ASSERT_TRUE(store);
  const auto rows = store->DumpAll();
  ASSERT_EQ(rows.size(), 1u) << "only the format is left";
  EXPECT_EQ(rows[0].key, "format");
  EXPECT_FALSE(fs::exists(ProjectionStore::FillDir(dir)));
  store.reset();
  EXPECT_EQ(Fill("p", Projector::Options{}), Fill("fresh", Projector::Options{}));
}

// An account with more keys than the projector scans for duplicates when it
// marks a key changed (64): the sorted-out list must still write every key.
TEST(FillManyKeysTest, AnAccountWithManyKeysRebuildsIdentically) {
  TestNode t([](Config& c) {
    c.max_live_keys = 200;
    c.key_writes_per_minute = 1000;  // 200 writes in a test minute
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i)
    ids.push_back(t.CreateKey({{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}})["id"]);
  for (const std::string& id : ids)
    ASSERT_EQ(t.http().Call("POST", "/v1/keys/" + id + "/scopes", t.admin_key(), {{"scopes", {"alerts:read"}}}).status,
              200);
  t.Shutdown();
  auto live = OpenStore(t.config().ProjectionsDir());
  ASSERT_TRUE(live);
  const auto expected = live->DumpAll();
  live.reset();
  ASSERT_TRUE(Rebuild(t.config(), nullptr).ok());
  auto rebuilt = OpenStore(t.config().ProjectionsDir());
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->DumpAll(), expected);
}

}  // namespace
}  // namespace authledger::testing
