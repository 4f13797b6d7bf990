// domain/decide: the rules, exercised end to end through the event codec and
// Apply. States are only ever built by applying events that decide produced.
#include "domain/decide.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "domain/account_state.h"
#include "domain/api_key.h"
#include "domain/envelope.h"
#include "domain/ids.h"

namespace authledger {
namespace {

// Status codes by name, so failures print readably.
std::string CodeOf(const Status& s) { return Status::CodeName(s.code()); }

const TimeMs kT0 = 1795676673123;  // 2026-11-26T07:04:33.123Z

Caller Holding(ScopeSet s) { return Caller{std::move(s)}; }
const Caller kUnrestricted{};

// A single account whose state is only changed by committing decisions: each
// event is encoded, decoded, chained (seq, prevhash) and applied.
class DomainDecideTest : public ::testing::Test {
 protected:
  ManualClock clock_{kT0};
  AccountState state_;
  std::vector<std::string> stored_;
  const std::string account_ = "acct_TestAcct0001";
  Actor actor_ = Actor::Cli("tester");
  KeyPolicy policy_;

  TimeMs Now() const { return clock_.Now(); }

  ::testing::AssertionResult Commit(const Decision& d) {
    if (!d.ok()) return ::testing::AssertionFailure() << "decision failed: " << d.status().ToString();
    for (const EventData& data : *d) {
      Event e{NewUuidV7(Now()), account_, state_.seq + 1, state_.head_hash, Now(), actor_, data};
      std::string bytes = EncodeEvent(e);
      auto decoded = DecodeEvent(bytes);
      if (!decoded.ok()) return ::testing::AssertionFailure() << decoded.status().ToString() << "\n" << bytes;
      if (EncodeEvent(*decoded) != bytes) return ::testing::AssertionFailure() << "re-encode differs: " << bytes;
      Status st = Apply(&state_, *decoded, EventHash(bytes));
      if (!st.ok()) return ::testing::AssertionFailure() << "apply: " << st.ToString();
      stored_.push_back(bytes);
    }
    return ::testing::AssertionSuccess();
  }

  static NewKey FreshKey() {
    NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, "pepper");
    return NewKey{m.key_id, ToHex(m.secret_hash)};
  }

  void SetUp() override { ASSERT_TRUE(Commit(DecideCreateAccount(state_, "Acme"))); }

  static CreateKeyInput Input(std::vector<std::string> scopes, std::string name = "ci") {
    CreateKeyInput in;
    in.name = std::move(name);
    in.scopes = std::move(scopes);
    return in;
  }

  // Creates a key (unrestricted caller) and returns its id.
  std::string AddKey(std::vector<std::string> scopes = {"monitors:read"}, CreateKeyInput in = {}) {
    if (in.name.empty()) in.name = "key";
    in.scopes = std::move(scopes);
    NewKey k = FreshKey();
    EXPECT_TRUE(Commit(DecideCreateKey(state_, in, k, kUnrestricted, policy_, Now())));
    return k.key_id;
  }

  const KeyState& Key(const std::string& id) {
    const KeyState* k = state_.FindKey(id);
    EXPECT_NE(k, nullptr) << id;
    static const KeyState kEmpty;
    return k ? *k : kEmpty;
  }

