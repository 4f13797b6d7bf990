// projections/state_codec: the binary values of the accounts, account_keys and
// account_clients read models round-trip exactly, and damage is Corruption, never a crash.
#include "projections/state_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace authledger {
namespace {

std::string CodeOf(const Status& s) { return Status::CodeName(s.code()); }

// A state that sets every optional field somewhere (and leaves each unset somewhere).
AccountState RichState() {
  AccountState s;
  s.id = "acct_StateCodec01";
  s.name = "Acme \"Ops\" \xc3\xa9";
  s.created_at = 1795676673123;
  s.seq = 300;  // > 127: a two-byte varint
  s.head_hash = std::string(64, 'f');
  s.last_event_time = s.created_at + 7200000;
  s.open_keys = 130;  // > 127: a two-byte varint
  s.ending_keys = {{s.created_at + 73LL * 3600000, "KeyA00000001"}, {s.created_at + 90LL * 86400000, "KeyZ00000001"}};
  s.active_clients = 2;
  KeyState a;
  a.id = "KeyA00000001";
  a.name = "ci";
  a.environment = "test";
  a.scopes = {"alerts:write", "monitors:read"};
  a.secret_hash = std::string(64, 'a');
  a.created_at = s.created_at;
  a.created_by = "tester";
  a.expires_at = s.created_at + 30LL * 86400000;
  a.allowed_cidrs = {"10.0.0.0/8", "2001:db8::/32"};
  a.replaced_by = "KeyC00000001";
  a.grace_until = s.created_at + 73LL * 3600000;
  a.last_used_at = s.created_at + 3600000;
  a.last_used_ip = "203.0.113.9";
  a.use_count = 1ULL << 40;
  KeyState b;
  b.id = "KeyB00000001";
  b.name = std::string(300, 'n');  // a long name: lengths beyond one varint byte
  b.environment = "live";
  b.scopes = {"admin:*"};
  b.secret_hash = std::string(64, 'b');
  b.created_at = -5;  // before 1970: negative times survive
  b.revoked_at = s.created_at + 3600000;
  b.revoke_reason = "no longer needed";
  KeyState c;
  c.id = "KeyC00000001";
  c.environment = "test";
  c.secret_hash = std::string(64, 'd');
  c.rotated_from = "KeyA00000001";
  for (auto* k : {&a, &b, &c}) s.keys.emplace(k->id, *k);
  ClientState confidential;
  confidential.id = "clnt_Confidentia1";
  confidential.name = "PagerDuty \"Sync\"";
  confidential.description = std::string(200, 'd');
  confidential.redirect_uris = {"https://a.example/cb", "http://127.0.0.1:8080/cb"};
  confidential.scopes = {"alerts:read", "monitors:read"};
  confidential.grant_types = {"authorization_code", "client_credentials", "refresh_token"};
  confidential.token_endpoint_auth_method = "client_secret_post";
  confidential.secret_hash = std::string(64, 'e');
  confidential.created_at = s.created_at;
  confidential.created_by = "KeyA00000001";
  confidential.secret_rotated_at = s.created_at + 1000;
  ClientState gone;  // public, deleted
  gone.id = "clnt_PublicGone01";
  gone.name = "cli";
  gone.scopes = {"monitors:read"};
  gone.grant_types = {"authorization_code"};
  gone.redirect_uris = {"http://localhost/cb"};
  gone.token_endpoint_auth_method = "none";
  gone.created_at = -7;
  gone.deleted_at = s.created_at + 2000;
  gone.delete_reason = "retired";
  for (auto* c : {&confidential, &gone}) s.clients.emplace(c->id, *c);
  return s;
}

TEST(StateCodecTest, AccountRoundTripsExactlyWithoutItsKeys) {
  const AccountState s = RichState();
  const std::string bytes = EncodeAccountState(s);
  auto back = DecodeAccountState(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->keys.empty());     // keys live in account_keys, one row each
  EXPECT_TRUE(back->clients.empty());  // clients in account_clients, one row each
  AccountState header = s;
  header.keys.clear();
  header.clients.clear();
  EXPECT_TRUE(*back == header);
  EXPECT_EQ(EncodeAccountState(*back), bytes);
  EXPECT_EQ(bytes, EncodeAccountState(header));  // keys and clients add nothing to the account's value
}

TEST(StateCodecTest, EmptyAccountRoundTrips) {
  AccountState s;
  auto back = DecodeAccountState(EncodeAccountState(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == s);
  EXPECT_FALSE(back->exists());
  EXPECT_EQ(back->head_hash, kGenesisHash);
}

TEST(StateCodecTest, EveryKeyRoundTripsAlone) {
  for (const auto& [id, k] : RichState().keys) {
    auto back = DecodeKeyState(EncodeKeyState(k));
    ASSERT_TRUE(back.ok()) << id << ": " << back.status().ToString();
    EXPECT_TRUE(*back == k) << id;
  }
}

TEST(StateCodecTest, EveryClientRoundTripsAlone) {
  const AccountState s = RichState();
  ASSERT_EQ(s.clients.size(), 2u);
  for (const auto& [id, c] : s.clients) {
    const std::string bytes = EncodeClientState(c);
    auto back = DecodeClientState(bytes);
    ASSERT_TRUE(back.ok()) << id << ": " << back.status().ToString();
    EXPECT_TRUE(*back == c) << id;
    EXPECT_EQ(EncodeClientState(*back), bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n)  // every truncation is damage
      EXPECT_EQ(CodeOf(DecodeClientState(bytes.substr(0, n)).status()), "Corruption") << id << " " << n;
    EXPECT_EQ(CodeOf(DecodeClientState(bytes + "x").status()), "Corruption");
    EXPECT_EQ(CodeOf(DecodeKeyState(bytes).status()), "Corruption") << "a client row is not a key row";
  }
}

TEST(StateCodecTest, TheHeadIsReadWithoutTheKeys) {
  const AccountState s = RichState();
  std::uint64_t seq = 0;
  std::string hash;
  ASSERT_TRUE(DecodeAccountHead(EncodeAccountState(s), &seq, &hash).ok());
  EXPECT_EQ(seq, 300u);
  EXPECT_EQ(hash, s.head_hash);
}

TEST(StateCodecTest, EqualStatesGiveEqualBytesAndDifferentStatesDifferentBytes) {
  AccountState a = RichState(), b = RichState();
  EXPECT_EQ(EncodeAccountState(a), EncodeAccountState(b));
  b.seq += 1;
  EXPECT_NE(EncodeAccountState(a), EncodeAccountState(b));
  ClientState c = a.clients.at("clnt_PublicGone01");
  const std::string client_before = EncodeClientState(c);
  c.delete_reason = "retired!";
  EXPECT_NE(EncodeClientState(c), client_before);
  KeyState k = a.keys.at("KeyC00000001");
  const std::string before = EncodeKeyState(k);
  k.use_count = 1;
  EXPECT_NE(EncodeKeyState(k), before);
}

TEST(StateCodecTest, DamageIsCorruptionNeverACrash) {
  const std::string account = EncodeAccountState(RichState());
  const std::string key = EncodeKeyState(RichState().keys.at("KeyA00000001"));
  std::vector<std::string> bad = {"", std::string(1, '\x02'), "{\"id\":\"acct\"}", account + "x", key + "x"};
  for (std::size_t n = 0; n < account.size(); n += 7) bad.push_back(account.substr(0, n));  // every truncation
  for (std::size_t n = 0; n < key.size(); ++n) bad.push_back(key.substr(0, n));
  {
    std::string b = account;
    b[0] = '\x09';  // unknown version
    bad.push_back(b);
  }
  for (const auto& b : bad) {
    Result<AccountState> r = Status::Internal("not run");
    Result<KeyState> k = Status::Internal("not run");
    EXPECT_NO_THROW(r = DecodeAccountState(b));
    EXPECT_NO_THROW(k = DecodeKeyState(b));
    EXPECT_EQ(CodeOf(r.status()), "Corruption") << b.size();
    EXPECT_EQ(CodeOf(k.status()), "Corruption") << b.size();
  }
  // Flipping any single byte never crashes, and never decodes to the same state.
  for (std::size_t i = 0; i < account.size(); ++i) {
    std::string b = account;
    b[i] = static_cast<char>(b[i] ^ 0x5A);
    auto r = DecodeAccountState(b);
    if (r.ok()) {
      AccountState header = RichState();
      header.keys.clear();
      header.clients.clear();
      EXPECT_FALSE(*r == header) << i;
    }
  }
}

}  // namespace
}  // namespace authledger
