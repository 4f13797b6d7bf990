// domain/account_state: Apply's chain checks, key status over time, and the
// canonical JSON codec of the aggregate.
#include "domain/account_state.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "domain/api_key.h"
#include "domain/decide.h"
#include "domain/envelope.h"
#include "domain/ids.h"

namespace authledger {
namespace {

std::string CodeOf(const Status& s) { return Status::CodeName(s.code()); }

const TimeMs kT0 = 1795676673123;
const std::string kAccount = "acct_ApplyTest001";
const Actor kActor = Actor::Cli("tester");

KeyCreated SimpleKey(const std::string& id, std::vector<std::string> scopes = {"monitors:read"}) {
  KeyCreated k;
  k.key_id = id;
  k.name = "k " + id;
  k.scopes = std::move(scopes);
  k.environment = "live";
  k.secret_hash = std::string(64, 'c');
  return k;
}

// A hand-driven chain: each Next() builds the event that correctly continues
// the state, which a test may then damage before applying.
struct Chain {
  AccountState state;
  std::vector<std::string> stored;
  TimeMs now = kT0;

  Event Next(EventData data) const {
    return Event{NewUuidV7(now), kAccount, state.seq + 1, state.head_hash, now, kActor, std::move(data)};
  }
  // Encodes, decodes and applies; returns Apply's status.
  Status Push(const Event& e) {
    std::string bytes = EncodeEvent(e);
    auto decoded = DecodeEvent(bytes);
    if (!decoded.ok()) return decoded.status();
    Status st = Apply(&state, *decoded, EventHash(bytes));
    if (st.ok()) stored.push_back(bytes);
    return st;
  }
  Status Add(EventData data) { return Push(Next(std::move(data))); }
  ::testing::AssertionResult Commit(const Decision& d) {
    if (!d.ok()) return ::testing::AssertionFailure() << d.status().ToString();
    for (const auto& data : *d) {
      Status st = Add(data);
      if (!st.ok()) return ::testing::AssertionFailure() << st.ToString();
    }
    return ::testing::AssertionSuccess();
  }
  AccountState Snapshot() const { return state; }
};

class DomainApplyTest : public ::testing::Test {
 protected:
  Chain c_;
  void SetUp() override { ASSERT_TRUE(c_.Add(AccountCreated{"Acme"}).ok()); }

