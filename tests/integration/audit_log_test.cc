// GET /v1/audit-log: newest first, actor/time/IP/endpoint, cursor paging.
#include <gtest/gtest.h>

#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;

TEST(AuditLogTest, ShowsEveryChangeNewestFirstWithActorAndPaging) {
  TestNode t;
  auto& http = t.http();
  json k = t.CreateKey({{"name", "a"}, {"scopes", {"monitors:read"}}});
  t.clock().Advance(kSecondMs);
  std::string id = k["id"];
  ASSERT_EQ(http.Call("POST", "/v1/keys/" + id + "/scopes", t.admin_key(), {{"scopes", {"alerts:read"}}}).status, 200);
  t.clock().Advance(kSecondMs);
  ASSERT_EQ(http.Call("DELETE", "/v1/keys/" + id, t.admin_key()).status, 200);

  auto r = http.Call("GET", "/v1/audit-log", t.admin_key());
  ASSERT_EQ(r.status, 200) << r.body;
  json entries = r.json()["entries"];
  ASSERT_EQ(entries.size(), 5u);  // account.created, bootstrap key, key, scopes, revoke
  EXPECT_TRUE(r.json()["next_cursor"].is_null());
  EXPECT_EQ(entries[0]["type"], "io.authledger.key.revoked.v1");
  EXPECT_EQ(entries[0]["key_id"], id);
  EXPECT_EQ(entries[0]["time"], "2026-01-01T00:00:02.000Z");
  EXPECT_EQ(entries[0]["actor"]["type"], "key");
  EXPECT_EQ(entries[0]["actor"]["ip"], "127.0.0.1");
  EXPECT_EQ(entries[0]["actor"]["endpoint"], "DELETE /v1/keys/{id}");
  EXPECT_EQ(entries[1]["type"], "io.authledger.key.scopes_granted.v1");
  EXPECT_EQ(entries[1]["changes"]["scopes"], json({"alerts:read"}));
  EXPECT_EQ(entries[2]["type"], "io.authledger.key.created.v1");
  EXPECT_EQ(entries[2]["changes"]["name"], "a");
  EXPECT_FALSE(entries[2]["changes"].contains("secret_hash"));
  EXPECT_EQ(entries[4]["type"], "io.authledger.account.created.v1");
  EXPECT_EQ(entries[4]["actor"]["type"], "cli");
  for (std::size_t i = 1; i < entries.size(); ++i)
    EXPECT_GT(entries[i - 1]["position"].get<Position>(), entries[i]["position"].get<Position>());
  EXPECT_EQ(r.body.find(k["key"].get<std::string>().substr(20)), std::string::npos);

  // Paging: 2 + 2 + 1, same entries in the same order.
  json paged = json::array();
  std::string cursor;
  int pages = 0;
  do {
    auto p = http.Call("GET", "/v1/audit-log?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), t.admin_key());
    ASSERT_EQ(p.status, 200) << p.body;
    json body = p.json();
    for (auto& e : body["entries"]) paged.push_back(e);
    cursor = body["next_cursor"].is_null() ? "" : body["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(paged, entries);

  EXPECT_EQ(http.Call("GET", "/v1/audit-log?limit=0", t.admin_key()).status, 400);
  EXPECT_EQ(http.Call("GET", "/v1/audit-log?limit=501", t.admin_key()).status, 400);
  EXPECT_EQ(http.Call("GET", "/v1/audit-log?cursor=abc", t.admin_key()).status, 400);
  EXPECT_EQ(http.Call("GET", "/v1/audit-log", "").status, 401);
}

TEST(AuditLogTest, AccountsSeeOnlyTheirOwnHistory) {
  TestNode t;
  json reader = t.CreateKey({{"name", "r"}, {"scopes", {"monitors:read"}}});
  EXPECT_EQ(t.http().Call("GET", "/v1/audit-log", reader["key"]).status, 403);
  auto entries = t.http().Call("GET", "/v1/audit-log", t.admin_key()).json()["entries"];
  for (const auto& e : entries) EXPECT_EQ(e.count("account_id"), 0u);  // implied by the caller
  EXPECT_EQ(entries.size(), 3u);
}

}  // namespace
}  // namespace authledger::testing
