// OAuth client management over real HTTP on loopback: register, list, get,
// rotate the secret, delete; the rules and errors; the secret shown once and
// never stored; the audit view filtered by client id; clients survive a restart
// and a rebuild of the projections.
#include <gtest/gtest.h>

#include <set>

#include "commands/await.h"
#include "commands/handlers.h"
#include "domain/api_key.h"
#include "domain/ids.h"
#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;

const json kConfidential = {{"name", "PagerDuty Sync"},
                            {"description", "pushes incidents"},
                            {"redirect_uris", {"https://hooks.internal.example.com/callback"}},
                            {"scopes", {"monitors:read", "alerts:read"}}};

class ClientsApiTest : public ::testing::Test {
 protected:
  TestNode t;
  HttpClient& http() { return t.http(); }
  const std::string& admin() { return t.admin_key(); }

  json Register(const json& body, const std::string& bearer = "") {
    auto r = http().Call("POST", "/v1/oauth/clients", bearer.empty() ? admin() : bearer, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json();
  }
  void ExpectProblem(const HttpResult& r, int status, const std::string& detail_part) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    EXPECT_NE(r.json().value("detail", "").find(detail_part), std::string::npos) << r.body;
  }
  // Every stored event's bytes, in ledger order.
  std::string LedgerText() {
    std::string all;
    std::vector<StoredEvent> events;
    EXPECT_TRUE(t.node().log().Read(Cursor(t.node().log().Partitions()), 100000, &events).ok());
    for (const auto& e : events) all += e.bytes + "\n";
    return all;
  }
};

TEST_F(ClientsApiTest, RegisterShowsTheSecretOnceAndStoresOnlyItsHash) {
  auto r = http().Call("POST", "/v1/oauth/clients", admin(), kConfidential);
  ASSERT_EQ(r.status, 201) << r.body;
  json c = r.json();
  const std::string id = c["id"];
  EXPECT_TRUE(IsClientId(id)) << id;
  EXPECT_EQ(r.header("location"), "/v1/oauth/clients/" + id);
  EXPECT_EQ(r.header("x-ledger-position"), std::to_string(c["position"].get<Position>()));
  EXPECT_EQ(c["name"], "PagerDuty Sync");
  EXPECT_EQ(c["description"], "pushes incidents");
  EXPECT_EQ(c["scopes"], json({"alerts:read", "monitors:read"}));
  EXPECT_EQ(c["grant_types"], json({"authorization_code", "refresh_token"}));  // the default
  EXPECT_EQ(c["token_endpoint_auth_method"], "client_secret_basic");
  EXPECT_EQ(c["confidential"], true);
  EXPECT_EQ(c["status"], "active");
  EXPECT_EQ(c["created_at"], "2026-01-01T00:00:00.000Z");
  EXPECT_TRUE(c["deleted_at"].is_null());
  const std::string secret = c["client_secret"];
  EXPECT_TRUE(secret.starts_with("al_cs_")) << "secret has the documented shape";
  EXPECT_EQ(secret.size(), 6u + 43u);

  // Reads never show the secret or its hash; the ledger holds only the keyed hash.
  for (const std::string& path : {std::string("/v1/oauth/clients"), "/v1/oauth/clients/" + id}) {
    auto g = http().Call("GET", path, admin());
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(g.body.find(secret.substr(6)), std::string::npos);
    EXPECT_EQ(g.body.find("secret_hash"), std::string::npos);
    EXPECT_EQ(g.body.find("\"client_secret\""), std::string::npos);
  }
  const std::string ledger = LedgerText();
  EXPECT_EQ(ledger.find(secret.substr(6)), std::string::npos);
  EXPECT_NE(ledger.find(ToHex(HashSecret(t.node().commands().config().pepper, id, secret))), std::string::npos);
  EXPECT_NE(ledger.find("\"subject\":\"clients/" + id + "\""), std::string::npos);

  auto got = http().Call("GET", "/v1/oauth/clients/" + id, admin()).json();
  json expected = c;
  expected.erase("client_secret");
  expected.erase("position");
  EXPECT_EQ(got, expected);
}

TEST_F(ClientsApiTest, PublicClientHasNoSecretAndCannotRotateOne) {
  json c = Register({{"name", "status CLI"},
                     {"redirect_uris", {"http://127.0.0.1:8765/callback"}},
                     {"scopes", {"monitors:read"}},
                     {"grant_types", {"authorization_code"}},
                     {"token_endpoint_auth_method", "none"}});
  EXPECT_EQ(c["confidential"], false);
  EXPECT_FALSE(c.contains("client_secret"));
  const std::string id = c["id"];
  ExpectProblem(http().Call("POST", "/v1/oauth/clients/" + id + "/rotate-secret", admin()), 409, "public client");
  EXPECT_EQ(LedgerText().find("secret_hash\":\"\""), std::string::npos) << "no empty hash is stored";
}