  Decision Create(const CreateKeyInput& in, const Caller& caller = kUnrestricted) {
    return DecideCreateKey(state_, in, FreshKey(), caller, policy_, Now());
  }
};

::testing::AssertionResult Fails(const Decision& d, Status::Code code) {
  if (d.ok()) return ::testing::AssertionFailure() << "decision succeeded with " << d->size() << " events";
  if (d.status().code() != code)
    return ::testing::AssertionFailure() << "got " << d.status().ToString() << ", want " << Status::CodeName(code);
  return ::testing::AssertionSuccess();
}

// ---- accounts -----------------------------------------------------------------

TEST_F(DomainDecideTest, CreateAccountProducesAccountCreated) {
  AccountState empty;
  auto d = DecideCreateAccount(empty, "Acme Monitoring");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ(std::get<AccountCreated>((*d)[0]).name, "Acme Monitoring");
  EXPECT_TRUE(state_.exists());
  EXPECT_EQ(state_.id, account_);
  EXPECT_EQ(state_.name, "Acme");
  EXPECT_EQ(state_.created_at, kT0);
  EXPECT_EQ(state_.seq, 1u);
  EXPECT_EQ(state_.head_hash, EventHash(stored_[0]));
}

TEST_F(DomainDecideTest, CreateAccountTwiceIsAlreadyExists) {
  EXPECT_TRUE(Fails(DecideCreateAccount(state_, "Acme"), Status::Code::kAlreadyExists));
  EXPECT_TRUE(Fails(DecideCreateAccount(state_, "Other"), Status::Code::kAlreadyExists));
}

TEST_F(DomainDecideTest, CreateAccountValidatesName) {
  AccountState empty;
  EXPECT_TRUE(Fails(DecideCreateAccount(empty, ""), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(DecideCreateAccount(empty, "a\nb"), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(DecideCreateAccount(empty, std::string(101, 'x')), Status::Code::kInvalidArgument));
  EXPECT_TRUE(DecideCreateAccount(empty, std::string(100, 'x')).ok());
}

TEST_F(DomainDecideTest, ValidateNameRules) {
  EXPECT_TRUE(ValidateName("a", "n").ok());
  EXPECT_TRUE(ValidateName("CI pipeline (prod) #1", "n").ok());
  EXPECT_TRUE(ValidateName(std::string(100, 'a'), "n").ok());
  EXPECT_TRUE(ValidateName("caf\xc3\xa9", "n").ok());
  Status empty = ValidateName("", "key name");
  EXPECT_EQ(CodeOf(empty), "InvalidArgument");
  EXPECT_NE(empty.message().find("key name"), std::string::npos);
  EXPECT_EQ(CodeOf(ValidateName(std::string(101, 'a'), "n")), "InvalidArgument");
  for (const char* bad : {"a\nb", "a\rb", "a\tb", "\x01", "a\x7f", "a\x1b[31mred"})
    EXPECT_EQ(CodeOf(ValidateName(bad, "n")), "InvalidArgument") << bad;
  EXPECT_EQ(CodeOf(ValidateName(std::string("a\0b", 3), "n")), "InvalidArgument");
}

TEST_F(DomainDecideTest, ValidateTextUtf8Rules) {
  EXPECT_TRUE(ValidateText("", "t", 10, true).ok());
  EXPECT_EQ(CodeOf(ValidateText("", "t", 10, false)), "InvalidArgument");
  EXPECT_TRUE(ValidateText("\xf0\x9f\x94\x91", "t", 1, false).ok());  // one 4-byte code point
  EXPECT_TRUE(ValidateText("\xe2\x82\xac\xc3\xa9z", "t", 3, false).ok());
  EXPECT_EQ(CodeOf(ValidateText("\xe2\x82\xac\xc3\xa9z", "t", 2, false)), "InvalidArgument");
  const char* invalid[] = {
      "\x80",                  // lone continuation byte
      "\xc3",                  // truncated 2-byte sequence
      "\xe2\x82",              // truncated 3-byte sequence
      "\xc3\x28",              // bad continuation
      "\xc0\xaf",              // overlong '/'
      "\xe0\x80\xaf",          // overlong '/'
      "\xf0\x80\x80\xaf",      // overlong '/'
      "\xed\xa0\x80",          // UTF-16 surrogate
      "\xf4\x90\x80\x80",      // above U+10FFFF
      "\xf8\x88\x80\x80\x80",  // 5-byte form
      "\xfe",
      "\xff",
  };
  for (const char* s : invalid) {
    Status st = ValidateText(std::string("ok") + s, "field", 100, false);
    EXPECT_EQ(CodeOf(st), "InvalidArgument") << "accepted bytes after 'ok'";
    EXPECT_NE(st.message().find("field"), std::string::npos);
  }
  EXPECT_EQ(CodeOf(ValidateText("a\xc2\x9f"
                                "b",
                                "t", 100, false)),
            "InvalidArgument");                                     // C1
  EXPECT_TRUE(ValidateText("\xef\xbf\xbd", "t", 100, false).ok());  // U+FFFD itself is fine
}

// ---- create key -----------------------------------------------------------------

TEST_F(DomainDecideTest, CreateKeyOnMissingAccountIsNotFound) {
  AccountState empty;
  EXPECT_TRUE(Fails(DecideCreateKey(empty, Input({"monitors:read"}), FreshKey(), kUnrestricted, policy_, Now()),
                    Status::Code::kNotFound));
}

TEST_F(DomainDecideTest, CreateKeyEventAndState) {
  CreateKeyInput in = Input({"monitors:write", "alerts:read", "monitors:write"}, "CI pipeline");
  in.environment = "test";
  in.expires_at = Now() + 90 * kDayMs;
  in.allowed_cidrs = {"2001:DB8::/32", "203.0.113.0/24", "10.0.0.0/8", "203.0.113.0/24"};
  NewKey k = FreshKey();
  auto d = DecideCreateKey(state_, in, k, kUnrestricted, policy_, Now());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 1u);
  const auto& e = std::get<KeyCreated>((*d)[0]);
  EXPECT_EQ(e.key_id, k.key_id);
  EXPECT_EQ(e.name, "CI pipeline");
  EXPECT_EQ(e.scopes, (std::vector<std::string>{"alerts:read", "monitors:write"}));  // sorted, unique
  EXPECT_EQ(e.environment, "test");
  EXPECT_EQ(e.secret_hash, k.secret_hash_hex);
  EXPECT_EQ(e.expires_at, Now() + 90 * kDayMs);
  EXPECT_EQ(e.allowed_cidrs, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32", "203.0.113.0/24"}));
  EXPECT_FALSE(e.rotated_from.has_value());

  ASSERT_TRUE(Commit(d));
  const KeyState& ks = Key(k.key_id);
  EXPECT_EQ(ks.id, k.key_id);
  EXPECT_EQ(ks.name, "CI pipeline");
  EXPECT_EQ(ks.environment, "test");
  EXPECT_EQ(ks.scopes, e.scopes);
  EXPECT_EQ(ks.secret_hash, k.secret_hash_hex);
  EXPECT_EQ(ks.created_at, kT0);
  EXPECT_EQ(ks.created_by, "tester");
  EXPECT_EQ(ks.expires_at, kT0 + 90 * kDayMs);
  EXPECT_EQ(ks.allowed_cidrs, e.allowed_cidrs);
  EXPECT_EQ(ks.use_count, 0u);
  EXPECT_FALSE(ks.last_used_at.has_value());
  EXPECT_EQ(ks.StatusAt(Now()), KeyStatus::kActive);
  EXPECT_EQ(state_.seq, 2u);
}

TEST_F(DomainDecideTest, CreateKeyNameValidation) {
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"}, "")), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"}, "line\nbreak")), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"}, "bell\x07")), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"}, "del\x7f")), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"}, std::string(101, 'n'))), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Create(Input({"monitors:read"}, std::string(100, 'n'))).ok());
}

TEST_F(DomainDecideTest, CreateKeyScopeValidation) {
  auto unknown = Create(Input({"monitors:read", "monitors:delete"}));
  ASSERT_TRUE(Fails(unknown, Status::Code::kInvalidArgument));
  EXPECT_NE(unknown.status().message().find("monitors:delete"), std::string::npos);
  EXPECT_TRUE(Fails(Create(Input({})), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input({""})), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input({"MONITORS:READ"})), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(Create(Input(std::vector<std::string>(65, "monitors:read"))), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Create(Input({"admin:*"})).ok());
}

TEST_F(DomainDecideTest, CreateKeyEnvironmentValidation) {
  for (const char* env : {"prod", "LIVE", "", "live ", "Test"}) {
    CreateKeyInput in = Input({"monitors:read"});
    in.environment = env;
    EXPECT_TRUE(Fails(Create(in), Status::Code::kInvalidArgument)) << "'" << env << "'";
  }
  CreateKeyInput in = Input({"monitors:read"});
  in.environment = "test";
  EXPECT_TRUE(Create(in).ok());
}

TEST_F(DomainDecideTest, CreateKeyExpiryMustBeInTheFuture) {
  CreateKeyInput in = Input({"monitors:read"});
  in.expires_at = Now() - kDayMs;
  EXPECT_TRUE(Fails(Create(in), Status::Code::kInvalidArgument));
  in.expires_at = Now();
  EXPECT_TRUE(Fails(Create(in), Status::Code::kInvalidArgument));
  in.expires_at = Now() + 1;
  EXPECT_TRUE(Create(in).ok());
}

