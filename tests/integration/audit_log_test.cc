// GET /v1/audit-log: newest first, actor/time/IP/endpoint, cursor paging.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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

  // limit: a decimal integer 1..500 (json); no sign, no space, no overflow.
  for (const char* limit : {"0", "501", "", "-1", "%2B5", "%205", "5x", "0x10", "99999999999999999999"}) {
    auto r = http.Call("GET", std::string("/v1/audit-log?limit=") + limit, t.admin_key());
    EXPECT_EQ(r.status, 400) << limit;
    EXPECT_NE(r.body.find("limit must be an integer from 1 to 500"), std::string::npos) << limit << ": " << r.body;
  }
  EXPECT_EQ(http.Call("GET", "/v1/audit-log?limit=500", t.admin_key()).status, 200);
  EXPECT_EQ(http.Call("GET", "/v1/audit-log?limit=0002", t.admin_key()).json()["entries"].size(), 2u);
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

// Filters, order, formats and the retention window, with the test clock.
TEST(AuditLogTest, FiltersOrderFormatsAndTheRetentionWindow) {
  TestNode t;
  auto& http = t.http();
  const std::string admin = t.admin_key();
  json a = t.CreateKey({{"name", "a"}, {"scopes", {"monitors:read"}}});  // day 0
  t.clock().Advance(10 * kDayMs);
  json b = t.CreateKey({{"name", "b,\"=cmd\""}, {"scopes", {"alerts:read"}}});  // day 10
  ASSERT_EQ(http.Call("DELETE", "/v1/keys/" + a["id"].get<std::string>(), admin).status, 200);
  t.clock().Advance(10 * kDayMs);  // day 20
  ASSERT_EQ(
      http.Call("POST", "/v1/keys/" + b["id"].get<std::string>() + "/scopes", admin, {{"scopes", {"monitors:read"}}})
          .status,
      200);
  auto entries = [&](const std::string& query) {
    auto r = http.Call("GET", "/v1/audit-log" + query, admin);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    return r.json()["entries"];
  };
  auto types = [](const json& es) {
    std::vector<std::string> v;
    for (const auto& e : es) v.push_back(e["type"].get<std::string>().substr(14));  // drop "io.authledger."
    return v;
  };
  // type, key and time filters
  EXPECT_EQ(types(entries("?type=io.authledger.key.revoked.v1")), (std::vector<std::string>{"key.revoked.v1"}));
  EXPECT_EQ(entries("?key_id=" + a["id"].get<std::string>()).size(), 2u);  // created + revoked
  EXPECT_EQ(types(entries("?since=2026-01-05T00:00:00Z&until=2026-01-15T00:00:00Z")),
            (std::vector<std::string>{"key.revoked.v1", "key.created.v1"}));
  EXPECT_EQ(entries("?type=io.authledger.key.created.v1,io.authledger.account.created.v1").size(), 4u);
  EXPECT_EQ(entries("?actor=tester").size(), 2u);  // bootstrap's two events
  EXPECT_EQ(entries("?ip=127.0.0.1").size(), 4u);  // every REST change
  // oldest first
  EXPECT_EQ(types(entries("?order=oldest&limit=2")),
            (std::vector<std::string>{"account.created.v1", "key.created.v1"}));
  // paging in both orders gives the same entries, reversed
  auto all = [&](const std::string& order) {
    json out = json::array();
    std::string cursor;
    for (int i = 0; i < 10; ++i) {
      auto r =
          http.Call("GET", "/v1/audit-log?limit=2&order=" + order + (cursor.empty() ? "" : "&cursor=" + cursor), admin);
      json body = r.json();
      for (auto& e : body["entries"]) out.push_back(e);
      if (body["next_cursor"].is_null()) break;
      cursor = body["next_cursor"];
    }
    return out;
  };
  json newest = all("newest"), oldest = all("oldest");
  ASSERT_EQ(newest.size(), 6u);
  std::reverse(oldest.begin(), oldest.end());
  EXPECT_EQ(newest, oldest);
  // JSON Lines and CSV exports
  auto jsonl = http.Call("GET", "/v1/audit-log?format=jsonl&limit=2", admin);
  EXPECT_EQ(jsonl.header("content-type"), "application/x-ndjson");
  EXPECT_EQ(std::count(jsonl.body.begin(), jsonl.body.end(), '\n'), 2);
  EXPECT_FALSE(jsonl.header("x-next-cursor").empty());
  auto csv = http.Call("GET", "/v1/audit-log?format=csv", admin);
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.body.rfind("position,time,type,", 0), 0u);
  EXPECT_NE(csv.body.find("\"{\"\"key_id\"\""), std::string::npos) << csv.body;  // JSON quoted per RFC 4180
  EXPECT_EQ(csv.body.find(",=cmd"), std::string::npos);                          // no bare formula cells
  // bad parameters
  for (const char* q : {"?since=yesterday", "?type=io.authledger.nope.v1", "?order=sideways", "?format=xml",
                        "?key_id=short", "?ip=999.1.1.1", "?limit=10001&format=csv", "?cursor=12"})
    EXPECT_EQ(http.Call("GET", std::string("/v1/audit-log") + q, admin).status, 400) << q;
  // The 365-day window (inclusive): at day 375 the day-10 events are exactly at its edge...
  t.clock().Set(TestNode::kStart + 375 * kDayMs);
  EXPECT_EQ(entries("").size(), 3u);
  // ...and a millisecond later they have left the view; the ledger keeps them.
  t.clock().Advance(1);
  EXPECT_EQ(types(entries("")), (std::vector<std::string>{"key.scopes_granted.v1"}));
  EXPECT_EQ(types(entries("?since=2025-01-01T00:00:00Z")), (std::vector<std::string>{"key.scopes_granted.v1"}));
  t.clock().Advance(kDayMs * 20);
  EXPECT_TRUE(entries("").empty());
  EXPECT_GE(t.node().log().Heads().Total(), 6u);
}

