// `rebuild` drops every projection and replays the ledger; the result must be
// byte-identical in every column family.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <map>

#include <filesystem>

#include <rocksdb/db.h>

#include "app/replay.h"
#include "ledger/embedded_log.h"
#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;

std::vector<ProjectionStore::Row> Dump(const Config& c) {
  auto store = ProjectionStore::Open(c.ProjectionsDir());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return (*store)->DumpAll();
}

TEST(RebuildTest, RebuiltProjectionsAreByteIdentical) {
  TestNode t;
  auto& http = t.http();
  for (int i = 0; i < 6; ++i) {
    json k = t.CreateKey({{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
    std::string id = k["id"];
    t.clock().Advance(kMinuteMs);
    if (i % 2 == 0) {
      ASSERT_EQ(http.Call("POST", "/v1/keys/" + id + "/rotate", t.admin_key()).status, 201);
    }
    if (i % 3 == 0) {
      ASSERT_EQ(http.Call("DELETE", "/v1/keys/" + id, t.admin_key()).status, 200);
    }
    if (i == 1) {
      ASSERT_EQ(http.Call("POST", "/v1/keys/" + id + "/scopes", t.admin_key(), {{"scopes", {"alerts:read"}}}).status,
                200);
      ASSERT_EQ(http.Call("POST", "/v1/keys/verify", "", {{"key", k["key"]}}).json()["code"], "VALID");
      t.node().usage().Flush();
    }
  }
  // OAuth clients (confidential and public; rotated, deleted), some calls naming the person acted for.
  const std::map<std::string, std::string> as_alice = {{"Authorization", "Bearer " + t.admin_key()},
                                                       {"Content-Type", "application/json"},
                                                       {"X-Actor-Email", "alice@example.com"}};
  auto web =
      http.Request("POST", "/v1/oauth/clients",
                   R"({"name":"web","redirect_uris":["https://a.example/cb"],"scopes":["monitors:read"]})", as_alice);
  ASSERT_EQ(web.status, 201) << web.body;
  auto cli = http.Call("POST", "/v1/oauth/clients", t.admin_key(),
                       {{"name", "cli"},
                        {"redirect_uris", {"http://localhost/cb"}},
                        {"scopes", {"monitors:read"}},
                        {"grant_types", {"authorization_code"}},
                        {"token_endpoint_auth_method", "none"}});
  ASSERT_EQ(cli.status, 201) << cli.body;
  t.clock().Advance(kMinuteMs);
  const std::string web_id = web.json()["id"];
  ASSERT_EQ(http.Request("POST", "/v1/oauth/clients/" + web_id + "/rotate-secret", "", as_alice).status, 200);
  ASSERT_EQ(http.Call("DELETE", "/v1/oauth/clients/" + cli.json()["id"].get<std::string>(), t.admin_key()).status, 200);
  t.Shutdown();  // appends a final checkpoint
  Position head = 0;
  {
    auto log = EmbeddedLog::Open(t.config().LedgerDir());
    ASSERT_TRUE(log.ok());
    head = (*log)->Head();
  }
  auto before = Dump(t.config());
  ASSERT_GT(before.size(), 20u);
  ASSERT_EQ(std::count_if(before.begin(), before.end(), [](const auto& r) { return r.cf == "account_clients"; }), 2);

  std::vector<Position> progress;
  ASSERT_TRUE(Rebuild(t.config(), [&](Position p, Position h) {
                progress.push_back(p);
                EXPECT_EQ(h, head);
              }).ok());
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), head);
  auto after = Dump(t.config());
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i)
    ASSERT_EQ(before[i], after[i]) << "row " << i << " cf " << before[i].cf;

  // A replay up to the head builds the very same read models, through the same projector.
  std::string out = t.data_dir() + "/replay-at-head";
  auto until = ParseReplayUntil(std::to_string(head));
  ASSERT_TRUE(until.ok());
  auto info = Replay(t.config(), *until, out, false, nullptr);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->position, head);
  {
    auto replayed = ProjectionStore::Open(out + "/projections");
    ASSERT_TRUE(replayed.ok());
    EXPECT_EQ((*replayed)->DumpAll(), after);
  }

  // The rebuilt node serves the same answers.
  t.Restart();
  EXPECT_EQ(t.http().Call("GET", "/v1/keys", t.admin_key()).json()["keys"].size(), 10u);
}

TEST(RebuildTest, DeletedProjectionsAreRebuiltOnStart) {
  TestNode t;
  json k = t.CreateKey({{"name", "x"}, {"scopes", {"monitors:read"}}});
  t.Shutdown();
  auto before = Dump(t.config());
  ASSERT_TRUE(ProjectionStore::Destroy(t.config().ProjectionsDir()).ok());
  t.Restart();  // a fresh, empty store catches up from position 0
  t.Shutdown();
  EXPECT_EQ(Dump(t.config()), before);
  t.Restart();
  EXPECT_EQ(t.http().Call("POST", "/v1/keys/verify", "", {{"key", k["key"]}}).json()["code"], "VALID");
}

// Projections written by an older version (format 1: JSON values and an extra
// "audit_time" family; no "format" key) are derived data: the server deletes them
// and rebuilds them from the ledger instead of misreading them.
TEST(RebuildTest, ProjectionsOfAnotherFormatAreReplacedOnStart) {
  TestNode t;
  json k = t.CreateKey({{"name", "x"}, {"scopes", {"monitors:read"}}});
  t.Shutdown();
  const std::string dir = t.config().ProjectionsDir();
  auto damage = [&](bool add_old_family) {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DBOptions o;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "meta") {
        ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[i], "format").ok());
      }
      if (names[i] == "accounts") {  // what format 1 stored: JSON
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], t.account_id(), R"({"id":"x","seq":1})").ok());
      }
    }
    if (add_old_family) {
      rocksdb::ColumnFamilyHandle* h = nullptr;
      ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "audit_time", &h).ok());
      handles.push_back(h);
    }
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  };
  for (bool add_old_family : {false, true}) {
    SCOPED_TRACE(add_old_family ? "old column families" : "no format key");
    damage(add_old_family);
    t.Restart();
    EXPECT_EQ(t.http().Call("POST", "/v1/keys/verify", "", {{"key", k["key"]}}).json()["code"], "VALID");
    EXPECT_EQ(t.http().Call("GET", "/v1/keys", t.admin_key()).json()["keys"].size(), 2u);
    t.Shutdown();
    // What the server rebuilt is what a rebuild gives, in today's families only.
    const auto served = Dump(t.config());
    EXPECT_EQ(served[1].key, "format");
    EXPECT_EQ(served[1].value, std::to_string(ProjectionStore::kFormat));
    ASSERT_TRUE(Rebuild(t.config(), nullptr).ok());
    EXPECT_EQ(Dump(t.config()), served);
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    EXPECT_EQ(std::count(names.begin(), names.end(), "audit_time"), 0);
  }
}

// A RocksDB directory that is not a projection store of ours is never deleted.
TEST(RebuildTest, AForeignDatabaseIsNotDeleted) {
  const std::string dir = ::testing::TempDir() + "/authledger-foreign-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "precious", "data").ok());
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "other", &h).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto store = ProjectionStore::Open(dir);
  EXPECT_FALSE(store.ok());
  {
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs{{rocksdb::kDefaultColumnFamilyName, {}}, {"other", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string v;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), handles[0], "precious", &v).ok());
    EXPECT_EQ(v, "data");
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace authledger::testing