TEST_F(DomainDecideTest, CreateKeyCidrValidation) {
  for (const char* bad : {"10.0.0.1/8", "not-an-ip", "10.0.0.0/33", "", "2001:db8::1/32"}) {
    CreateKeyInput in = Input({"monitors:read"});
    in.allowed_cidrs = {"192.0.2.0/24", bad};
    auto d = Create(in);
    EXPECT_TRUE(Fails(d, Status::Code::kInvalidArgument)) << bad;
  }
  CreateKeyInput many = Input({"monitors:read"});
  for (int i = 0; i < 33; ++i) many.allowed_cidrs.push_back("10.0.0." + std::to_string(i));
  EXPECT_TRUE(Fails(Create(many), Status::Code::kInvalidArgument));
  many.allowed_cidrs.pop_back();
  EXPECT_TRUE(Create(many).ok());
  // A huge bogus CIDR is not echoed back whole.
  CreateKeyInput huge = Input({"monitors:read"});
  huge.allowed_cidrs = {std::string(5000, 'z')};
  auto d = Create(huge);
  ASSERT_FALSE(d.ok());
  EXPECT_LT(d.status().message().size(), 200u);
}

TEST_F(DomainDecideTest, CreateKeyIdCollisionIsAlreadyExists) {
  std::string id = AddKey();
  NewKey same{id, std::string(64, 'b')};
  EXPECT_TRUE(Fails(DecideCreateKey(state_, Input({"monitors:read"}), same, kUnrestricted, policy_, Now()),
                    Status::Code::kAlreadyExists));
}

TEST_F(DomainDecideTest, LiveKeyLimit) {
  ASSERT_EQ(policy_.max_live_keys, 25u);
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(AddKey());
  EXPECT_EQ(state_.CountLiveKeys(Now()), 25u);
  auto over = Create(Input({"monitors:read"}));
  ASSERT_TRUE(Fails(over, Status::Code::kFailedPrecondition));
  EXPECT_NE(over.status().message().find("25"), std::string::npos);
  // Revoking one frees a slot.
  ASSERT_TRUE(Commit(DecideRevokeKey(state_, ids[0], "make room", Now())));
  EXPECT_EQ(state_.CountLiveKeys(Now()), 24u);
  EXPECT_TRUE(Commit(Create(Input({"monitors:read"}))));
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"})), Status::Code::kFailedPrecondition));
}

TEST_F(DomainDecideTest, LiveKeyLimitIgnoresExpiredButCountsRotating) {
  policy_.max_live_keys = 3;
  CreateKeyInput short_lived;
  short_lived.expires_at = Now() + kHourMs;
  AddKey({"monitors:read"}, short_lived);
  std::string b = AddKey();
  AddKey();
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"})), Status::Code::kFailedPrecondition));
  clock_.Advance(kHourMs);  // the first key expires
  EXPECT_EQ(state_.CountLiveKeys(Now()), 2u);
  ASSERT_TRUE(Commit(DecideRotateKey(state_, b, FreshKey(), std::nullopt, kUnrestricted, policy_, Now())));
  // b (rotating) + its replacement + the third key: 3 live.
  EXPECT_EQ(state_.CountLiveKeys(Now()), 3u);
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"})), Status::Code::kFailedPrecondition));
  clock_.Advance(policy_.default_grace);  // b's grace ends
  EXPECT_EQ(state_.CountLiveKeys(Now()), 2u);
  EXPECT_TRUE(Create(Input({"monitors:read"})).ok());
}

// ---- caller privilege -------------------------------------------------------------

TEST_F(DomainDecideTest, CallerCannotGrantScopesItDoesNotHold) {
  Caller admin_keys = Holding({"keys:admin", "monitors:read"});
  auto d = Create(Input({"monitors:read", "monitors:write"}), admin_keys);
  ASSERT_TRUE(Fails(d, Status::Code::kPermissionDenied));
  EXPECT_NE(d.status().message().find("monitors:write"), std::string::npos);
  EXPECT_TRUE(Fails(Create(Input({"admin:*"}), admin_keys), Status::Code::kPermissionDenied));
  EXPECT_TRUE(Create(Input({"monitors:read"}), admin_keys).ok());
  EXPECT_TRUE(Create(Input({"keys:admin"}), admin_keys).ok());
  EXPECT_TRUE(Fails(Create(Input({"monitors:read"}), Holding({})), Status::Code::kPermissionDenied));
}

TEST_F(DomainDecideTest, WildcardCallerMayGrantAnything) {
  Caller root = Holding({"admin:*"});
  const ScopeCatalogue catalogue = ScopeCatalogue::Default();
  std::vector<std::string> all(catalogue.all().begin(), catalogue.all().end());
  EXPECT_TRUE(Commit(Create(Input(all), root)));
  EXPECT_TRUE(Create(Input({"admin:*"}), root).ok());
  EXPECT_TRUE(Create(Input({"billing:read"}), kUnrestricted).ok());
}

TEST_F(DomainDecideTest, GrantEscalationIsDenied) {
  std::string id = AddKey({"monitors:read"});
  Caller caller = Holding({"keys:admin", "monitors:read", "alerts:read"});
  auto d = DecideGrantScopes(state_, id, {"alerts:read", "monitors:write"}, caller, policy_, Now());
  ASSERT_TRUE(Fails(d, Status::Code::kPermissionDenied));
  EXPECT_NE(d.status().message().find("monitors:write"), std::string::npos);
  EXPECT_TRUE(DecideGrantScopes(state_, id, {"alerts:read"}, caller, policy_, Now()).ok());
  EXPECT_TRUE(DecideGrantScopes(state_, id, {"monitors:write"}, Holding({"admin:*"}), policy_, Now()).ok());
}

