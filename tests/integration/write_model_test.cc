// Per-entity write models over real HTTP and RocksDB: a command loads the account's
// header and only the keys it names; the header's counters keep the limits without
// scanning keys, through expiry, rotation and revocation; and they survive a rebuild.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/node.h"
#include "tests/support/test_node.h"

namespace authledger {
namespace {

using json = nlohmann::json;
using testing::TestNode;

TEST(WriteModelTest, AnAccountIsLoadedWithOnlyTheNamedKeys) {
  TestNode t([](Config& c) { c.max_live_keys = 200; });
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back(t.CreateKey({{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}})["id"]);
  const Queries& q = t.node().queries();
  auto header = q.Account(t.account_id());
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_TRUE(header->keys.empty());
  EXPECT_EQ(header->CountLiveKeys(t.clock().Now()), 41u);  // and the bootstrap key
  auto two = q.Account(t.account_id(), EntityRefs::Keys({ids[3], ids[17], "NoSuchKey001"}));
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->keys.size(), 2u);
  EXPECT_TRUE(two->FindKey(ids[3]) && two->FindKey(ids[17]));
}

TEST(WriteModelTest, TheLiveKeyLimitFollowsExpiryRotationAndRevocationWithoutAScan) {
  TestNode t([](Config& c) { c.max_live_keys = 4; });  // the bootstrap key is one
  const TimeMs now = t.clock().Now();
  auto create = [&](const json& extra) {
    json body = {{"name", "k"}, {"scopes", {"monitors:read"}}};
    if (extra.is_object()) body.update(extra);
    return t.http().Call("POST", "/v1/keys", t.admin_key(), body);
  };
  auto expiring = create({{"expires_at", FormatRfc3339(now + kHourMs)}});
  ASSERT_EQ(expiring.status, 201) << expiring.body;
  auto plain = create(json::object());
  ASSERT_EQ(plain.status, 201) << plain.body;
  auto third = create(json::object());
  ASSERT_EQ(third.status, 201) << third.body;
  EXPECT_EQ(create(json::object()).status, 422);  // 4 live

  // The expiring key ends: a slot frees itself, with no event.
  t.clock().Advance(kHourMs);
  auto fourth = create(json::object());
  ASSERT_EQ(fourth.status, 201) << fourth.body;
  EXPECT_EQ(create(json::object()).status, 422);

  // A rotation keeps the old key live for its grace period, then frees it; with
  // one, it is a create and needs a free slot.
  const std::string plain_id = plain.json()["id"];
  auto full =
      t.http().Call("POST", "/v1/keys/" + plain_id + "/rotate", t.admin_key(), json{{"grace_period_seconds", 60}});
  EXPECT_EQ(full.status, 422) << full.body;  // 4 live: no room for the replacement beside the old key
  const std::string third_id = third.json()["id"];
  ASSERT_EQ(t.http().Call("DELETE", "/v1/keys/" + third_id, t.admin_key()).status, 200);  // 3 live
  auto rotated =
      t.http().Call("POST", "/v1/keys/" + plain_id + "/rotate", t.admin_key(), json{{"grace_period_seconds", 60}});
  ASSERT_EQ(rotated.status, 201) << rotated.body;
  EXPECT_EQ(create(json::object()).status, 422);  // old key still rotating: 4 live
  t.clock().Advance(61 * kSecondMs);
  EXPECT_EQ(create(json::object()).status, 201);  // its grace ended: 3 live, then 4
  EXPECT_EQ(create(json::object()).status, 422);

  // The counters are derived data: a rebuild gives the same header, byte for byte.
  // (Stopping appends the usage of the admin key: read `before` once that is in.)
  t.Shutdown();
  t.Restart();
  auto before = t.node().queries().Account(t.account_id());
  ASSERT_TRUE(before.ok());
  t.Shutdown();
  ASSERT_TRUE(Rebuild(t.config(), nullptr).ok());
  t.Restart();
  auto after = t.node().queries().Account(t.account_id());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(*after == *before);
  EXPECT_EQ(create(json::object()).status, 422);
}

}  // namespace
}  // namespace authledger