TEST_F(ClientsApiTest, RotateReplacesTheSecretAndDeleteIsTerminal) {
  json c = Register(kConfidential);
  const std::string id = c["id"], first = c["client_secret"];
  t.clock().Advance(kHourMs);
  auto r = http().Call("POST", "/v1/oauth/clients/" + id + "/rotate-secret", admin());
  ASSERT_EQ(r.status, 200) << r.body;
  json rotated = r.json();
  const std::string second = rotated["client_secret"];
  EXPECT_NE(second, first);
  EXPECT_EQ(rotated["secret_rotated_at"], "2026-01-01T01:00:00.000Z");
  const std::string ledger = LedgerText();
  EXPECT_NE(ledger.find(ToHex(HashSecret(t.node().commands().config().pepper, id, second))), std::string::npos);
  EXPECT_EQ(ledger.find(second.substr(6)), std::string::npos);

  t.clock().Advance(kHourMs);
  auto d = http().Call("DELETE", "/v1/oauth/clients/" + id + "?reason=replaced", admin());
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(d.json()["status"], "deleted");
  EXPECT_EQ(d.json()["deleted_at"], "2026-01-01T02:00:00.000Z");
  ExpectProblem(http().Call("DELETE", "/v1/oauth/clients/" + id, admin()), 409, "deleted");
  ExpectProblem(http().Call("POST", "/v1/oauth/clients/" + id + "/rotate-secret", admin()), 409, "deleted");

  // Listed with its status; ?status filters.
  json other = Register(kConfidential);
  auto all = http().Call("GET", "/v1/oauth/clients", admin()).json()["clients"];
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0]["id"].get<std::string>(), all[1]["id"].get<std::string>()) << "sorted by id";
  auto active = http().Call("GET", "/v1/oauth/clients?status=active", admin()).json()["clients"];
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0]["id"], other["id"]);
  auto deleted = http().Call("GET", "/v1/oauth/clients?status=deleted", admin()).json()["clients"];
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0]["id"], id);
  ExpectProblem(http().Call("GET", "/v1/oauth/clients?status=gone", admin()), 400, "status");
}

TEST_F(ClientsApiTest, RulesAreCheckedAtTheEdgeAndNothingIsAppendedOnError) {
  const Position before = t.node().log().Heads().at(0);
  auto with = [](json patch) {
    json b = kConfidential;
    b.update(patch);
    return b;
  };
  struct Case {
    json body;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {with({{"redirect_uris", {"http://hooks.example.com/cb"}}}), "must use https"},
      {with({{"redirect_uris", {"https://app.example.com/cb#frag"}}}), "fragment"},
      {with({{"redirect_uris", {"https://user@app.example.com/cb"}}}), "user information"},
      {with({{"redirect_uris", {"https://*.example.com/cb"}}}), "wildcards"},
      {with({{"redirect_uris", {"/relative/cb"}}}), "absolute"},
      {with({{"redirect_uris", {"https://a.example/cb", "https://a.example/cb"}}}), "repeat"},
      {with({{"redirect_uris", json::array()}}), "redirect URI"},
      {with({{"grant_types", {"password"}}}), "grant_types"},
      {with({{"grant_types", {"refresh_token"}}}), "refresh_token"},
      {with({{"grant_types", json::array()}}), "grant type"},
      {with({{"token_endpoint_auth_method", "none"}, {"grant_types", {"client_credentials"}}}), "confidential"},
      {with({{"token_endpoint_auth_method", "private_key_jwt"}}), "token_endpoint_auth_method"},
      {with({{"scopes", {"monitors:delete"}}}), "unknown scope"},
      {with({{"scopes", json::array()}}), "at least one scope"},
      {with({{"name", ""}}), "client name must not be empty"},
      {with({{"description", std::string(501, 'd')}}), "longer than 500"},
      {with({{"redirect_uris",
              json::array({"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4",
                           "https://a.example/5", "https://a.example/6", "https://a.example/7", "https://a.example/8",
                           "https://a.example/9", "https://a.example/10", "https://a.example/11"})}}),
       "redirect_uris"},
      {with({{"redirect_uris", {"https://a.example/" + std::string(1990, 'p')}}}), "redirect_uris"},
      {with({{"description", "tab\there"}}), "control"},
      {with({{"colour", "red"}}), "colour"},
  };
  for (const auto& c : cases) ExpectProblem(http().Call("POST", "/v1/oauth/clients", admin(), c.body), 400, c.detail);
  EXPECT_EQ(t.node().log().Heads().at(0), before);

  // client_credentials alone is fine for a confidential client (no redirect URI needed).
  json m2m =
      Register({{"name", "uptime exporter"}, {"scopes", {"metrics:read"}}, {"grant_types", {"client_credentials"}}});
  EXPECT_EQ(m2m["redirect_uris"], json::array());
  EXPECT_EQ(m2m["grant_types"], json({"client_credentials"}));

  ExpectProblem(http().Call("GET", "/v1/oauth/clients/clnt_AAAAAAAAAAAA", admin()), 404, "no client");
  ExpectProblem(http().Call("GET", "/v1/oauth/clients/not-an-id", admin()), 404, "client ids");
  ExpectProblem(http().Call("DELETE", "/v1/oauth/clients/clnt_AAAAAAAAAAAA", admin()), 404, "no client");
}

