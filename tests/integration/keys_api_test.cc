// The API-key lifecycle over real HTTP on loopback: every endpoint and its errors.
#include <gtest/gtest.h>

#include <cstdio>

#include <sstream>
#include <thread>

#include "commands/await.h"
#include "commands/handlers.h"
#include "domain/api_key.h"
#include "gateway/responses.h"
#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;

class KeysApiTest : public ::testing::Test {
 protected:
  TestNode t;
  HttpClient& http() { return t.http(); }
  const std::string& admin() { return t.admin_key(); }

  json Verify(const std::string& key, const std::string& scope = "", const std::string& ip = "") {
    json body = {{"key", key}};
    if (!scope.empty()) body["scope"] = scope;
    if (!ip.empty()) body["ip"] = ip;
    auto r = http().Call("POST", "/v1/keys/verify", "", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  Position Head() { return t.node().log().Heads().at(0); }
  void ExpectProblem(const HttpResult& r, int status, const std::string& detail_part = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    json j = r.json();
    EXPECT_EQ(j["status"], status);
    EXPECT_TRUE(j["title"].is_string());
    EXPECT_TRUE(j["type"].is_string());
    if (!detail_part.empty()) {
      EXPECT_NE(j["detail"].get<std::string>().find(detail_part), std::string::npos) << r.body;
    }
  }
};

TEST_F(KeysApiTest, CreateShowsKeyOnceAndItVerifies) {
  Position before = Head();
  auto r = http().Call(
      "POST", "/v1/keys", admin(),
      {{"name", "prod-monitoring-cli"}, {"scopes", {"monitors:read", "alerts:read"}}, {"environment", "live"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json k = r.json();
  std::string key = k["key"];
  auto parsed = ParseApiKey(key);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->brand, "al");
  EXPECT_EQ(parsed->environment, KeyEnvironment::kLive);
  EXPECT_EQ(k["id"], std::string(parsed->key_id));
  EXPECT_EQ(k["name"], "prod-monitoring-cli");
  EXPECT_EQ(k["scopes"], json({"alerts:read", "monitors:read"}));
  EXPECT_EQ(k["status"], "active");
  EXPECT_EQ(k["created_at"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(r.header("location"), "/v1/keys/" + k["id"].get<std::string>());
  EXPECT_EQ(k["position"].get<Position>(), Head());
  EXPECT_EQ(r.header("x-ledger-position"), std::to_string(Head()));
  EXPECT_GT(Head(), before);

  json v = Verify(key, "monitors:read");
  EXPECT_EQ(v["valid"], true);
  EXPECT_EQ(v["code"], "VALID");
  EXPECT_EQ(v["key_id"], k["id"]);
  EXPECT_EQ(v["account_id"], t.account_id());
  EXPECT_EQ(v["environment"], "live");

  // Shown once: reads never include the key or its hash.
  auto get = http().Call("GET", "/v1/keys/" + k["id"].get<std::string>(), admin());
  ASSERT_EQ(get.status, 200);
  EXPECT_FALSE(get.json().contains("key"));
  EXPECT_EQ(get.body.find(std::string(parsed->secret)), std::string::npos);
  EXPECT_EQ(get.body.find("secret_hash"), std::string::npos);
  auto list = http().Call("GET", "/v1/keys", admin());
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(std::string(parsed->secret)), std::string::npos);
  ASSERT_EQ(list.json()["keys"].size(), 2u);  // bootstrap admin + this one
  json listed, all = list.json()["keys"];
  for (const auto& item : all) {
    if (item["id"] == k["id"]) listed = item;
  }
  EXPECT_EQ(listed["name"], "prod-monitoring-cli");
  EXPECT_TRUE(listed["last_used_at"].is_null());
}

TEST_F(KeysApiTest, TestEnvironmentKeysAndDefaults) {
  json k = t.CreateKey({{"name", "staging"}, {"scopes", {"metrics:read"}}, {"environment", "test"}});
  EXPECT_EQ(k["key"].get<std::string>().rfind("al_test_", 0), 0u);
  EXPECT_EQ(k["environment"], "test");
  json d = t.CreateKey({{"name", "default-env"}, {"scopes", {"metrics:read"}}});
  EXPECT_EQ(d["environment"], "live");
}

TEST_F(KeysApiTest, ManagementNeedsAValidBearerKey) {
  auto none = http().Call("GET", "/v1/keys", "");
  ExpectProblem(none, 401);
  EXPECT_NE(none.header("www-authenticate").find("Bearer"), std::string::npos);
  ExpectProblem(http().Request("GET", "/v1/keys", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401, "Bearer");
  ExpectProblem(http().Call("GET", "/v1/keys", "al_live_notakey"), 401);
  std::string typo = admin();
  typo[12] = typo[12] == 'a' ? 'b' : 'a';
  ExpectProblem(http().Call("GET", "/v1/keys", typo), 401, "checksum");
}

TEST_F(KeysApiTest, MissingScopeIs403) {
  json reader = t.CreateKey({{"name", "reader"}, {"scopes", {"monitors:read"}}});
  auto r = http().Call("GET", "/v1/keys", reader["key"]);
  ExpectProblem(r, 403, "keys:admin");
  EXPECT_NE(r.header("www-authenticate").find("insufficient_scope"), std::string::npos);
  ExpectProblem(http().Call("POST", "/v1/keys", reader["key"], {{"name", "x"}, {"scopes", {"monitors:read"}}}), 403);
}

TEST_F(KeysApiTest, BadInputIsRejectedAndChangesNothing) {
  Position before = Head();
  auto post = [&](const std::string& raw) {
    return http().Request("POST", "/v1/keys", raw, {{"Authorization", "Bearer " + admin()}});
  };
  ExpectProblem(post("{not json"), 400, "not valid JSON");
  ExpectProblem(post("[1,2]"), 400, "JSON object");
  ExpectProblem(post(R"({"name":5,"scopes":["monitors:read"]})"), 400, "'name' must be a string");
  ExpectProblem(post(R"({"name":"a","scopes":"monitors:read"})"), 400, "'scopes' must be an array");
  ExpectProblem(post(R"({"name":"a","scopes":[1]})"), 400, "array of strings");
  ExpectProblem(post(R"({"scopes":["monitors:read"]})"), 400, "'name' is required");
  ExpectProblem(post(R"({"name":"a","scopes":[]})"), 400, "at least one scope");
  ExpectProblem(post(R"({"name":"a","scopes":["monitors:read"],"colour":"red"})"), 400, "unknown field 'colour'");
  ExpectProblem(post(R"({"name":"a","scopes":["monitors:delete"]})"), 400, "unknown scope 'monitors:delete'");
  ExpectProblem(post(R"({"name":"a","scopes":["monitors:read"],"environment":"prod"})"), 400, "live");
  ExpectProblem(post(R"({"name":"a","scopes":["monitors:read"],"expires_at":"tomorrow"})"), 400, "RFC 3339");
  ExpectProblem(post(R"({"name":"a","scopes":["monitors:read"],"expires_at":"2020-01-01T00:00:00Z"})"), 400, "future");
  ExpectProblem(post(R"({"name":"a","scopes":["monitors:read"],"allowed_cidrs":["10.0.0.1/8"]})"), 400, "CIDR");
  ExpectProblem(post(R"({"name":"a\u0001b","scopes":["monitors:read"]})"), 400, "control characters");
  ExpectProblem(post(json({{"name", std::string(101, 'n')}, {"scopes", {"monitors:read"}}}).dump()), 400,
                "longer than 100");
  ExpectProblem(http().Request("POST", "/v1/keys", R"({"name":"a","scopes":["monitors:read"]})",
                               {{"Authorization", "Bearer " + admin()}, {"Content-Type", "text/plain"}}),
                400, "Content-Type");
  // Oversized body: 413 and the connection is closed.
  auto big = http().Request("POST", "/v1/keys", std::string(70 * 1024, 'x'), {{"Authorization", "Bearer " + admin()}});
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Head(), before);
  EXPECT_EQ(http().Call("GET", "/v1/keys", admin()).json()["keys"].size(), 1u);
}

TEST_F(KeysApiTest, MalformedHttpGets400) {
  std::string reply = http().Raw("GARBAGE\r\n\r\n");
  EXPECT_NE(reply.find("400"), std::string::npos) << reply;
}

// The header limit is server.max_header_bytes (16 KiB), not the read buffer: a
// 9 KiB header is served, one over the limit gets 431 (it used to be 400 at 8 KiB).
TEST_F(KeysApiTest, HeadersUpToTheLimitAreServedAndLargerOnesGet431) {
  auto request = [](std::size_t pad) {
    return "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(pad, 'a') + "\r\nConnection: close\r\n\r\n";
  };
  std::string ok = http().Raw(request(9 * 1024));
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok.substr(0, 200);
  std::string big = http().Raw(request(17 * 1024));
  EXPECT_EQ(big.rfind("HTTP/1.1 431", 0), 0u) << big.substr(0, 200);
  EXPECT_NE(big.find("headers-too-large"), std::string::npos) << big.substr(0, 400);
}

// RFC 9112 §6.1: a Transfer-Encoding whose last coding is not chunked is a 400 and
// the end of the connection; the bytes after it are never read as a request.
TEST_F(KeysApiTest, ATransferEncodingNotEndingInChunkedIsRefusedNotSmuggled) {
  for (const std::string te : {"gzip", "chunked, gzip", "identity"}) {
    std::string reply = http().Raw("POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                                   "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << te << ": " << reply.substr(0, 200);
    EXPECT_NE(reply.find("must end in chunked"), std::string::npos) << te;
    EXPECT_EQ(reply.find("HTTP/1.1", 1), std::string::npos) << te << ": a second response: " << reply;
  }
  // Chunked framing is still read as such.
  std::string body = R"({"key":"al_live_x"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  std::string chunked = http().Raw("POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                                   std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 200", 0), 0u) << chunked.substr(0, 300);
}

TEST_F(KeysApiTest, GrantAndRevokeScopes) {
  json k = t.CreateKey({{"name", "grafana"}, {"scopes", {"monitors:read"}}});
  std::string id = k["id"], key = k["key"];
  EXPECT_EQ(Verify(key, "metrics:read")["code"], "INSUFFICIENT_SCOPE");

  auto g = http().Call("POST", "/v1/keys/" + id + "/scopes", admin(), {{"scopes", {"metrics:read", "monitors:read"}}});
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.json()["scopes"], json({"metrics:read", "monitors:read"}));
  EXPECT_GT(g.json()["position"].get<Position>(), 0u);
  EXPECT_EQ(Verify(key, "metrics:read")["code"], "VALID");

  // Granting only scopes it already has appends nothing.
  Position before = Head();
  auto again = http().Call("POST", "/v1/keys/" + id + "/scopes", admin(), {{"scopes", {"metrics:read"}}});
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Head(), before);

  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/scopes", admin(), {{"scopes", {"nope:read"}}}), 400,
                "unknown scope");
  auto rv = http().Call("DELETE", "/v1/keys/" + id + "/scopes/metrics:read", admin());
  ASSERT_EQ(rv.status, 200) << rv.body;
  EXPECT_EQ(rv.json()["scopes"], json({"monitors:read"}));
  EXPECT_EQ(Verify(key, "metrics:read")["code"], "INSUFFICIENT_SCOPE");
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + id + "/scopes/metrics:read", admin()), 404, "does not hold");
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + id + "/scopes/monitors:read", admin()), 422, "last scope");
}

