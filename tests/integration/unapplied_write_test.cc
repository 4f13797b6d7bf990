// A write that is durable in the ledger but not yet applied by this node's
// projections (the projection wait ran out) answers 202 Accepted with
// "applied": false (gateway/admin_handlers.h), over real HTTP: until it is applied,
// reads here — verify included — do not show it.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class UnappliedWriteTest : public ::testing::Test {
 protected:
  TestNode t;
  HttpClient& http() { return t.http(); }
  const std::string& admin() { return t.admin_key(); }

  // From here on every write is durable but cannot be applied within the wait.
  void StallProjections() {
    t.node().projector().Stop();
    t.node().commands().SetProjectionWait(100ms);
  }
  void ResumeProjections() {
    t.node().projector().Start();
    t.node().commands().SetProjectionWait(10s);
  }
  std::string Verify(const std::string& key) {
    auto r = http().Call("POST", "/v1/keys/verify", "", {{"key", key}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json()["code"];
  }
  // 202, "applied": false, and the position of the ledger's last event in the body and header.
  void ExpectAccepted(const HttpResult& r) {
    EXPECT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    json body = r.json();
    EXPECT_EQ(body["applied"], false) << r.body;
    EXPECT_EQ(body["position"].get<Position>(), t.node().log().Heads().at(0));
    EXPECT_EQ(r.header("x-ledger-position"), std::to_string(body["position"].get<Position>()));
  }
};

TEST_F(UnappliedWriteTest, RevokeAnswers202UntilAppliedThenVerifySaysRevoked) {
  json k = t.CreateKey({{"name", "leaked"}, {"scopes", {"monitors:read"}}});
  const std::string id = k["id"], key = k["key"];
  EXPECT_FALSE(k.contains("applied"));  // an applied write says nothing more
  ASSERT_EQ(Verify(key), "VALID");

  StallProjections();
  auto r = http().Call("DELETE", "/v1/keys/" + id + "?reason=leaked", admin());
  ExpectAccepted(r);
  json body = r.json();
  EXPECT_EQ(body["id"], id);
  EXPECT_EQ(body["status"], "revoked");  // the state the write decided
  EXPECT_TRUE(body["revoked_at"].is_string());
  const Position position = body["position"];
  // Durable, but this node does not show it yet: the key still verifies here.
  EXPECT_EQ(Verify(key), "VALID");
  auto waiting = http().Request("POST", "/v1/keys/verify", json({{"key", key}}).dump(),
                                {{"X-Min-Position", std::to_string(position)}});
  EXPECT_EQ(waiting.status, 503) << waiting.body;

  ResumeProjections();
  auto applied = http().Request("POST", "/v1/keys/verify", json({{"key", key}}).dump(),
                                {{"X-Min-Position", std::to_string(position)}});
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(applied.json()["code"], "REVOKED");
  EXPECT_EQ(Verify(key), "REVOKED");
  // Repeating the revoke finds it done.
  EXPECT_EQ(http().Call("DELETE", "/v1/keys/" + id, admin()).status, 409);
}

TEST_F(UnappliedWriteTest, CreatesAnswer202WithTheSecretAndLocation) {
  StallProjections();
  auto created = http().Call("POST", "/v1/keys", admin(), {{"name", "new"}, {"scopes", {"monitors:read"}}});
  ExpectAccepted(created);
  json k = created.json();
  ASSERT_TRUE(k["key"].is_string());  // shown once, whether applied yet or not
  EXPECT_EQ(created.header("location"), "/v1/keys/" + k["id"].get<std::string>());
  EXPECT_EQ(http().Call("GET", "/v1/keys/" + k["id"].get<std::string>(), admin()).status, 404);

  // Nothing new to decide on: the projections first have to catch up with the ledger.
  ResumeProjections();
  auto client = http().Call(
      "POST", "/v1/oauth/clients", admin(),
      {{"name", "dashboard"}, {"scopes", {"monitors:read"}}, {"redirect_uris", {"https://app.example.com/callback"}}});
  ASSERT_EQ(client.status, 201) << client.body;
  StallProjections();
  auto rotated =
      http().Call("POST", "/v1/oauth/clients/" + client.json()["id"].get<std::string>() + "/rotate-secret", admin());
  ExpectAccepted(rotated);
  EXPECT_TRUE(rotated.json()["client_secret"].is_string());
  auto registered =
      http().Call("POST", "/v1/oauth/clients", admin(),
                  {{"name", "cli"}, {"scopes", {"monitors:read"}}, {"redirect_uris", {"https://app.example.com/cli"}}});
  // The account's projection is behind its ledger now: the write waits, then refuses.
  EXPECT_EQ(registered.status, 503) << registered.body;

  ResumeProjections();
  auto got =
      http().Request("GET", "/v1/keys/" + k["id"].get<std::string>(), "",
                     {{"Authorization", "Bearer " + admin()}, {"X-Min-Position", created.header("x-ledger-position")}});
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Verify(k["key"]), "VALID");
}

}  // namespace
}  // namespace authledger::testing