TEST_F(DomainDecideTest, RotateAndRevokeScopeRequireHoldingTheScopes) {
  std::string id = AddKey({"monitors:read", "billing:read"});
  Caller caller = Holding({"keys:admin", "monitors:read"});
  EXPECT_TRUE(Fails(DecideRotateKey(state_, id, FreshKey(), std::nullopt, caller, policy_, Now()),
                    Status::Code::kPermissionDenied));
  EXPECT_TRUE(Fails(DecideRevokeScope(state_, id, "billing:read", caller, Now()), Status::Code::kPermissionDenied));
  // Nor a scope the caller holds: a key it could not revoke, it cannot strip either.
  auto strip = DecideRevokeScope(state_, id, "monitors:read", caller, Now());
  ASSERT_TRUE(Fails(strip, Status::Code::kPermissionDenied));
  EXPECT_NE(strip.status().message().find("billing:read"), std::string::npos) << strip.status().message();
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, id, "", Now(), caller), Status::Code::kPermissionDenied));
  // Nor grant to it (acting on a more powerful key), even a scope it holds.
  EXPECT_TRUE(
      Fails(DecideGrantScopes(state_, id, {"monitors:read"}, caller, policy_, Now()), Status::Code::kPermissionDenied));
  EXPECT_TRUE(DecideRevokeScope(state_, id, "monitors:read", Holding({"monitors:read", "billing:read"}), Now()).ok());
  EXPECT_TRUE(DecideRotateKey(state_, id, FreshKey(), std::nullopt, Holding({"admin:*"}), policy_, Now()).ok());
}

TEST_F(DomainDecideTest, RotationsWithAGracePeriodCountAgainstTheLiveKeyLimit) {
  policy_.max_live_keys = 3;
  std::string a = AddKey();
  AddKey();
  ASSERT_TRUE(Commit(DecideRotateKey(state_, a, FreshKey(), std::nullopt, kUnrestricted, policy_, Now())));
  EXPECT_EQ(state_.CountLiveKeys(Now()), 3u);  // a (in its grace period), its replacement, the other
  // Chained rotations used to add a live key each (issue 13: 35 live keys under a limit of 25).
  const std::string replacement = state_.FindKey(a)->replaced_by.value();
  auto chained = DecideRotateKey(state_, replacement, FreshKey(), std::nullopt, kUnrestricted, policy_, Now());
  ASSERT_TRUE(Fails(chained, Status::Code::kFailedPrecondition));
  EXPECT_NE(chained.status().message().find("grace_period_seconds = 0"), std::string::npos);
  // Without a grace period the old key ends as the new one starts: the count stays.
  ASSERT_TRUE(Commit(DecideRotateKey(state_, replacement, FreshKey(), 0, kUnrestricted, policy_, Now())));
  EXPECT_EQ(state_.CountLiveKeys(Now()), 3u);
  // Once a's grace period is over, a rotation with one fits again.
  clock_.Advance(policy_.default_grace);
  EXPECT_EQ(state_.CountLiveKeys(Now()), 2u);
  const std::string latest = state_.FindKey(replacement)->replaced_by.value();
  EXPECT_TRUE(DecideRotateKey(state_, latest, FreshKey(), std::nullopt, kUnrestricted, policy_, Now()).ok());
}

// ---- grant / revoke scopes -----------------------------------------------------------

TEST_F(DomainDecideTest, GrantAddsOnlyNewScopesSorted) {
  std::string id = AddKey({"monitors:read", "alerts:read"});
  auto d = DecideGrantScopes(state_, id, {"metrics:read", "monitors:read", "alerts:write", "metrics:read"},
                             kUnrestricted, policy_, Now());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 1u);
  const auto& g = std::get<KeyScopesGranted>((*d)[0]);
  EXPECT_EQ(g.key_id, id);
  EXPECT_EQ(g.scopes, (std::vector<std::string>{"alerts:write", "metrics:read"}));
  ASSERT_TRUE(Commit(d));
  EXPECT_EQ(Key(id).scopes, (std::vector<std::string>{"alerts:read", "alerts:write", "metrics:read", "monitors:read"}));
}

TEST_F(DomainDecideTest, GrantOfHeldScopesIsNoOp) {
  std::string id = AddKey({"monitors:read", "alerts:read"});
  auto d = DecideGrantScopes(state_, id, {"alerts:read", "monitors:read"}, kUnrestricted, policy_, Now());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->empty());
}