TEST_F(ClientsApiTest, ScopesBoundWhatACallerMayDo) {
  // A key without clients:admin is refused; one with it may only hand out scopes it holds.
  json reader = t.CreateKey({{"name", "reader"}, {"scopes", {"monitors:read"}}});
  ExpectProblem(http().Call("GET", "/v1/oauth/clients", reader["key"]), 403, "clients:admin");
  json keys_admin = t.CreateKey({{"name", "keys admin"}, {"scopes", {"keys:admin"}}});  // a separate scope
  ExpectProblem(http().Call("POST", "/v1/oauth/clients", keys_admin["key"], kConfidential), 403, "clients:admin");
  json manager = t.CreateKey({{"name", "manager"}, {"scopes", {"clients:admin", "monitors:read"}}});
  const std::string mk = manager["key"];
  ExpectProblem(
      http().Call("POST", "/v1/oauth/clients", mk,
                  {{"name", "x"}, {"redirect_uris", {"https://a.example/cb"}}, {"scopes", {"monitors:write"}}}),
      403, "monitors:write");
  json mine =
      Register({{"name", "mine"}, {"redirect_uris", {"https://a.example/cb"}}, {"scopes", {"monitors:read"}}}, mk);
  EXPECT_EQ(mine["created_by"], manager["id"]);
  // A client holding a scope the manager lacks: it can neither rotate its secret nor delete it.
  json powerful = Register(kConfidential);  // alerts:read too
  const std::string pid = powerful["id"];
  ExpectProblem(http().Call("POST", "/v1/oauth/clients/" + pid + "/rotate-secret", mk), 403, "alerts:read");
  ExpectProblem(http().Call("DELETE", "/v1/oauth/clients/" + pid, mk), 403, "alerts:read");
  EXPECT_EQ(http().Call("DELETE", "/v1/oauth/clients/" + mine["id"].get<std::string>(), mk).status, 200);

  // Another account's client is not found.
  auto other =
      Await<CreatedAccount>([&](auto done) { CreateAccount(t.node().commands(), "other", Actor::Cli("test"), done); });
  ASSERT_TRUE(other.ok());
  CreateKeyInput in;
  in.name = "other admin";
  in.scopes = {"admin:*"};
  auto other_key = Await<IssuedKey>(
      [&](auto done) { CreateKey(t.node().commands(), other->account_id, in, Caller{}, Actor::Cli("test"), done); });
  ASSERT_TRUE(other_key.ok());
  ExpectProblem(http().Call("GET", "/v1/oauth/clients/" + pid, other_key->full_key), 404, "no client");
  ExpectProblem(http().Call("DELETE", "/v1/oauth/clients/" + pid, other_key->full_key), 404, "no client");
  EXPECT_EQ(http().Call("GET", "/v1/oauth/clients", other_key->full_key).json()["clients"], json::array());
}

TEST_F(ClientsApiTest, AtMost25ActiveClientsPerAccount) {
  const json body = {{"name", "c"}, {"scopes", {"metrics:read"}}, {"grant_types", {"client_credentials"}}};
  std::string first;
  for (int i = 0; i < 25; ++i) {
    json c = Register(body);
    if (i == 0) first = c["id"];
  }
  ExpectProblem(http().Call("POST", "/v1/oauth/clients", admin(), body), 422, "25 OAuth clients");
  ASSERT_EQ(http().Call("DELETE", "/v1/oauth/clients/" + first, admin()).status, 200);
  Register(body);  // a deleted client frees its place
}