TEST_F(KeysApiTest, AKeyCannotGrantScopesItDoesNotHold) {
  json mgr = t.CreateKey({{"name", "key-manager"}, {"scopes", {"keys:admin", "monitors:read"}}});
  // It may create keys within its own scopes...
  EXPECT_EQ(http().Call("POST", "/v1/keys", mgr["key"], {{"name", "ok"}, {"scopes", {"monitors:read"}}}).status, 201);
  // ...but not escalate.
  ExpectProblem(http().Call("POST", "/v1/keys", mgr["key"], {{"name", "esc"}, {"scopes", {"admin:*"}}}), 403,
                "admin:*");
  ExpectProblem(http().Call("POST", "/v1/keys/" + mgr["id"].get<std::string>() + "/scopes", mgr["key"],
                            {{"scopes", {"monitors:write"}}}),
                403, "monitors:write");
}

TEST_F(KeysApiTest, AKeyCannotRevokeAMorePowerfulOne) {
  json mgr = t.CreateKey({{"name", "key-manager"}, {"scopes", {"keys:admin"}}});
  json list = http().Call("GET", "/v1/keys", admin()).json()["keys"];
  std::string admin_id;
  for (const auto& item : list) {
    if (item["name"] == "bootstrap-admin") admin_id = item["id"];
  }
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + admin_id, mgr["key"]), 403, "admin:*");
  EXPECT_EQ(Verify(admin())["code"], "VALID");
  // The admin may revoke the manager.
  EXPECT_EQ(http().Call("DELETE", "/v1/keys/" + mgr["id"].get<std::string>(), admin()).status, 200);
}