TEST_F(DomainDecideTest, GrantValidation) {
  std::string id = AddKey();
  EXPECT_TRUE(Fails(DecideGrantScopes(state_, id, {}, kUnrestricted, policy_, Now()), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(DecideGrantScopes(state_, id, {"nope:nope"}, kUnrestricted, policy_, Now()),
                    Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(DecideGrantScopes(state_, "Missing00001", {"alerts:read"}, kUnrestricted, policy_, Now()),
                    Status::Code::kNotFound));
}

TEST_F(DomainDecideTest, RevokeScope) {
  std::string id = AddKey({"monitors:read", "alerts:read", "metrics:read"});
  auto missing = DecideRevokeScope(state_, id, "billing:read", kUnrestricted, Now());
  EXPECT_TRUE(Fails(missing, Status::Code::kNotFound));
  auto d = DecideRevokeScope(state_, id, "alerts:read", kUnrestricted, Now());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 1u);
  const auto& r = std::get<KeyScopesRevoked>((*d)[0]);
  EXPECT_EQ(r.key_id, id);
  EXPECT_EQ(r.scopes, (std::vector<std::string>{"alerts:read"}));
  ASSERT_TRUE(Commit(d));
  EXPECT_EQ(Key(id).scopes, (std::vector<std::string>{"metrics:read", "monitors:read"}));
  EXPECT_TRUE(Fails(DecideRevokeScope(state_, id, "alerts:read", kUnrestricted, Now()), Status::Code::kNotFound));
  ASSERT_TRUE(Commit(DecideRevokeScope(state_, id, "metrics:read", kUnrestricted, Now())));
  EXPECT_TRUE(
      Fails(DecideRevokeScope(state_, id, "monitors:read", kUnrestricted, Now()), Status::Code::kFailedPrecondition));
  EXPECT_EQ(Key(id).scopes, (std::vector<std::string>{"monitors:read"}));
  EXPECT_TRUE(
      Fails(DecideRevokeScope(state_, "Missing00001", "monitors:read", kUnrestricted, Now()), Status::Code::kNotFound));
}

// ---- rotation ----------------------------------------------------------------------------

TEST_F(DomainDecideTest, RotateCreatesReplacementAndStartsGrace) {
  CreateKeyInput in;
  in.name = "deploy bot";
  in.environment = "test";
  in.allowed_cidrs = {"10.0.0.0/8", "2001:db8::/32"};
  std::string old_id = AddKey({"monitors:write", "alerts:read"}, in);
  clock_.Advance(5 * kDayMs);
  NewKey fresh = FreshKey();
  auto d = DecideRotateKey(state_, old_id, fresh, std::nullopt, kUnrestricted, policy_, Now());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 2u);
  const auto& created = std::get<KeyCreated>((*d)[0]);
  const auto& rotated = std::get<KeyRotated>((*d)[1]);
  EXPECT_EQ(created.key_id, fresh.key_id);
  EXPECT_EQ(created.secret_hash, fresh.secret_hash_hex);
  EXPECT_EQ(created.name, "deploy bot");
  EXPECT_EQ(created.environment, "test");
  EXPECT_EQ(created.scopes, (std::vector<std::string>{"alerts:read", "monitors:write"}));
  EXPECT_EQ(created.allowed_cidrs, (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(created.rotated_from, old_id);
  EXPECT_EQ(rotated.key_id, old_id);
  EXPECT_EQ(rotated.replaced_by, fresh.key_id);
  EXPECT_EQ(rotated.grace_until, Now() + 72 * kHourMs);
  ASSERT_TRUE(Commit(d));

  const KeyState& old_key = Key(old_id);
  const KeyState& new_key = Key(fresh.key_id);
  EXPECT_EQ(old_key.replaced_by, fresh.key_id);
  EXPECT_EQ(old_key.grace_until, Now() + 72 * kHourMs);
  EXPECT_EQ(new_key.rotated_from, old_id);
  EXPECT_EQ(new_key.scopes, old_key.scopes);
  EXPECT_EQ(old_key.StatusAt(Now()), KeyStatus::kRotating);
  EXPECT_EQ(new_key.StatusAt(Now()), KeyStatus::kActive);

  clock_.Advance(72 * kHourMs - 1);
  EXPECT_EQ(Key(old_id).StatusAt(Now()), KeyStatus::kRotating);
  clock_.Advance(1);
  EXPECT_EQ(Key(old_id).StatusAt(Now()), KeyStatus::kExpired);
  EXPECT_EQ(Key(fresh.key_id).StatusAt(Now()), KeyStatus::kActive);
  // An expired (grace over) key cannot be rotated again.
  EXPECT_TRUE(Fails(DecideRotateKey(state_, old_id, FreshKey(), std::nullopt, kUnrestricted, policy_, Now()),
                    Status::Code::kConflict));
}

TEST_F(DomainDecideTest, RotatingTwiceIsConflictButTheReplacementCanRotate) {
  std::string a = AddKey();
  NewKey b = FreshKey();
  ASSERT_TRUE(Commit(DecideRotateKey(state_, a, b, std::nullopt, kUnrestricted, policy_, Now())));
  auto again = DecideRotateKey(state_, a, FreshKey(), std::nullopt, kUnrestricted, policy_, Now());
  ASSERT_TRUE(Fails(again, Status::Code::kConflict));
  EXPECT_NE(again.status().message().find(b.key_id), std::string::npos);
  NewKey c = FreshKey();
  ASSERT_TRUE(Commit(DecideRotateKey(state_, b.key_id, c, std::nullopt, kUnrestricted, policy_, Now())));
  EXPECT_EQ(Key(b.key_id).replaced_by, c.key_id);
  EXPECT_EQ(Key(c.key_id).rotated_from, b.key_id);
}

TEST_F(DomainDecideTest, RotateGraceBounds) {
  std::string id = AddKey();
  EXPECT_TRUE(Fails(DecideRotateKey(state_, id, FreshKey(), -1, kUnrestricted, policy_, Now()),
                    Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(DecideRotateKey(state_, id, FreshKey(), policy_.max_grace + 1, kUnrestricted, policy_, Now()),
                    Status::Code::kInvalidArgument));
  auto max = DecideRotateKey(state_, id, FreshKey(), policy_.max_grace, kUnrestricted, policy_, Now());
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(std::get<KeyRotated>((*max)[1]).grace_until, Now() + 30 * kDayMs);
  auto custom = DecideRotateKey(state_, id, FreshKey(), 14 * kDayMs, kUnrestricted, policy_, Now());
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(std::get<KeyRotated>((*custom)[1]).grace_until, Now() + 14 * kDayMs);
}

TEST_F(DomainDecideTest, RotateWithZeroGraceEndsTheOldKeyNow) {
  std::string id = AddKey();
  NewKey n = FreshKey();
  ASSERT_TRUE(Commit(DecideRotateKey(state_, id, n, 0, kUnrestricted, policy_, Now())));
  EXPECT_EQ(Key(id).StatusAt(Now()), KeyStatus::kExpired);
  EXPECT_EQ(Key(n.key_id).StatusAt(Now()), KeyStatus::kActive);
}

TEST_F(DomainDecideTest, RotateGraceIsCappedByExpiry) {
  CreateKeyInput in;
  in.expires_at = Now() + 10 * kHourMs;
  std::string id = AddKey({"monitors:read"}, in);
  auto d = DecideRotateKey(state_, id, FreshKey(), std::nullopt, kUnrestricted, policy_, Now());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<KeyRotated>((*d)[1]).grace_until, Now() + 10 * kHourMs);
  ASSERT_TRUE(Commit(d));
  EXPECT_EQ(Key(id).EndsAt(), Now() + 10 * kHourMs);
  clock_.Advance(10 * kHourMs);
  EXPECT_EQ(Key(id).StatusAt(Now()), KeyStatus::kExpired);
}

TEST_F(DomainDecideTest, RotateIdCollisionIsAlreadyExists) {
  std::string a = AddKey();
  std::string b = AddKey();
  EXPECT_TRUE(
      Fails(DecideRotateKey(state_, a, NewKey{b, std::string(64, 'c')}, std::nullopt, kUnrestricted, policy_, Now()),
            Status::Code::kAlreadyExists));
}

// ---- revocation and dead keys --------------------------------------------------------------

TEST_F(DomainDecideTest, RevokeKey) {
  std::string id = AddKey();
  clock_.Advance(kMinuteMs);
  auto d = DecideRevokeKey(state_, id, "leaked", Now());
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ(std::get<KeyRevoked>((*d)[0]).key_id, id);
  EXPECT_EQ(std::get<KeyRevoked>((*d)[0]).reason, "leaked");
  ASSERT_TRUE(Commit(d));
  EXPECT_EQ(Key(id).StatusAt(Now()), KeyStatus::kRevoked);
  EXPECT_EQ(Key(id).revoked_at, kT0 + kMinuteMs);
  EXPECT_EQ(Key(id).revoke_reason, "leaked");
  EXPECT_EQ(state_.CountLiveKeys(Now()), 0u);
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, id, "again", Now()), Status::Code::kConflict));
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, "Missing00001", "x", Now()), Status::Code::kNotFound));
  // Revoked stays revoked forever, also past any expiry.
  clock_.Advance(365 * kDayMs);
  EXPECT_EQ(Key(id).StatusAt(Now()), KeyStatus::kRevoked);
}

