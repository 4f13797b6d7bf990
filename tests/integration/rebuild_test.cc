// `rebuild` drops every projection and replays the ledger; the result must be
// byte-identical in every column family.
#include <gtest/gtest.h>

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
      ASSERT_EQ(http.Call("POST", "/v1/keys/" + id + "/scopes", t.admin_key(), {{"scopes", {"alerts:read"}}}).status, 200);
      ASSERT_EQ(http.Call("POST", "/v1/keys/verify", "", {{"key", k["key"]}}).json()["code"], "VALID");
      t.node().usage().Flush();
    }
  }
  t.Shutdown();  // appends a final checkpoint
  Position head = 0;
  {
    auto log = EmbeddedLog::Open(t.config().LedgerDir());
    ASSERT_TRUE(log.ok());
    head = (*log)->Head();
  }
  auto before = Dump(t.config());
  ASSERT_GT(before.size(), 20u);

  std::vector<Position> progress;
  ASSERT_TRUE(Rebuild(t.config(), [&](Position p, Position h) {
                progress.push_back(p);
                EXPECT_EQ(h, head);
              }).ok());
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), head);
  auto after = Dump(t.config());
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) ASSERT_EQ(before[i], after[i]) << "row " << i << " cf " << before[i].cf;

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

}  // namespace
}  // namespace authledger::testing