  void ExpectCorruptAndUnchanged(const Event& e, const std::string& why) {
    const AccountState before = c_.Snapshot();
    Status st = c_.Push(e);
    EXPECT_EQ(CodeOf(st), "Corruption") << why << ": " << st.ToString();
    EXPECT_TRUE(c_.Snapshot() == before) << why << ": a rejected event changed the state";
  }
};

ClientRegistered SimpleClient(const std::string& id, const std::string& auth_method = "client_secret_basic") {
  ClientRegistered c;
  c.client_id = id;
  c.name = "client " + id;
  c.redirect_uris = {"https://a.example/cb"};
  c.scopes = {"monitors:read"};
  c.grant_types = {"authorization_code"};
  c.token_endpoint_auth_method = auth_method;
  if (auth_method != "none") c.secret_hash = std::string(64, 'c');
  return c;
}

// ---- the chain ---------------------------------------------------------------------

TEST(DomainApplyChainTest, FirstEventMustBeAccountCreated) {
  Chain c;
  Status st = c.Add(SimpleKey("Key000000001"));
  EXPECT_EQ(CodeOf(st), "Corruption") << st.ToString();
  EXPECT_FALSE(c.state.exists());
  EXPECT_EQ(c.state.seq, 0u);
  EXPECT_EQ(c.state.head_hash, kGenesisHash);
  EXPECT_TRUE(c.state.keys.empty());
  st = c.Add(KeyRevoked{"Key000000001", ""});
  EXPECT_EQ(CodeOf(st), "Corruption");
  // The first event must also start at seq 1 from the genesis hash.
  Event e = c.Next(AccountCreated{"A"});
  e.seq = 2;
  EXPECT_EQ(CodeOf(c.Push(e)), "Corruption");
  e = c.Next(AccountCreated{"A"});
  e.prev_hash = std::string(64, 'a');
  EXPECT_EQ(CodeOf(c.Push(e)), "Corruption");
  EXPECT_TRUE(c.Add(AccountCreated{"A"}).ok());
}

TEST_F(DomainApplyTest, AppliedEventAdvancesSeqAndHead) {
  EXPECT_EQ(c_.state.seq, 1u);
  EXPECT_EQ(c_.state.id, kAccount);
  EXPECT_EQ(c_.state.head_hash, EventHash(c_.stored[0]));
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001")).ok());
  EXPECT_EQ(c_.state.seq, 2u);
  EXPECT_EQ(c_.state.head_hash, EventHash(c_.stored[1]));
  // Apply trusts the hash it is given for the head (the stored bytes' hash).
  Event e = c_.Next(KeyRevoked{"Key000000001", ""});
  AccountState copy = c_.state;
  ASSERT_TRUE(Apply(&copy, e, std::string(64, '7')).ok());
  EXPECT_EQ(copy.head_hash, std::string(64, '7'));
  EXPECT_EQ(copy.seq, 3u);
}

TEST_F(DomainApplyTest, SeqGapIsCorruption) {
  Event e = c_.Next(SimpleKey("Key000000001"));
  e.seq = 3;
  ExpectCorruptAndUnchanged(e, "gap");
  e.seq = 1;
  ExpectCorruptAndUnchanged(e, "repeat");
  e.seq = 0;
  ExpectCorruptAndUnchanged(e, "zero");
  e.seq = 2;
  EXPECT_TRUE(c_.Push(e).ok());
}

TEST_F(DomainApplyTest, WrongPrevHashIsCorruption) {
  Event e = c_.Next(SimpleKey("Key000000001"));
  e.prev_hash = kGenesisHash;
  ExpectCorruptAndUnchanged(e, "genesis as prevhash of the second event");
  std::string h = c_.state.head_hash;
  h[10] = h[10] == 'a' ? 'b' : 'a';
  e.prev_hash = h;
  ExpectCorruptAndUnchanged(e, "one nibble off");
  e.prev_hash = EventHash(c_.stored[0] + " ");
  ExpectCorruptAndUnchanged(e, "hash of other bytes");
}

TEST_F(DomainApplyTest, EventOfAnotherAccountIsCorruption) {
  Event e = c_.Next(SimpleKey("Key000000001"));
  e.account_id = "acct_SomeoneElse1";
  ExpectCorruptAndUnchanged(e, "other account");
}

TEST_F(DomainApplyTest, UnknownKeyIsCorruption) {
  const std::string ghost = "Ghost0000001";
  ExpectCorruptAndUnchanged(c_.Next(KeyScopesGranted{ghost, {"alerts:read"}}), "grant");
  ExpectCorruptAndUnchanged(c_.Next(KeyScopesRevoked{ghost, {"alerts:read"}}), "revoke scope");
  ExpectCorruptAndUnchanged(c_.Next(KeyRotated{ghost, "Key000000002", kT0}), "rotate");
  ExpectCorruptAndUnchanged(c_.Next(KeyRevoked{ghost, ""}), "revoke");
  ExpectCorruptAndUnchanged(c_.Next(KeyUsed{ghost, kT0, "", 1}), "used");
  // An event about a key that names none is damage too (never a null key below).
  ExpectCorruptAndUnchanged(c_.Next(KeyScopesGranted{"", {"alerts:read"}}), "grant without an id");
  ExpectCorruptAndUnchanged(c_.Next(KeyRevoked{"", ""}), "revoke without an id");
  ExpectCorruptAndUnchanged(c_.Next(KeyUsed{"", kT0, "", 1}), "used without an id");
}

// account_state.h: Apply returns Corruption if an event "refers to a key that
// does not exist" -- that includes the replacement named by key.rotated and
// the predecessor named by key.created's rotated_from. (Decide always creates
// the replacement before the rotated event, so valid histories are unaffected.)
TEST_F(DomainApplyTest, RotationReferencingAMissingKeyIsCorruption) {
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001")).ok());
  ExpectCorruptAndUnchanged(c_.Next(KeyRotated{"Key000000001", "Ghost0000001", kT0 + kHourMs}),
                            "rotated to a key that does not exist");
  KeyCreated orphan = SimpleKey("Key000000002");
  orphan.rotated_from = "Ghost0000001";
  ExpectCorruptAndUnchanged(c_.Next(orphan), "created as the rotation of a key that does not exist");
  // The valid order -- replacement first, then the rotation -- applies.
  KeyCreated next = SimpleKey("Key000000003");
  next.rotated_from = "Key000000001";
  ASSERT_TRUE(c_.Add(next).ok());
  EXPECT_TRUE(c_.Add(KeyRotated{"Key000000001", "Key000000003", kT0 + kHourMs}).ok());
}

TEST_F(DomainApplyTest, DuplicateCreationIsCorruption) {
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001")).ok());
  KeyCreated again = SimpleKey("Key000000001", {"admin:*"});
  ExpectCorruptAndUnchanged(c_.Next(again), "key created twice");
  EXPECT_EQ(c_.state.FindKey("Key000000001")->scopes, (std::vector<std::string>{"monitors:read"}));
  ExpectCorruptAndUnchanged(c_.Next(AccountCreated{"Again"}), "account created twice");
  EXPECT_EQ(c_.state.name, "Acme");
}

TEST_F(DomainApplyTest, KeyCreatedRecordsActorAndTime) {
  ASSERT_TRUE(c_.Add(SimpleKey("Old000000001")).ok());  // rotated_from must name an existing key
  c_.now = kT0 + 5000;
  KeyCreated k = SimpleKey("Key000000001", {"alerts:read", "monitors:read"});
  k.expires_at = kT0 + kDayMs;
  k.allowed_cidrs = {"10.0.0.0/8"};
  k.rotated_from = "Old000000001";
  ASSERT_TRUE(c_.Add(k).ok());
  const KeyState* s = c_.state.FindKey("Key000000001");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->created_at, kT0 + 5000);
  EXPECT_EQ(s->created_by, "tester");
  EXPECT_EQ(s->expires_at, kT0 + kDayMs);
  EXPECT_EQ(s->allowed_cidrs, (std::vector<std::string>{"10.0.0.0/8"}));
  EXPECT_EQ(s->rotated_from, "Old000000001");
  EXPECT_EQ(s->secret_hash, std::string(64, 'c'));
  EXPECT_EQ(c_.state.FindKey("Nope00000000"), nullptr);
}

TEST_F(DomainApplyTest, ScopeEventsKeepScopesSortedAndUnique) {
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001", {"alerts:read", "monitors:read"})).ok());
  ASSERT_TRUE(c_.Add(KeyScopesGranted{"Key000000001", {"metrics:read", "alerts:read", "billing:read"}}).ok());
  EXPECT_EQ(c_.state.FindKey("Key000000001")->scopes,
            (std::vector<std::string>{"alerts:read", "billing:read", "metrics:read", "monitors:read"}));
  ASSERT_TRUE(c_.Add(KeyScopesRevoked{"Key000000001", {"billing:read", "alerts:read", "teams:admin"}}).ok());
  EXPECT_EQ(c_.state.FindKey("Key000000001")->scopes, (std::vector<std::string>{"metrics:read", "monitors:read"}));
}

TEST_F(DomainApplyTest, KeyUsedKeepsTheLatestTimeAndSumsUses) {
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001")).ok());
  ASSERT_TRUE(c_.Add(KeyUsed{"Key000000001", kT0 + 100, "203.0.113.9", 2}).ok());
  ASSERT_TRUE(c_.Add(KeyUsed{"Key000000001", kT0 + 50, "198.51.100.1", 3}).ok());
  const KeyState* k = c_.state.FindKey("Key000000001");
  EXPECT_EQ(k->last_used_at, kT0 + 100);
  EXPECT_EQ(k->last_used_ip, "203.0.113.9");
  EXPECT_EQ(k->use_count, 5u);
  ASSERT_TRUE(c_.Add(KeyUsed{"Key000000001", kT0 + 100, "192.0.2.1", 1}).ok());
  EXPECT_EQ(k->last_used_ip, "192.0.2.1");
  EXPECT_EQ(k->use_count, 6u);
}

TEST_F(DomainApplyTest, RotateAndRevokeFields) {
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001")).ok());
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000002")).ok());
  ASSERT_TRUE(c_.Add(KeyRotated{"Key000000001", "Key000000002", kT0 + kHourMs}).ok());
  const KeyState* k = c_.state.FindKey("Key000000001");
  EXPECT_EQ(k->replaced_by, "Key000000002");
  EXPECT_EQ(k->grace_until, kT0 + kHourMs);
  c_.now = kT0 + 10;
  ASSERT_TRUE(c_.Add(KeyRevoked{"Key000000001", "compromised"}).ok());
  EXPECT_EQ(k->revoked_at, kT0 + 10);
  EXPECT_EQ(k->revoke_reason, "compromised");
}

TEST_F(DomainApplyTest, ReplayGivesIdenticalState) {
  ASSERT_TRUE(c_.Add(SimpleKey("Key000000001", {"alerts:read", "monitors:read"})).ok());
  ASSERT_TRUE(c_.Add(KeyScopesGranted{"Key000000001", {"metrics:read"}}).ok());
  ASSERT_TRUE(c_.Add(KeyUsed{"Key000000001", kT0 + 5, "203.0.113.9", 9}).ok());
  ASSERT_TRUE(c_.Add(KeyRevoked{"Key000000001", "x"}).ok());
  AccountState replay;
  for (const auto& bytes : c_.stored) {
    auto e = DecodeEvent(bytes);
    ASSERT_TRUE(e.ok());
    ASSERT_TRUE(Apply(&replay, *e, EventHash(bytes)).ok());
  }
  EXPECT_TRUE(replay == c_.Snapshot());
  // A tampered stored event breaks the chain at the next event.
  std::vector<std::string> tampered = c_.stored;
  tampered[2].replace(tampered[2].find("metrics:read"), 12, "billing:read");
  AccountState broken;
  Status last;
  std::size_t applied = 0;
  for (const auto& bytes : tampered) {
    auto e = DecodeEvent(bytes);
    ASSERT_TRUE(e.ok());
    last = Apply(&broken, *e, EventHash(bytes));
    if (!last.ok()) break;
    ++applied;
  }
  EXPECT_EQ(CodeOf(last), "Corruption");
  EXPECT_EQ(applied, 3u);  // events 1..3 apply; event 4's prevhash no longer matches
}

// ---- status over time ---------------------------------------------------------------------

TEST(DomainKeyStatusTest, Names) {
  EXPECT_EQ(KeyStatusName(KeyStatus::kActive), "active");
  EXPECT_EQ(KeyStatusName(KeyStatus::kRotating), "rotating");
  EXPECT_EQ(KeyStatusName(KeyStatus::kExpired), "expired");
  EXPECT_EQ(KeyStatusName(KeyStatus::kRevoked), "revoked");
}

TEST(DomainKeyStatusTest, EndsAtIsTheEarlierOfExpiryAndGrace) {
  KeyState k;
  EXPECT_FALSE(k.EndsAt().has_value());
  k.expires_at = 1000;
  EXPECT_EQ(k.EndsAt(), 1000);
  k.grace_until = 500;
  EXPECT_EQ(k.EndsAt(), 500);
  k.grace_until = 2000;
  EXPECT_EQ(k.EndsAt(), 1000);
  k.expires_at.reset();
  EXPECT_EQ(k.EndsAt(), 2000);
}

TEST(DomainKeyStatusTest, StatusAtBoundaries) {
  KeyState k;
  EXPECT_EQ(k.StatusAt(0), KeyStatus::kActive);
  EXPECT_EQ(k.StatusAt(kT0 + 1000 * kDayMs), KeyStatus::kActive);
  k.expires_at = 1000;
  EXPECT_EQ(k.StatusAt(999), KeyStatus::kActive);
  EXPECT_EQ(k.StatusAt(1000), KeyStatus::kExpired);
  EXPECT_EQ(k.StatusAt(1001), KeyStatus::kExpired);
  k.expires_at.reset();
  k.replaced_by = "New000000001";
  k.grace_until = 2000;
  EXPECT_EQ(k.StatusAt(1999), KeyStatus::kRotating);
  EXPECT_EQ(k.StatusAt(2000), KeyStatus::kExpired);
  k.revoked_at = 1500;
  EXPECT_EQ(k.StatusAt(0), KeyStatus::kRevoked);
  EXPECT_EQ(k.StatusAt(1999), KeyStatus::kRevoked);
  EXPECT_EQ(k.StatusAt(5000), KeyStatus::kRevoked);
}

TEST(DomainKeyStatusTest, CountLiveKeysFromTheCounters) {
  AccountState s;
  s.open_keys = 1;                           // e.g. "a": no end
  s.ending_keys = {{100, "b"}, {200, "c"}};  // "b" expires at 100, "c" rotates away at 200
  EXPECT_EQ(s.CountLiveKeys(50), 3u);
  EXPECT_EQ(s.CountLiveKeys(100), 2u);
  EXPECT_EQ(s.CountLiveKeys(199), 2u);
  EXPECT_EQ(s.CountLiveKeys(200), 1u);
  s.keys["a"].id = "a";
  EXPECT_EQ(s.FindKey("a")->id, "a");
  EXPECT_EQ(s.FindKey("zz"), nullptr);
}

// The counters Apply keeps agree with counting every key's status, whatever the
// history: creations with and without expiry, rotations, revocations, time passing.
TEST(DomainKeyStatusTest, CountersAgreeWithAScanOverRandomHistories) {
  std::mt19937_64 rng(20261204);
  KeyPolicy policy;
  policy.max_live_keys = 100000;  // creates bypass the rules here; rotations must not hit the limit
  for (int history = 0; history < 40; ++history) {
    Chain c;
    ASSERT_TRUE(c.Add(AccountCreated{"Acme"}).ok());
    std::vector<std::string> ids;
    for (int step = 0; step < 120; ++step) {
      c.now += static_cast<TimeMs>(rng() % 5000);
      const std::uint64_t what = rng() % 10;
      if (what < 4 || ids.empty()) {  // create, a third with an expiry
        KeyCreated k = SimpleKey("K" + std::to_string(100000000000 + ids.size()));
        if (rng() % 3 == 0) k.expires_at = c.now + 1 + static_cast<TimeMs>(rng() % 20000);
        ASSERT_TRUE(c.Add(k).ok());
        ids.push_back(k.key_id);
        continue;
      }
      const std::string& id = ids[rng() % ids.size()];
      const KeyState& k = *c.state.FindKey(id);
      if (what < 7) {  // rotate a live, not yet rotated key
        if (k.StatusAt(c.now) != KeyStatus::kActive) continue;
        std::string next = "K" + std::to_string(100000000000 + ids.size());
        Decision d = DecideRotateKey(c.state, id, NewKey{next, std::string(64, 'd')},
                                     static_cast<TimeMs>(rng() % 10000), Caller{}, policy, c.now);
        ASSERT_TRUE(d.ok()) << d.status().ToString();
        ASSERT_TRUE(c.Commit(d));
        ids.push_back(next);
      } else if (!k.revoked_at) {
        ASSERT_TRUE(c.Add(KeyRevoked{id, ""}).ok());
      }
      for (TimeMs later : {c.now, c.now + 1000, c.now + 10000, c.now + 100000}) {
        std::size_t scanned = 0;
        for (const auto& [kid, key] : c.state.keys) {
          const KeyStatus st = key.StatusAt(later);
          scanned += st == KeyStatus::kActive || st == KeyStatus::kRotating;
        }
        ASSERT_EQ(c.state.CountLiveKeys(later), scanned) << "history " << history << " step " << step;
      }
      // The list only holds keys that may still end later than the last event.
      for (const KeyEnd& e : c.state.ending_keys) ASSERT_GT(e.at, c.state.last_event_time);
    }
  }
}

// ---- OAuth clients ------------------------------------------------------------------

TEST_F(DomainApplyTest, ClientLifecycleIsRecorded) {
  ASSERT_TRUE(c_.Add(SimpleClient("clnt_Client000001")).ok());
  const ClientState* cl = c_.state.FindClient("clnt_Client000001");
  ASSERT_NE(cl, nullptr);
  EXPECT_EQ(cl->created_at, kT0);
  EXPECT_EQ(cl->created_by, "tester");
  EXPECT_TRUE(cl->confidential());
  EXPECT_EQ(c_.state.CountActiveClients(), 1u);
  c_.now += 1000;
  ASSERT_TRUE(c_.Add(ClientSecretRotated{"clnt_Client000001", std::string(64, 'd')}).ok());
  EXPECT_EQ(cl->secret_hash, std::string(64, 'd'));
  EXPECT_EQ(cl->secret_rotated_at, kT0 + 1000);
  c_.now += 1000;
  ASSERT_TRUE(c_.Add(ClientDeleted{"clnt_Client000001", "done"}).ok());
  EXPECT_EQ(cl->deleted_at, kT0 + 2000);
  EXPECT_EQ(cl->delete_reason, "done");
  EXPECT_EQ(c_.state.CountActiveClients(), 0u);
}

TEST_F(DomainApplyTest, ClientEventsThatCannotHappenAreCorruption) {
  const std::string ghost = "clnt_Ghost0000001";
  ExpectCorruptAndUnchanged(c_.Next(ClientSecretRotated{ghost, std::string(64, 'd')}), "rotate unknown");
  ExpectCorruptAndUnchanged(c_.Next(ClientDeleted{ghost, ""}), "delete unknown");
  ClientRegistered no_hash = SimpleClient("clnt_Client000001");
  no_hash.secret_hash.clear();
  ExpectCorruptAndUnchanged(c_.Next(no_hash), "confidential without a secret hash");
  ClientRegistered public_with_hash = SimpleClient("clnt_Client000001", "none");
  public_with_hash.secret_hash = std::string(64, 'c');
  ExpectCorruptAndUnchanged(c_.Next(public_with_hash), "public with a secret hash");

  ExpectCorruptAndUnchanged(c_.Next(SimpleClient("")), "registered without an id");
  ExpectCorruptAndUnchanged(c_.Next(SimpleClient("clnt_short")), "registered with a malformed id");
  ExpectCorruptAndUnchanged(c_.Next(ClientSecretRotated{"", std::string(64, 'd')}), "rotate without an id");
  ExpectCorruptAndUnchanged(c_.Next(ClientDeleted{"", ""}), "delete without an id");

  ASSERT_TRUE(c_.Add(SimpleClient("clnt_Client000001")).ok());
  ExpectCorruptAndUnchanged(c_.Next(SimpleClient("clnt_Client000001")), "registered twice");
  ASSERT_TRUE(c_.Add(SimpleClient("clnt_Public000001", "none")).ok());
  ExpectCorruptAndUnchanged(c_.Next(ClientSecretRotated{"clnt_Public000001", std::string(64, 'd')}),
                            "a public client's secret");
  ASSERT_TRUE(c_.Add(ClientDeleted{"clnt_Client000001", ""}).ok());
  ExpectCorruptAndUnchanged(c_.Next(ClientDeleted{"clnt_Client000001", ""}), "deleted twice");
  ExpectCorruptAndUnchanged(c_.Next(ClientSecretRotated{"clnt_Client000001", std::string(64, 'd')}),
                            "rotated after deletion");
}

}  // namespace
}  // namespace authledger