TEST_F(KeysApiTest, QueryAndPathInputIsValidated) {
  json k = t.CreateKey({{"name", "q"}, {"scopes", {"monitors:read"}}});
  ExpectProblem(http().Call("GET", "/v1/keys?status=bogus", admin()), 400, "status must be one of");
  EXPECT_EQ(http().Call("GET", "/v1/keys?status=active", admin()).json()["keys"].size(), 2u);
  EXPECT_EQ(http().Call("GET", "/v1/keys?status=revoked", admin()).json()["keys"].size(), 0u);
  // A full key pasted where an id belongs is not echoed back.
  std::string full = k["key"];
  auto r = http().Call("GET", "/v1/keys/" + full, admin());
  ExpectProblem(r, 404);
  EXPECT_EQ(r.body.find(full.substr(8)), std::string::npos);
  // Invalid UTF-8 or control characters in a reason: 400, nothing recorded.
  Position before = Head();
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + k["id"].get<std::string>() + "?reason=%FF", admin()), 400, "UTF-8");
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + k["id"].get<std::string>() + "?reason=a%0Ab", admin()), 400,
                "control characters");
  EXPECT_EQ(Head(), before);
  // Names count characters, not bytes: 100 'é' is fine.
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xc3\xa9";
  EXPECT_EQ(http().Call("POST", "/v1/keys", admin(), {{"name", name}, {"scopes", {"monitors:read"}}}).status, 201);
}

