// The JSON renderings of keys and OAuth clients (gateway/resource_json.h), in
// the REST form and in `authledger replay --format jsonl` lines: byte for byte
// what the endpoints and the replay printed before they shared one renderer.
#include <gtest/gtest.h>

#include <sstream>

#include "app/replay.h"
#include "gateway/resource_json.h"

namespace authledger {
namespace {

constexpr TimeMs kNow = 1772323200000;  // 2026-03-01T00:00:00Z

// Every field set, with characters JSON must escape in the name.
KeyState FullKey() {
  KeyState k;
  k.id = "k7Qm2xLp9ZaB";
  k.name = "deploy \"bot\"\n";
  k.environment = "live";
  k.scopes = {"metrics:read", "monitors:read"};
  k.secret_hash = std::string(64, 'a');
  k.created_at = kNow - 86400000;
  k.created_by = "key_admin0001";
  k.expires_at = kNow + 3600000;
  k.allowed_cidrs = {"203.0.113.0/24", "2001:db8::/32"};
  k.rotated_from = "a1b2c3d4e5f6";
  k.replaced_by = "f6e5d4c3b2a1";
  k.grace_until = kNow + 1000;
  k.revoked_at = kNow - 1;
  k.revoke_reason = "leaked";
  k.last_used_at = kNow - 5000;
  k.last_used_ip = "198.51.100.7";
  k.use_count = 9;
  return k;
}

// Only what every key has: the optional fields are null or empty.
KeyState BareKey() {
  KeyState k;
  k.id = "b0b0b0b0b0b0";
  k.name = "bare";
  k.environment = "test";
  k.created_at = kNow;
  k.created_by = "x";
  return k;
}

ClientState ConfidentialClient() {
  ClientState c;
  c.id = "clnt_Ab12Cd34Ef56";
  c.name = "web";
  c.description = "the dashboard";
  c.redirect_uris = {"https://a.example/cb"};
  c.scopes = {"monitors:read"};
  c.grant_types = {"authorization_code", "refresh_token"};
  c.token_endpoint_auth_method = "client_secret_basic";
  c.secret_hash = std::string(64, 'b');
  c.created_at = kNow - 10;
  c.created_by = "key_admin0001";
  c.secret_rotated_at = kNow - 5;
  return c;
}

ClientState DeletedPublicClient() {
  ClientState c = ConfidentialClient();
  c.id = "clnt_pub000000000";
  c.description = "";
  c.token_endpoint_auth_method = "none";
  c.secret_hash = "";
  c.secret_rotated_at.reset();
  c.deleted_at = kNow;
  c.delete_reason = "gone";
  return c;
}

ReplayInfo Info() {
  ReplayInfo i;
  i.position = 42;
  i.as_of = kNow;
  return i;
}

TEST(ResourceJsonTest, KeyInTheApiForm) {
  EXPECT_EQ(KeyJson(FullKey(), FullKey().StatusAt(kNow), JsonForm::kApi, "al").dump(),
            R"({"allowed_cidrs":["203.0.113.0/24","2001:db8::/32"],"created_at":"2026-02-28T00:00:00.000Z",)"
            R"("created_by":"key_admin0001","environment":"live","expires_at":"2026-03-01T01:00:00.000Z",)"
            R"("grace_until":"2026-03-01T00:00:01.000Z","id":"k7Qm2xLp9ZaB","last_used_at":"2026-02-28T23:59:55.000Z",)"
            R"("last_used_ip":"198.51.100.7","name":"deploy \"bot\"\n","prefix":"al_live_k7Qm2xLp9ZaB",)"
            R"("replaced_by":"f6e5d4c3b2a1","revoked_at":"2026-02-28T23:59:59.999Z","rotated_from":"a1b2c3d4e5f6",)"
            R"("scopes":["metrics:read","monitors:read"],"status":"revoked"})");
  EXPECT_EQ(KeyJson(BareKey(), BareKey().StatusAt(kNow), JsonForm::kApi, "al").dump(),
            R"({"allowed_cidrs":[],"created_at":"2026-03-01T00:00:00.000Z","created_by":"x",)"
            R"("environment":"test","expires_at":null,"grace_until":null,"id":"b0b0b0b0b0b0",)"
            R"("last_used_at":null,"last_used_ip":null,"name":"bare","prefix":"al_test_b0b0b0b0b0b0",)"
            R"("replaced_by":null,"revoked_at":null,"rotated_from":null,"scopes":[],"status":"active"})");
}

TEST(ResourceJsonTest, KeyInAReplayLine) {
  std::ostringstream out;
  PrintReplayedKeys(out, Info(), "acct_o9eqMnEY0MB0",
                    {{FullKey(), FullKey().StatusAt(kNow)}, {BareKey(), BareKey().StatusAt(kNow)}}, false, "jsonl");
  EXPECT_EQ(out.str(),
            std::string(R"({"account_id":"acct_o9eqMnEY0MB0","allowed_cidrs":["203.0.113.0/24","2001:db8::/32"],)"
                        R"("as_of":"2026-03-01T00:00:00.000Z","created_at":"2026-02-28T00:00:00.000Z",)"
                        R"("created_by":"key_admin0001","environment":"live","expires_at":"2026-03-01T01:00:00.000Z",)"
                        R"("grace_until":"2026-03-01T00:00:01.000Z","id":"k7Qm2xLp9ZaB","name":"deploy \"bot\"\n",)"
                        R"("position":42,"replaced_by":"f6e5d4c3b2a1","revoked_at":"2026-02-28T23:59:59.999Z",)"
                        R"("rotated_from":"a1b2c3d4e5f6","scopes":["metrics:read","monitors:read"],)"
                        R"("status":"revoked"})") +
                "\n" +
                R"({"account_id":"acct_o9eqMnEY0MB0","allowed_cidrs":[],"as_of":"2026-03-01T00:00:00.000Z",)"
                R"("created_at":"2026-03-01T00:00:00.000Z","created_by":"x","environment":"test",)"
                R"("expires_at":null,"grace_until":null,"id":"b0b0b0b0b0b0","name":"bare",)"
                R"("position":42,"replaced_by":null,"revoked_at":null,"rotated_from":null,)"
                R"("scopes":[],"status":"active"})" +
                "\n");
}