TEST_F(DomainDecideTest, RevokeReasonLength) {
  std::string id = AddKey();
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, id, std::string(501, 'r'), Now()), Status::Code::kInvalidArgument));
  EXPECT_TRUE(DecideRevokeKey(state_, id, std::string(500, 'r'), Now()).ok());
  EXPECT_TRUE(DecideRevokeKey(state_, id, "", Now()).ok());
}

TEST_F(DomainDecideTest, RevokeReasonRules) {
  std::string id = AddKey();
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, id, "line\nbreak", Now()), Status::Code::kInvalidArgument));
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, id, "bad \xff", Now()), Status::Code::kInvalidArgument));
  std::string five_hundred;
  for (int i = 0; i < 500; ++i) five_hundred += "\xc3\xa9";  // 500 characters, 1000 bytes
  EXPECT_TRUE(DecideRevokeKey(state_, id, five_hundred, Now()).ok());
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, id, five_hundred + "x", Now()), Status::Code::kInvalidArgument));
}

TEST_F(DomainDecideTest, CallerCannotRevokeAMorePowerfulKey) {
  std::string root = AddKey({"admin:*"});
  std::string reader = AddKey({"monitors:read"});
  Caller key_admin = Holding({"keys:admin", "monitors:read"});
  auto d = DecideRevokeKey(state_, root, "", Now(), key_admin);
  ASSERT_TRUE(Fails(d, Status::Code::kPermissionDenied));
  EXPECT_NE(d.status().message().find("admin:*"), std::string::npos);
  EXPECT_TRUE(DecideRevokeKey(state_, reader, "", Now(), key_admin).ok());
  EXPECT_TRUE(DecideRevokeKey(state_, root, "", Now(), Holding({"admin:*"})).ok());
  EXPECT_TRUE(DecideRevokeKey(state_, root, "", Now(), kUnrestricted).ok());
  // Existence and state are reported before permissions.
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, "Missing00001", "", Now(), key_admin), Status::Code::kNotFound));
}

TEST_F(DomainDecideTest, RevokingARotatingKeyEndsItsGrace) {
  std::string a = AddKey();
  NewKey b = FreshKey();
  ASSERT_TRUE(Commit(DecideRotateKey(state_, a, b, std::nullopt, kUnrestricted, policy_, Now())));
  ASSERT_TRUE(Commit(DecideRevokeKey(state_, a, "done migrating", Now())));
  EXPECT_EQ(Key(a).StatusAt(Now()), KeyStatus::kRevoked);
  EXPECT_EQ(Key(b.key_id).StatusAt(Now()), KeyStatus::kActive);
}

TEST_F(DomainDecideTest, ExpiredKeysCanStillBeRevoked) {
  // Product pages (Pulsely): "Expired keys can be revoked instantly".
  CreateKeyInput in;
  in.expires_at = Now() + kHourMs;
  std::string id = AddKey({"monitors:read"}, in);
  clock_.Advance(2 * kHourMs);
  ASSERT_EQ(Key(id).StatusAt(Now()), KeyStatus::kExpired);
  ASSERT_TRUE(Commit(DecideRevokeKey(state_, id, "cleanup", Now())));
  EXPECT_EQ(Key(id).StatusAt(Now()), KeyStatus::kRevoked);
}

TEST_F(DomainDecideTest, OperationsOnRevokedKeysConflict) {
  std::string id = AddKey({"monitors:read", "alerts:read"});
  ASSERT_TRUE(Commit(DecideRevokeKey(state_, id, "", Now())));
  EXPECT_TRUE(
      Fails(DecideGrantScopes(state_, id, {"metrics:read"}, kUnrestricted, policy_, Now()), Status::Code::kConflict));
  EXPECT_TRUE(Fails(DecideRevokeScope(state_, id, "alerts:read", kUnrestricted, Now()), Status::Code::kConflict));
  EXPECT_TRUE(Fails(DecideRotateKey(state_, id, FreshKey(), std::nullopt, kUnrestricted, policy_, Now()),
                    Status::Code::kConflict));
}

TEST_F(DomainDecideTest, OperationsOnExpiredKeysConflict) {
  CreateKeyInput in;
  in.expires_at = Now() + kDayMs;
  std::string id = AddKey({"monitors:read", "alerts:read"}, in);
  clock_.Advance(kDayMs - 1);
  EXPECT_TRUE(DecideGrantScopes(state_, id, {"metrics:read"}, kUnrestricted, policy_, Now()).ok());
  clock_.Advance(1);
  EXPECT_TRUE(
      Fails(DecideGrantScopes(state_, id, {"metrics:read"}, kUnrestricted, policy_, Now()), Status::Code::kConflict));
  EXPECT_TRUE(Fails(DecideRevokeScope(state_, id, "alerts:read", kUnrestricted, Now()), Status::Code::kConflict));
  EXPECT_TRUE(Fails(DecideRotateKey(state_, id, FreshKey(), std::nullopt, kUnrestricted, policy_, Now()),
                    Status::Code::kConflict));
}

TEST_F(DomainDecideTest, UnknownKeyIsNotFoundEverywhere) {
  AddKey();
  const std::string missing = "Missing00001";
  EXPECT_TRUE(Fails(DecideGrantScopes(state_, missing, {"alerts:read"}, kUnrestricted, policy_, Now()),
                    Status::Code::kNotFound));
  EXPECT_TRUE(Fails(DecideRevokeScope(state_, missing, "alerts:read", kUnrestricted, Now()), Status::Code::kNotFound));
  EXPECT_TRUE(Fails(DecideRotateKey(state_, missing, FreshKey(), std::nullopt, kUnrestricted, policy_, Now()),
                    Status::Code::kNotFound));
  EXPECT_TRUE(Fails(DecideRevokeKey(state_, missing, "", Now()), Status::Code::kNotFound));
}