TEST_F(KeysApiTest, RotationKeepsTheOldKeyForTheGracePeriod) {
  json k = t.CreateKey({{"name", "ci"}, {"scopes", {"monitors:write"}}, {"allowed_cidrs", {"203.0.113.0/24"}}});
  std::string old_id = k["id"], old_key = k["key"];
  auto r = http().Call("POST", "/v1/keys/" + old_id + "/rotate", admin());
  ASSERT_EQ(r.status, 201) << r.body;
  json n = r.json();
  std::string new_key = n["key"];
  EXPECT_NE(n["id"], old_id);
  EXPECT_EQ(n["name"], "ci");
  EXPECT_EQ(n["scopes"], json({"monitors:write"}));
  EXPECT_EQ(n["allowed_cidrs"], json({"203.0.113.0/24"}));
  EXPECT_EQ(n["rotated_from"], old_id);

  auto old = http().Call("GET", "/v1/keys/" + old_id, admin()).json();
  EXPECT_EQ(old["status"], "rotating");
  EXPECT_EQ(old["replaced_by"], n["id"]);
  EXPECT_EQ(old["grace_until"], "2026-01-04T00:00:00.000Z");  // default 72 h

  EXPECT_EQ(Verify(old_key, "monitors:write", "203.0.113.7")["code"], "VALID");
  t.clock().Advance(72 * kHourMs - 1);
  EXPECT_EQ(Verify(old_key, "monitors:write", "203.0.113.7")["code"], "VALID");
  t.clock().Advance(1);
  EXPECT_EQ(Verify(old_key, "monitors:write", "203.0.113.7")["code"], "EXPIRED");
  EXPECT_EQ(Verify(new_key, "monitors:write", "203.0.113.7")["code"], "VALID");
  EXPECT_EQ(http().Call("GET", "/v1/keys/" + old_id, admin()).json()["status"], "expired");

  ExpectProblem(http().Call("POST", "/v1/keys/" + old_id + "/rotate", admin()), 409);
}

TEST_F(KeysApiTest, RotationGraceIsSettable) {
  json k = t.CreateKey({{"name", "ci"}, {"scopes", {"monitors:read"}}});
  std::string id = k["id"];
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/rotate", admin(), {{"grace_period_seconds", -1}}), 400);
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/rotate", admin(), {{"grace_period_seconds", "1h"}}), 400);
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/rotate", admin(), {{"grace_period_seconds", 31 * 86400}}), 400,
                "grace period");
  auto r = http().Call("POST", "/v1/keys/" + id + "/rotate", admin(), {{"grace_period_seconds", 3600}});
  ASSERT_EQ(r.status, 201) << r.body;
  t.clock().Advance(kHourMs);
  EXPECT_EQ(Verify(k["key"])["code"], "EXPIRED");
  EXPECT_EQ(Verify(r.json()["key"])["code"], "VALID");
}

TEST_F(KeysApiTest, RevocationTakesEffectOnTheVeryNextRequest) {
  json k = t.CreateKey({{"name", "ops"}, {"scopes", {"keys:admin"}}});
  std::string id = k["id"], key = k["key"];
  EXPECT_EQ(http().Call("GET", "/v1/keys", key).status, 200);
  auto del = http().Call("DELETE", "/v1/keys/" + id + "?reason=compromised", admin());
  ASSERT_EQ(del.status, 200) << del.body;
  EXPECT_EQ(del.json()["status"], "revoked");
  EXPECT_FALSE(del.json()["revoked_at"].is_null());
  ExpectProblem(http().Call("GET", "/v1/keys", key), 401, "revoked");
  EXPECT_EQ(Verify(key)["code"], "REVOKED");
  EXPECT_EQ(Verify(key)["valid"], false);
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + id, admin()), 409, "already revoked");
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/rotate", admin()), 409, "revoked");
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/scopes", admin(), {{"scopes", {"monitors:read"}}}), 409);
}

TEST_F(KeysApiTest, KeysOfAnotherAccountAreNotFound) {
  Actor cli = Actor::Cli("test");
  auto other = Await<CreatedAccount>([&](auto done) { CreateAccount(t.node().commands(), "other", cli, done); });
  ASSERT_TRUE(other.ok());
  CreateKeyInput in;
  in.name = "theirs";
  in.scopes = {"admin:*"};
  auto theirs =
      Await<IssuedKey>([&](auto done) { CreateKey(t.node().commands(), other->account_id, in, Caller{}, cli, done); });
  ASSERT_TRUE(theirs.ok());
  std::string id = theirs->key.id;
  Position before = Head();
  ExpectProblem(http().Call("GET", "/v1/keys/" + id, admin()), 404);
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + id, admin()), 404);
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/rotate", admin()), 404);
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/scopes", admin(), {{"scopes", {"monitors:read"}}}), 404);
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + id + "/scopes/admin:*", admin()), 404);
  EXPECT_EQ(Head(), before);
  // Each account sees only its own keys.
  auto mine = http().Call("GET", "/v1/keys", admin()).json()["keys"];
  for (const auto& k : mine) EXPECT_NE(k["id"], id);
  auto list = http().Call("GET", "/v1/keys", theirs->full_key).json()["keys"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  ExpectProblem(http().Call("GET", "/v1/keys/not-a-key-id", admin()), 404);
}