TEST(ResourceJsonTest, ClientInTheApiForm) {
  EXPECT_EQ(ClientJson(ConfidentialClient(), JsonForm::kApi).dump(),
            R"({"confidential":true,"created_at":"2026-02-28T23:59:59.990Z","created_by":"key_admin0001",)"
            R"("deleted_at":null,"description":"the dashboard","grant_types":["authorization_code",)"
            R"("refresh_token"],"id":"clnt_Ab12Cd34Ef56","name":"web","redirect_uris":["https://a.example/cb"],)"
            R"("scopes":["monitors:read"],"secret_rotated_at":"2026-02-28T23:59:59.995Z",)"
            R"("status":"active","token_endpoint_auth_method":"client_secret_basic"})");
  EXPECT_EQ(ClientJson(DeletedPublicClient(), JsonForm::kApi).dump(),
            R"({"confidential":false,"created_at":"2026-02-28T23:59:59.990Z","created_by":"key_admin0001",)"
            R"("deleted_at":"2026-03-01T00:00:00.000Z","description":"","grant_types":["authorization_code",)"
            R"("refresh_token"],"id":"clnt_pub000000000","name":"web","redirect_uris":["https://a.example/cb"],)"
            R"("scopes":["monitors:read"],"secret_rotated_at":null,"status":"deleted",)"
            R"("token_endpoint_auth_method":"none"})");
}

TEST(ResourceJsonTest, ClientInAReplayLine) {
  std::ostringstream out;
  PrintReplayedClients(out, Info(), "acct_o9eqMnEY0MB0", {ConfidentialClient(), DeletedPublicClient()}, false, "jsonl");
  EXPECT_EQ(
      out.str(),
      std::string(
          R"({"account_id":"acct_o9eqMnEY0MB0","as_of":"2026-03-01T00:00:00.000Z",)"
          R"("created_at":"2026-02-28T23:59:59.990Z",)"
          R"("created_by":"key_admin0001","deleted_at":null,"grant_types":["authorization_code",)"
          R"("refresh_token"],"id":"clnt_Ab12Cd34Ef56","name":"web","position":42,"redirect_uris":["https://a.example/cb"],)"
          R"("scopes":["monitors:read"],"secret_rotated_at":"2026-02-28T23:59:59.995Z",)"
          R"("status":"active","token_endpoint_auth_method":"client_secret_basic"})") +
          "\n" +
          R"({"account_id":"acct_o9eqMnEY0MB0","as_of":"2026-03-01T00:00:00.000Z","created_at":"2026-02-28T23:59:59.990Z",)"
          R"("created_by":"key_admin0001","deleted_at":"2026-03-01T00:00:00.000Z","grant_types":["authorization_code",)"
          R"("refresh_token"],"id":"clnt_pub000000000","name":"web","position":42,"redirect_uris":["https://a.example/cb"],)"
          R"("scopes":["monitors:read"],"secret_rotated_at":null,"status":"deleted",)"
          R"("token_endpoint_auth_method":"none"})" +
          "\n");
}

TEST(ResourceJsonTest, NeverASecretOrItsHash) {
  for (const std::string& s : {KeyJson(FullKey(), KeyStatus::kActive, JsonForm::kApi, "al").dump(),
                               ClientJson(ConfidentialClient(), JsonForm::kApi).dump()}) {
    EXPECT_EQ(s.find("secret_hash"), std::string::npos) << s;
    EXPECT_EQ(s.find(std::string(64, 'a')), std::string::npos) << s;
    EXPECT_EQ(s.find(std::string(64, 'b')), std::string::npos) << s;
    EXPECT_EQ(s.find("reason"), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace authledger