// ---- usage ----------------------------------------------------------------------------

TEST_F(DomainDecideTest, RecordUsageUpdatesLastUsedAndCount) {
  std::string id = AddKey();
  auto d = DecideRecordUsage(state_, id, Now() + 10, "203.0.113.9", 3);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  const auto& u = std::get<KeyUsed>((*d)[0]);
  EXPECT_EQ(u.key_id, id);
  EXPECT_EQ(u.last_used_at, Now() + 10);
  EXPECT_EQ(u.ip, "203.0.113.9");
  EXPECT_EQ(u.uses, 3u);
  ASSERT_TRUE(Commit(d));
  EXPECT_EQ(Key(id).last_used_at, Now() + 10);
  EXPECT_EQ(Key(id).last_used_ip, "203.0.113.9");
  EXPECT_EQ(Key(id).use_count, 3u);
  clock_.Advance(kMinuteMs);
  ASSERT_TRUE(Commit(DecideRecordUsage(state_, id, Now(), "198.51.100.1", 4)));
  EXPECT_EQ(Key(id).last_used_at, Now());
  EXPECT_EQ(Key(id).last_used_ip, "198.51.100.1");
  EXPECT_EQ(Key(id).use_count, 7u);
}

TEST_F(DomainDecideTest, RecordUsageNeverMovesLastUsedBackwards) {
  std::string id = AddKey();
  const TimeMs later = Now() + kHourMs;
  ASSERT_TRUE(Commit(DecideRecordUsage(state_, id, later, "203.0.113.9", 1)));
  // Reports older than (or as old as) the recorded use are ignored: no event.
  auto older = DecideRecordUsage(state_, id, later - kMinuteMs, "198.51.100.1", 2);
  ASSERT_TRUE(older.ok());
  EXPECT_TRUE(older->empty());
  auto same = DecideRecordUsage(state_, id, later, "198.51.100.1", 2);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
  ASSERT_TRUE(Commit(older));
  EXPECT_EQ(Key(id).last_used_at, later);
  EXPECT_EQ(Key(id).last_used_ip, "203.0.113.9");
  EXPECT_EQ(Key(id).use_count, 1u);
}