TEST_F(KeysApiTest, VerifyCodes) {
  json k = t.CreateKey({{"name", "edge"},
                        {"scopes", {"monitors:read"}},
                        {"allowed_cidrs", {"203.0.113.0/24", "2001:db8::/32"}},
                        {"expires_at", "2026-02-01T00:00:00Z"}});
  std::string key = k["key"];
  EXPECT_EQ(Verify(key, "monitors:read", "203.0.113.9")["code"], "VALID");
  EXPECT_EQ(Verify(key, "monitors:read", "2001:db8::1")["code"], "VALID");
  EXPECT_EQ(Verify(key, "", "198.51.100.1")["code"], "IP_NOT_ALLOWED");
  EXPECT_EQ(Verify(key, "monitors:write", "203.0.113.9")["code"], "INSUFFICIENT_SCOPE");
  std::string typo = key;
  typo[20] = typo[20] == 'x' ? 'y' : 'x';
  json m = Verify(typo);
  EXPECT_EQ(m["code"], "MALFORMED");
  EXPECT_EQ(m["valid"], false);
  EXPECT_EQ(Verify("sp_live_" + key.substr(8))["code"], "MALFORMED");  // another brand
  auto fake = GenerateApiKey("al", KeyEnvironment::kLive, "some-other-pepper");
  EXPECT_EQ(Verify(fake.full_key)["code"], "NOT_FOUND");
  // Right id, wrong secret: indistinguishable from an unknown key.
  std::string forged = FormatApiKey("al", KeyEnvironment::kLive, k["id"].get<std::string>(), std::string(33, 'A'));
  EXPECT_EQ(Verify(forged)["code"], "NOT_FOUND");
  std::string wrong_env =
      FormatApiKey("al", KeyEnvironment::kTest, k["id"].get<std::string>(), std::string(ParseApiKey(key)->secret));
  EXPECT_EQ(Verify(wrong_env)["code"], "NOT_FOUND");
  // A restricted key is never VALID for a caller that does not say where the request came from.
  json no_ip = Verify(key, "monitors:read");
  EXPECT_EQ(no_ip["code"], "IP_NOT_ALLOWED");
  EXPECT_NE(no_ip["detail"].get<std::string>().find("pass the client's 'ip'"), std::string::npos);
  t.clock().Set(*ParseRfc3339("2026-02-01T00:00:00Z"));
  EXPECT_EQ(Verify(key, "monitors:read", "203.0.113.9")["code"], "EXPIRED");

  ExpectProblem(http().Call("POST", "/v1/keys/verify", "", {{"scope", "x"}}), 400, "'key' is required");
  ExpectProblem(http().Call("POST", "/v1/keys/verify", "", {{"key", 12}}), 400, "string");
  ExpectProblem(http().Call("POST", "/v1/keys/verify", "", {{"key", key}, {"extra", 1}}), 400, "unknown field");
  ExpectProblem(http().Request("POST", "/v1/keys/verify", "{"), 400);
  ExpectProblem(http().Call("POST", "/v1/keys/verify", "", {{"key", key}, {"ip", "not-an-ip"}}), 400, "IPv4");
}