TEST_F(ClientsApiTest, AuditViewFiltersByClientIdAndShowsWhatChanged) {
  json a = Register(kConfidential);
  json b = Register(kConfidential);
  const std::string aid = a["id"], bid = b["id"];
  t.clock().Advance(kSecondMs);
  ASSERT_EQ(http().Call("POST", "/v1/oauth/clients/" + aid + "/rotate-secret", admin()).status, 200);
  t.clock().Advance(kSecondMs);
  ASSERT_EQ(http().Call("DELETE", "/v1/oauth/clients/" + aid, admin(), {{"reason", "integration retired"}}).status,
            200);

  auto r = http().Call("GET", "/v1/audit-log?client_id=" + aid, admin());
  ASSERT_EQ(r.status, 200) << r.body;
  json entries = r.json()["entries"];
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0]["type"], "io.authledger.client.deleted.v1");
  EXPECT_EQ(entries[0]["changes"]["reason"], "integration retired");
  EXPECT_EQ(entries[0]["actor"]["endpoint"], "DELETE /v1/oauth/clients/{id}");
  EXPECT_EQ(entries[1]["type"], "io.authledger.client.secret_rotated.v1");
  EXPECT_FALSE(entries[1]["changes"].contains("secret_hash"));
  EXPECT_EQ(entries[2]["type"], "io.authledger.client.registered.v1");
  EXPECT_EQ(entries[2]["changes"]["redirect_uris"], kConfidential["redirect_uris"]);
  EXPECT_FALSE(entries[2]["changes"].contains("secret_hash"));
  for (const auto& e : entries) {
    EXPECT_EQ(e["client_id"], aid);
    EXPECT_EQ(e["subject"], "clients/" + aid);
    EXPECT_FALSE(e.contains("key_id"));
    EXPECT_EQ(e["actor"]["type"], "key");
    EXPECT_EQ(e["actor"]["ip"], "127.0.0.1");
  }
  EXPECT_EQ(r.body.find(a["client_secret"].get<std::string>().substr(6)), std::string::npos);

  auto rb = http().Call("GET", "/v1/audit-log?client_id=" + bid, admin()).json()["entries"];
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0]["client_id"], bid);
  // Combined with a type filter, and a client id of nobody: empty, not an error.
  auto typed =
      http().Call("GET", "/v1/audit-log?client_id=" + aid + "&type=io.authledger.client.registered.v1", admin());
  EXPECT_EQ(typed.json()["entries"].size(), 1u);
  EXPECT_EQ(http().Call("GET", "/v1/audit-log?client_id=clnt_AAAAAAAAAAAA", admin()).json()["entries"], json::array());
  ExpectProblem(http().Call("GET", "/v1/audit-log?client_id=42", admin()), 400, "client_id");

  // CSV carries the client id in its own column.
  auto csv = http().Call("GET", "/v1/audit-log?format=csv&client_id=" + aid, admin());
  ASSERT_EQ(csv.status, 200);
  EXPECT_TRUE(csv.body.starts_with("position,time,type,account_seq,subject,key_id,client_id,actor_type")) << csv.body;
  EXPECT_NE(csv.body.find(",clients/" + aid + ",," + aid + ",key,"), std::string::npos) << csv.body;
}

TEST_F(ClientsApiTest, ClientsSurviveARestartAndARebuild) {
  json a = Register(kConfidential);
  json p = Register({{"name", "cli"},
                     {"redirect_uris", {"http://localhost/cb"}},
                     {"scopes", {"monitors:read"}},
                     {"grant_types", {"authorization_code"}},
                     {"token_endpoint_auth_method", "none"}});
  ASSERT_EQ(http().Call("POST", "/v1/oauth/clients/" + a["id"].get<std::string>() + "/rotate-secret", admin()).status,
            200);
  ASSERT_EQ(http().Call("DELETE", "/v1/oauth/clients/" + p["id"].get<std::string>(), admin()).status, 200);
  const json before = http().Call("GET", "/v1/oauth/clients", admin()).json();
  ASSERT_EQ(before["clients"].size(), 2u);

  t.Restart();
  EXPECT_EQ(http().Call("GET", "/v1/oauth/clients", admin()).json(), before);

  // Delete the projections: the store is filled again from the ledger alone.
  t.Shutdown();
  ASSERT_TRUE(ProjectionStore::Destroy(t.config().ProjectionsDir()).ok());
  t.Restart();
  EXPECT_EQ(http().Call("GET", "/v1/oauth/clients", admin()).json(), before);
}

}  // namespace
}  // namespace authledger::testing