TEST_F(DomainDecideTest, RecordUsageNoOps) {
  std::string id = AddKey();
  auto zero = DecideRecordUsage(state_, id, Now(), "", 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
  auto unknown = DecideRecordUsage(state_, "Missing00001", Now(), "", 5);
  ASSERT_TRUE(unknown.ok());
  EXPECT_TRUE(unknown->empty());
}

// ---- everything decide accepts can be written ----------------------------------------------

// Whatever a decision accepts must be encodable as an event: EncodeEvent uses
// nlohmann::json::dump, which throws on invalid UTF-8. ValidateName and the
// revoke reason must reject such bytes instead of letting the command throw.
TEST_F(DomainDecideTest, InvalidUtf8IsRejectedNotThrownLater) {
  const std::string bad_utf8[] = {"caf\xe9", "\xff\xfe", "a\xc3", "\xed\xa0\x80" /* surrogate */};
  for (const auto& s : bad_utf8) {
    auto acct = DecideCreateAccount(AccountState{}, s);
    EXPECT_TRUE(Fails(acct, Status::Code::kInvalidArgument)) << "account name";
    auto key = Create(Input({"monitors:read"}, s));
    EXPECT_TRUE(Fails(key, Status::Code::kInvalidArgument)) << "key name";
    if (key.ok()) {
      EXPECT_NO_THROW(Commit(key));
    }
  }
  std::string id = AddKey();
  auto rev = DecideRevokeKey(state_, id, "bad \xff reason", Now());
  EXPECT_TRUE(Fails(rev, Status::Code::kInvalidArgument)) << "revoke reason";
  if (rev.ok()) {
    EXPECT_NO_THROW(Commit(rev));
  }
}

// "No control characters" includes the C1 controls (U+0080..U+009F), e.g. NEL
// (U+0085), which some log viewers treat as a line break.
TEST_F(DomainDecideTest, ValidateNameRejectsC1Controls) {
  EXPECT_EQ(CodeOf(ValidateName("a\xc2\x85"
                                "b",
                                "n")),
            "InvalidArgument");
  EXPECT_EQ(CodeOf(ValidateName("a\xc2\x9b"
                                "31m",
                                "n")),
            "InvalidArgument");
  EXPECT_TRUE(ValidateName("a\xc2\xa0"
                           "b",
                           "n")
                  .ok());  // NBSP is not a control character
}

// The limit is "1..100 characters", not bytes: 100 'é' (200 bytes) is a valid name.
TEST_F(DomainDecideTest, NameLengthCountsCharactersNotBytes) {
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "\xc3\xa9";
  EXPECT_TRUE(ValidateName(hundred, "n").ok());
  EXPECT_EQ(CodeOf(ValidateName(hundred + "\xc3\xa9", "n")), "InvalidArgument");
}

// ---- OAuth clients ------------------------------------------------------------------

RegisterClientInput WebApp(std::vector<std::string> scopes = {"monitors:read"}) {
  RegisterClientInput in;
  in.name = "PagerDuty Sync";
  in.redirect_uris = {"https://hooks.example.com/cb"};
  in.scopes = std::move(scopes);
  return in;
}

NewClient FreshClient(bool confidential = true) {
  return NewClient{NewClientId(), confidential ? std::string(64, 'c') : std::string()};
}

TEST_F(DomainDecideTest, RegisterClientNormalisesAndRecords) {
  RegisterClientInput in = WebApp({"monitors:read", "alerts:read", "monitors:read"});
  in.grant_types = {"refresh_token", "authorization_code", "refresh_token"};
  NewClient id = FreshClient();
  auto d = DecideRegisterClient(state_, in, id, kUnrestricted, policy_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 1u);
  const auto& e = std::get<ClientRegistered>((*d)[0]);
  EXPECT_EQ(e.scopes, (std::vector<std::string>{"alerts:read", "monitors:read"}));
  EXPECT_EQ(e.grant_types, (std::vector<std::string>{"authorization_code", "refresh_token"}));
  EXPECT_EQ(e.secret_hash, id.secret_hash_hex);
  ASSERT_TRUE(Commit(d));
  EXPECT_NE(state_.FindClient(id.client_id), nullptr);
  EXPECT_EQ(CodeOf(DecideRegisterClient(state_, in, id, kUnrestricted, policy_).status()), "AlreadyExists");
}

TEST_F(DomainDecideTest, RegisterClientRules) {
  auto code = [&](RegisterClientInput in, bool confidential = true, const Caller& caller = kUnrestricted) {
    return CodeOf(DecideRegisterClient(state_, in, FreshClient(confidential), caller, policy_).status());
  };
  EXPECT_EQ(code(WebApp()), "OK");
  RegisterClientInput in = WebApp();
  in.grant_types = {"client_credentials"};
  in.redirect_uris.clear();
  EXPECT_EQ(code(in), "OK") << "machine-to-machine clients need no redirect URI";
  in.token_endpoint_auth_method = "none";
  EXPECT_EQ(code(in, false), "InvalidArgument") << "client_credentials needs a confidential client";
  in = WebApp();
  in.redirect_uris.clear();
  EXPECT_EQ(code(in), "InvalidArgument") << "authorization_code needs a redirect URI";
  in = WebApp();
  in.grant_types = {"refresh_token"};
  EXPECT_EQ(code(in), "InvalidArgument");
  in.grant_types = {"implicit"};
  EXPECT_EQ(code(in), "InvalidArgument");
  in.grant_types = {};
  EXPECT_EQ(code(in), "InvalidArgument");
  in = WebApp();
  in.token_endpoint_auth_method = "private_key_jwt";
  EXPECT_EQ(code(in), "InvalidArgument");
  in = WebApp();
  in.redirect_uris = std::vector<std::string>(11, "https://a.example/cb");
  EXPECT_EQ(code(in), "InvalidArgument");
  in.redirect_uris = {"https://a.example/cb", "https://a.example/cb"};
  EXPECT_EQ(code(in), "InvalidArgument");
  in = WebApp({"monitors:delete"});
  EXPECT_EQ(code(in), "InvalidArgument");
  in = WebApp({});
  EXPECT_EQ(code(in), "InvalidArgument");
  in = WebApp();
  in.name = "";
  EXPECT_EQ(code(in), "InvalidArgument");
  in = WebApp();
  in.description = std::string(501, 'd');
  EXPECT_EQ(code(in), "InvalidArgument");
  in.description = std::string(500, 'd');
  EXPECT_EQ(code(in), "OK");
  EXPECT_EQ(code(WebApp({"alerts:write"}), true, Holding({"monitors:read", "clients:admin"})), "PermissionDenied");
  EXPECT_EQ(code(WebApp({"monitors:read"}), true, Holding({"monitors:read", "clients:admin"})), "OK");
  EXPECT_EQ(code(WebApp({"alerts:write"}), true, Holding({"admin:*"})), "OK");
  // The secret must match the client's kind (a generation bug, not user input).
  EXPECT_EQ(code(WebApp(), false), "Internal");
  in = WebApp();
  in.token_endpoint_auth_method = "none";
  EXPECT_EQ(code(in, true), "Internal");
}

TEST_F(DomainDecideTest, ClientLimitCountsOnlyActiveClients) {
  policy_.max_clients = 2;
  std::vector<NewClient> ids = {FreshClient(), FreshClient()};
  for (const auto& id : ids) ASSERT_TRUE(Commit(DecideRegisterClient(state_, WebApp(), id, kUnrestricted, policy_)));
  EXPECT_EQ(CodeOf(DecideRegisterClient(state_, WebApp(), FreshClient(), kUnrestricted, policy_).status()),
            "FailedPrecondition");
  ASSERT_TRUE(Commit(DecideDeleteClient(state_, ids[0].client_id, "", kUnrestricted)));
  EXPECT_TRUE(Commit(DecideRegisterClient(state_, WebApp(), FreshClient(), kUnrestricted, policy_)));
}

TEST_F(DomainDecideTest, RotateAndDeleteClient) {
  NewClient web = FreshClient(), pub = FreshClient(false);
  RegisterClientInput public_in = WebApp();
  public_in.token_endpoint_auth_method = "none";
  ASSERT_TRUE(Commit(DecideRegisterClient(state_, WebApp({"alerts:read"}), web, kUnrestricted, policy_)));
  ASSERT_TRUE(Commit(DecideRegisterClient(state_, public_in, pub, kUnrestricted, policy_)));

  EXPECT_EQ(CodeOf(DecideRotateClientSecret(state_, pub.client_id, "", kUnrestricted).status()), "Conflict");
  EXPECT_EQ(CodeOf(DecideRotateClientSecret(state_, "clnt_AAAAAAAAAAAA", std::string(64, 'e'), kUnrestricted).status()),
            "NotFound");
  const Caller weak = Holding({"clients:admin", "monitors:read"});
  EXPECT_EQ(CodeOf(DecideRotateClientSecret(state_, web.client_id, std::string(64, 'e'), weak).status()),
            "PermissionDenied");
  EXPECT_EQ(CodeOf(DecideDeleteClient(state_, web.client_id, "", weak).status()), "PermissionDenied");
  ASSERT_TRUE(Commit(DecideRotateClientSecret(state_, web.client_id, std::string(64, 'e'), kUnrestricted)));
  EXPECT_EQ(state_.FindClient(web.client_id)->secret_hash, std::string(64, 'e'));

  EXPECT_EQ(CodeOf(DecideDeleteClient(state_, web.client_id, std::string(501, 'r'), kUnrestricted).status()),
            "InvalidArgument");
  ASSERT_TRUE(Commit(DecideDeleteClient(state_, web.client_id, "retired", kUnrestricted)));
  EXPECT_EQ(CodeOf(DecideDeleteClient(state_, web.client_id, "", kUnrestricted).status()), "Conflict");
  EXPECT_EQ(CodeOf(DecideRotateClientSecret(state_, web.client_id, std::string(64, 'f'), kUnrestricted).status()),
            "Conflict");
  EXPECT_EQ(CodeOf(DecideDeleteClient(state_, "clnt_AAAAAAAAAAAA", "", kUnrestricted).status()), "NotFound");
}

}  // namespace
}  // namespace authledger