// The verify route's answer is written from a precomputed head (gateway/http_server.cc): byte for
// byte what Beast writes for the same response, for each HTTP version and keep-alive choice.
TEST_F(KeysApiTest, VerifyAnswerIsWhatBeastWouldWrite) {
  const std::string key = admin();
  // A key with escapes in the body reads the same as without.
  ASSERT_EQ(key[0], 'a');
  const std::string escaped = "\\u0061" + key.substr(1);
  const std::string body = R"({"key":")" + escaped + R"(","scope":"keys:admin"})";
  auto request = [&](const std::string& version, const std::string& connection) {
    return "POST /v1/keys/verify HTTP/" + version + "\r\nHost: x\r\nContent-Type: application/json\r\n" + connection +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  // Two pipelined requests per connection: the first keeps it open, the second closes it.
  struct Case {
    std::string version, first, second;
    unsigned v;
  };
  for (const Case& c :
       {Case{"1.1", "", "Connection: close\r\n", 11}, Case{"1.0", "Connection: keep-alive\r\n", "", 10}}) {
    std::string got = http().Raw(request(c.version, c.first) + request(c.version, c.second));
    for (bool keep_alive : {true, false}) {
      const std::size_t head_end = got.find("\r\n\r\n");
      ASSERT_NE(head_end, std::string::npos) << got;
      const std::string head = got.substr(0, head_end + 4);
      const std::size_t length_at = head.find("Content-Length: ");
      ASSERT_NE(length_at, std::string::npos) << head;
      const std::size_t length = std::stoul(head.substr(length_at + 16));
      const std::string answer = got.substr(head_end + 4, length);
      got.erase(0, head_end + 4 + length);
      EXPECT_EQ(json::parse(answer)["code"], "VALID") << answer;

      HttpRequest req{http::verb::post, "/v1/keys/verify", c.v};
      HttpResponse want = JsonResponse(req, http::status::ok, answer);
      want.set(http::field::server, "authledger");
      want.keep_alive(keep_alive);
      std::ostringstream beast;
      beast << want;
      EXPECT_EQ(head + answer, beast.str()) << "HTTP/" << c.version << " keep-alive " << keep_alive;
    }
    EXPECT_EQ(got, "");
  }
}

TEST_F(KeysApiTest, LastUsedIsRecordedThroughTheLedger) {
  json k = t.CreateKey({{"name", "dash"}, {"scopes", {"monitors:read"}}});
  std::string id = k["id"];
  t.clock().Advance(5 * kMinuteMs);
  EXPECT_EQ(Verify(k["key"], "monitors:read", "198.51.100.7")["code"], "VALID");
  t.node().usage().Flush();
  json got = http().Call("GET", "/v1/keys/" + id, admin()).json();
  EXPECT_EQ(got["last_used_at"], "2026-01-01T00:05:00.000Z");
  EXPECT_EQ(got["last_used_ip"], "198.51.100.7");
  // The event is in the audit log as key.used.v1.
  auto audit = http().Call("GET", "/v1/audit-log?limit=5", admin()).json()["entries"];
  bool found = false;
  for (const auto& e : audit) found = found || (e["type"] == "io.authledger.key.used.v1" && e["key_id"] == id);
  EXPECT_TRUE(found) << audit.dump();
}

TEST_F(KeysApiTest, UsesWithinTheResolutionAreCountedInTheNextDueEvent) {
  json k = t.CreateKey({{"name", "dash"}, {"scopes", {"monitors:read"}}});
  const std::string id = k["id"];
  auto used_events = [&] {
    std::vector<json> out;
    const json page = http().Call("GET", "/v1/audit-log?limit=100", admin()).json();
    for (const auto& e : page["entries"])
      if (e["type"] == "io.authledger.key.used.v1" && e["key_id"] == id) out.push_back(e);
    return out;
  };
  EXPECT_EQ(Verify(k["key"], "monitors:read")["code"], "VALID");
  t.node().usage().Flush();
  ASSERT_EQ(used_events().size(), 1u);
  // Two more uses within usage.resolution (15 min): no event yet, at any flush.
  t.clock().Advance(kMinuteMs);
  EXPECT_EQ(Verify(k["key"], "monitors:read")["code"], "VALID");
  t.node().usage().Flush();
  t.clock().Advance(kMinuteMs);
  EXPECT_EQ(Verify(k["key"], "monitors:read", "198.51.100.9")["code"], "VALID");
  t.node().usage().Flush();
  EXPECT_EQ(used_events().size(), 1u);
  // Once the first recorded use is 15 minutes old, the next flush records both.
  t.clock().Advance(13 * kMinuteMs);
  t.node().usage().Flush();
  auto events = used_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events.front()["changes"]["uses"], 2) << events.front().dump();  // newest first
  json got = http().Call("GET", "/v1/keys/" + id, admin()).json();
  EXPECT_EQ(got["last_used_ip"], "198.51.100.9");
  EXPECT_EQ(got["last_used_at"], "2026-01-01T00:02:00.000Z");
}