// A dashboard backend names the person it acts for; the audit trail shows that
// email next to the key that made the call, filters by it, and exports it.
TEST(AuditLogTest, ShowsTheEmailOfThePersonAKeyActedFor) {
  TestNode t;
  auto& http = t.http();
  auto as = [&](const std::string& email) {
    return std::map<std::string, std::string>{
        {"Authorization", "Bearer " + t.admin_key()}, {"Content-Type", "application/json"}, {"X-Actor-Email", email}};
  };
  const std::string body = R"({"name":"for alice","scopes":["monitors:read"]})";
  auto created = http.Request("POST", "/v1/keys", body, as("Alice.Smith@Example.COM"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["id"];
  t.clock().Advance(kSecondMs);
  ASSERT_EQ(http.Request("DELETE", "/v1/keys/" + id, "", as("bob@example.com")).status, 200);
  t.clock().Advance(kSecondMs);
  ASSERT_EQ(http.Call("POST", "/v1/keys", t.admin_key(), {{"name", "nobody's"}, {"scopes", {"monitors:read"}}}).status,
            201);

  auto all = http.Call("GET", "/v1/audit-log", t.admin_key()).json()["entries"];
  ASSERT_GE(all.size(), 3u);
  EXPECT_FALSE(all[0]["actor"].contains("email")) << "no header, no email";
  EXPECT_EQ(all[1]["type"], "io.authledger.key.revoked.v1");
  EXPECT_EQ(all[1]["actor"]["email"], "bob@example.com");
  EXPECT_EQ(all[2]["actor"]["email"], "Alice.Smith@example.com") << "domain lowercased, local part kept";
  EXPECT_EQ(all[2]["actor"]["type"], "key");
  EXPECT_EQ(all[2]["actor"]["id"], all[0]["actor"]["id"]) << "the authenticated key is still the actor id";

  // Filter by email (the domain in any case) or by the key id.
  auto by_alice = http.Call("GET", "/v1/audit-log?actor=Alice.Smith@EXAMPLE.com", t.admin_key());
  ASSERT_EQ(by_alice.status, 200) << by_alice.body;
  ASSERT_EQ(by_alice.json()["entries"].size(), 1u);
  EXPECT_EQ(by_alice.json()["entries"][0]["key_id"], id);
  EXPECT_EQ(http.Call("GET", "/v1/audit-log?actor=alice.smith@example.com", t.admin_key()).json()["entries"].size(), 0u)
      << "the local part is case-sensitive";
  const std::string key_actor = all[0]["actor"]["id"];
  EXPECT_GE(http.Call("GET", "/v1/audit-log?actor=" + key_actor, t.admin_key()).json()["entries"].size(), 3u);
  EXPECT_EQ(http.Call("GET", "/v1/audit-log?actor=a@b", t.admin_key()).status, 400);

  auto csv = http.Call("GET", "/v1/audit-log?format=csv&actor=bob@example.com", t.admin_key());
  ASSERT_EQ(csv.status, 200);
  EXPECT_TRUE(csv.body.starts_with("position,time,type,account_seq,subject,key_id,client_id,actor_type,actor_id,"
                                   "actor_email,actor_ip,actor_endpoint,changes\r\n"))
      << csv.body;
  EXPECT_NE(csv.body.find(",key," + key_actor + ",bob@example.com,127.0.0.1,DELETE /v1/keys/{id},"), std::string::npos)
      << csv.body;

  // A malformed or repeated header is refused at the edge, and nothing is appended.
  const Position head = t.node().log().Heads().at(0);
  for (const std::string bad : {"not-an-email", "alice@localhost", "al ice@example.com"}) {
    auto r = http.Request("POST", "/v1/keys", body, as(bad));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(r.body.find("X-Actor-Email"), std::string::npos) << r.body;
  }
  auto twice = http.Raw("POST /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t.admin_key() +
                        "\r\nContent-Type: application/json\r\nX-Actor-Email: a@example.com\r\n"
                        "X-Actor-Email: b@example.com\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  EXPECT_EQ(twice.rfind("HTTP/1.1 400", 0), 0u) << twice;
  EXPECT_NE(twice.find("at most once"), std::string::npos) << twice;
  EXPECT_EQ(t.node().log().Heads().at(0), head);
}

}  // namespace
}  // namespace authledger::testing