TEST_F(KeysApiTest, ConcurrentCreatesAllLandOnce) {
  std::vector<std::thread> threads;
  std::vector<std::vector<Position>> positions(4);
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      HttpClient c(t.node().port());
      for (int i = 0; i < 5; ++i) {
        auto r = c.Call("POST", "/v1/keys", admin(),
                        {{"name", "w" + std::to_string(w) + "-" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
        if (r.status == 201) positions[static_cast<std::size_t>(w)].push_back(r.json()["position"]);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<Position> all;
  for (const auto& v : positions)
    for (Position p : v) all.insert(p);
  EXPECT_EQ(all.size(), 20u);
  EXPECT_EQ(http().Call("GET", "/v1/keys", admin()).json()["keys"].size(), 21u);
}

TEST_F(KeysApiTest, AKeyCannotStripOrGrantScopesOfAMorePowerfulOne) {
  json mgr = t.CreateKey({{"name", "key-manager"}, {"scopes", {"keys:admin", "monitors:read"}}});
  json billing = t.CreateKey({{"name", "billing"}, {"scopes", {"monitors:read", "billing:read"}}});
  const std::string id = billing["id"];
  // The manager holds monitors:read but could not revoke this key (billing:read): nor strip it.
  ExpectProblem(http().Call("DELETE", "/v1/keys/" + id + "/scopes/monitors:read", mgr["key"]), 403, "billing:read");
  ExpectProblem(http().Call("POST", "/v1/keys/" + id + "/scopes", mgr["key"], {{"scopes", {"monitors:read"}}}), 403,
                "billing:read");
  EXPECT_EQ(Verify(billing["key"], "monitors:read")["code"], "VALID");  // unchanged
  EXPECT_EQ(http().Call("DELETE", "/v1/keys/" + id + "/scopes/monitors:read", admin()).status, 200);
}

TEST_F(KeysApiTest, LiveKeyLimitPerAccount) {
  // Default limit is 25 live keys; the bootstrap key is one.
  std::string last;
  for (int i = 0; i < 24; ++i)
    last = t.CreateKey({{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}})["id"];
  ExpectProblem(http().Call("POST", "/v1/keys", admin(), {{"name", "one-too-many"}, {"scopes", {"monitors:read"}}}),
                422, "limit");
  // A rotation with a grace period would leave two live keys where there was one.
  ExpectProblem(http().Call("POST", "/v1/keys/" + last + "/rotate", admin(), json::object()), 422,
                "grace_period_seconds = 0");
  auto rotated = http().Call("POST", "/v1/keys/" + last + "/rotate", admin(), {{"grace_period_seconds", 0}});
  EXPECT_EQ(rotated.status, 201) << rotated.body;
  ExpectProblem(http().Call("POST", "/v1/keys", admin(), {{"name", "still-full"}, {"scopes", {"monitors:read"}}}), 422,
                "limit");
}

TEST_F(KeysApiTest, StatePersistsAcrossRestart) {
  json a = t.CreateKey({{"name", "a"}, {"scopes", {"monitors:read"}}});
  json b = t.CreateKey({{"name", "b"}, {"scopes", {"alerts:read"}}});
  ASSERT_EQ(http().Call("DELETE", "/v1/keys/" + b["id"].get<std::string>(), admin()).status, 200);
  t.node().usage().Flush();  // Stop() would flush the admin key's use; do it first
  std::string before = http().Call("GET", "/v1/keys", admin()).body;
  Position head = Head();
  t.Restart();
  // Stopping signed a checkpoint over everything; nothing else was appended.
  EXPECT_EQ(Head(), head + 1);
  EXPECT_TRUE(t.node().queries().IsCheckpointAt(head + 1));
  EXPECT_EQ(http().Call("GET", "/v1/keys", admin()).body, before);
  EXPECT_EQ(Verify(a["key"])["code"], "VALID");
  EXPECT_EQ(Verify(b["key"])["code"], "REVOKED");
  // And it keeps working after the restart.
  EXPECT_EQ(http().Call("POST", "/v1/keys", admin(), {{"name", "c"}, {"scopes", {"monitors:read"}}}).status, 201);
}

TEST_F(KeysApiTest, FailedAuthenticationIsRateLimitedPerSourceIp) {
  for (int i = 0; i < 20; ++i) EXPECT_EQ(http().Call("GET", "/v1/keys", "al_live_wrong").status, 401);
  auto limited = http().Call("GET", "/v1/keys", "al_live_wrong");
  ExpectProblem(limited, 429);
  int retry = std::stoi(limited.header("retry-after"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 60);
  // A valid key from the same address is never locked out (decision 48).
  EXPECT_EQ(http().Call("GET", "/v1/keys", admin()).status, 200);
  t.clock().Advance(kMinuteMs);
  EXPECT_EQ(http().Call("GET", "/v1/keys", "al_live_wrong").status, 401);
}

// Issue 13 (hygiene): strangers learn ready / not ready and nothing more; the
// details need a key holding ops:read (or admin:*).
TEST_F(KeysApiTest, HealthEndpointsTellStrangersOnlyTheStatus) {
  auto health = http().Request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json(), json({{"status", "ok"}})) << health.body;
  auto ready = http().Request("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json(), json({{"status", "ready"}})) << ready.body;
  auto metrics = http().Request("GET", "/metrics");
  ExpectProblem(metrics, 401);
  EXPECT_EQ(metrics.body.find("authledger_"), std::string::npos);

  // A key with ops:read (or admin:*) sees the details.
  json ops = t.CreateKey({{"name", "prometheus"}, {"scopes", {"ops:read"}}});
  for (const std::string& key : {ops["key"].get<std::string>(), admin()}) {
    const std::map<std::string, std::string> bearer{{"Authorization", "Bearer " + key}};
    auto h = http().Request("GET", "/healthz", "", bearer);
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.json()["version"], AUTHLEDGER_VERSION);
    auto r = http().Request("GET", "/readyz", "", bearer);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["applied"], Head());
    EXPECT_EQ(r.json()["ledger_head"], Head());
    EXPECT_EQ(r.json()["partitions"], 1);
    auto m = http().Request("GET", "/metrics", "", bearer);
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("authledger_ledger_head_position " + std::to_string(Head())), std::string::npos);
  }
  // A key without it, or a bad one, is refused as anywhere else.
  json narrow = t.CreateKey({{"name", "narrow"}, {"scopes", {"monitors:read"}}});
  ExpectProblem(http().Request("GET", "/readyz", "", {{"Authorization", "Bearer " + narrow["key"].get<std::string>()}}),
                403);
  ExpectProblem(http().Request("GET", "/metrics", "", {{"Authorization", "Bearer al_live_nonsense"}}), 401);
}

TEST_F(KeysApiTest, Routing) {
  ExpectProblem(http().Request("GET", "/v1/nothing"), 404);
  auto wrong = http().Request("PUT", "/v1/keys");
  ExpectProblem(wrong, 405);
  EXPECT_NE(wrong.header("allow").find("POST"), std::string::npos);
}

TEST_F(KeysApiTest, MinPositionHeaderIsHonoured) {
  json k = t.CreateKey({{"name", "p"}, {"scopes", {"monitors:read"}}});
  Position p = k["position"];
  auto ok = http().Request("POST", "/v1/keys/verify", json({{"key", k["key"]}}).dump(),
                           {{"X-Min-Position", std::to_string(p)}});
  EXPECT_EQ(ok.status, 200);
  // The hot path never blocks on a position this node does not have: 503 at once.
  auto far = http().Request("POST", "/v1/keys/verify", json({{"key", k["key"]}}).dump(),
                            {{"X-Min-Position", std::to_string(p + 1000)}});
  ExpectProblem(far, 503, "not applied");
  EXPECT_EQ(far.header("retry-after"), "1");
  // Reads on the command pool wait (bounded) for positions the ledger holds.
  EXPECT_EQ(http()
                .Request("GET", "/v1/keys", "",
                         {{"Authorization", "Bearer " + admin()}, {"X-Min-Position", std::to_string(p)}})
                .status,
            200);
  ExpectProblem(http().Request("POST", "/v1/keys/verify", json({{"key", k["key"]}}).dump(), {{"X-Min-Position", "x"}}),
                400);
  // A decimal integer only: no sign, no fraction, no overflow.
  const std::string verify_body = json({{"key", k["key"]}}).dump();
  for (const char* bad : {"-1", "+1", "1.0", "0x10", "18446744073709551616"})
    ExpectProblem(http().Request("POST", "/v1/keys/verify", verify_body, {{"X-Min-Position", bad}}), 400,
                  "must be a ledger position");
  // A number whose partition bits name a partition this one-partition ledger lacks.
  ExpectProblem(http().Request("POST", "/v1/keys/verify", json({{"key", k["key"]}}).dump(),
                               {{"X-Min-Position", std::to_string(MakePosition(1, 1))}}),
                400, "partition 1 does not exist");
  ExpectProblem(http().Request("POST", "/v1/keys/verify", json({{"key", k["key"]}}).dump(),
                               {{"X-Min-Position", "18446744073709551615"}}),
                400, "partition 65535 does not exist");
}

TEST(KeyRateLimitTest, EachKeyIsHeldToItsPlansReadsAndWritesPerMinute) {
  TestNode t([](Config& c) {
    c.key_reads_per_minute = 4;
    c.key_writes_per_minute = 2;
  });
  auto& http = t.http();
  const std::string admin = t.admin_key();
  json other = t.CreateKey({{"name", "other"}, {"scopes", {"keys:admin"}}});  // write 1 of the admin key
  EXPECT_EQ(http.Call("POST", "/v1/keys", admin, {{"name", "b"}, {"scopes", {"monitors:read"}}}).status, 201);  // 2
  auto limited = http.Call("POST", "/v1/keys", admin, {{"name", "c"}, {"scopes", {"monitors:read"}}});
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.header("content-type"), "application/problem+json");
  EXPECT_NE(limited.json()["detail"].get<std::string>().find("write"), std::string::npos);
  int retry = std::stoi(limited.header("retry-after"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 60);
  // Reads have their own budget, and other keys theirs.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(http.Call("GET", "/v1/keys", admin).status, 200);
  EXPECT_EQ(http.Call("GET", "/v1/keys", admin).status, 429);
  EXPECT_EQ(http.Call("GET", "/v1/keys", other["key"]).status, 200);
  // The hot path is not a management call: verify is never limited here.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(http.Call("POST", "/v1/keys/verify", "", {{"key", admin}}).json()["code"], "VALID");
  // A new minute, a new budget.
  t.clock().Advance(kMinuteMs);
  EXPECT_EQ(http.Call("POST", "/v1/keys", admin, {{"name", "c"}, {"scopes", {"monitors:read"}}}).status, 201);
}

}  // namespace
}  // namespace authledger::testing
