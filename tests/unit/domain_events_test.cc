// domain/events and domain/envelope: per-type data codecs, the CloudEvents
// envelope, canonical bytes, strict decoding, and that no secret is ever encoded.
#include "domain/envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "domain/api_key.h"
#include "domain/events.h"
#include "domain/ids.h"
#include "tests/support/event_fields.h"
#include "tests/support/sample_events.h"

namespace authledger {
namespace {

// Status codes by name, so failures print readably.
std::string CodeOf(const Status& s) { return Status::CodeName(s.code()); }

using json = nlohmann::json;

const TimeMs kT0 = 1795676673123;  // 2026-11-26T07:04:33.123Z
const std::string kAccount = "acct_AbCdEf012345";
const std::string kHashA(64, 'a');

std::vector<EventData> SampleData() { return testing::SampleEventData(kT0); }

// Field-by-field equality, independent of the JSON codec under test.
::testing::AssertionResult SameData(const EventData& a, const EventData& b) {
  if (testing::SameEventData(a, b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "type or field mismatch in " << EventType(a);
}

Event MakeEvent(EventData data, std::uint64_t seq = 3,
                Actor actor = Actor::Key("CallerKey001", "198.51.100.4", "POST /v1/keys")) {
  Event e;
  e.id = NewUuidV7(kT0);
  e.account_id = kAccount;
  e.seq = seq;
  e.prev_hash = kHashA;
  e.time = kT0;
  e.actor = std::move(actor);
  e.data = std::move(data);
  return e;
}

// Re-encodes after editing the parsed envelope.
std::string Mutate(const std::string& bytes, const std::function<void(json&)>& f) {
  json j = json::parse(bytes);
  f(j);
  return j.dump();
}

void ExpectCorrupt(const std::string& bytes, const std::string& why) {
  auto r = DecodeEvent(bytes);
  ASSERT_FALSE(r.ok()) << why << ": accepted " << bytes;
  EXPECT_EQ(CodeOf(r.status()), "Corruption") << why << ": " << r.status().ToString();
}

// ---- types, subjects -------------------------------------------------------

TEST(DomainEventsTest, AllEventTypesAreDistinctAndVersioned) {
  auto types = AllEventTypes();
  EXPECT_EQ(types.size(), std::variant_size_v<EventData>);
  std::set<std::string_view> uniq(types.begin(), types.end());
  EXPECT_EQ(uniq.size(), types.size());
  for (auto t : types) {
    EXPECT_EQ(t.substr(0, 14), "io.authledger.") << t;
    EXPECT_EQ(t.substr(t.size() - 3), ".v1") << t;
  }
  // Every sample type is in the list.
  for (const auto& d : SampleData()) EXPECT_TRUE(uniq.count(EventType(d))) << EventType(d);
}

TEST(DomainEventsTest, TypeSubjectAndKeyId) {
  EXPECT_EQ(EventType(AccountCreated{"x"}), "io.authledger.account.created.v1");
  EXPECT_EQ(EventSubject(AccountCreated{"x"}), "account");
  EXPECT_EQ(EventKeyId(AccountCreated{"x"}), "");
  KeyCreated kc;
  kc.key_id = "7f3aQ9cXb2Lm";
  EXPECT_EQ(EventType(kc), "io.authledger.key.created.v1");
  EXPECT_EQ(EventSubject(kc), "keys/7f3aQ9cXb2Lm");
  EXPECT_EQ(EventKeyId(kc), "7f3aQ9cXb2Lm");
  EXPECT_EQ(EventType(KeyScopesGranted{}), "io.authledger.key.scopes_granted.v1");
  EXPECT_EQ(EventType(KeyScopesRevoked{}), "io.authledger.key.scopes_revoked.v1");
  EXPECT_EQ(EventType(KeyRotated{}), "io.authledger.key.rotated.v1");
  EXPECT_EQ(EventType(KeyRevoked{}), "io.authledger.key.revoked.v1");
  EXPECT_EQ(EventType(KeyUsed{}), "io.authledger.key.used.v1");
  EXPECT_EQ(EventSubject(KeyRotated{"OldKey000001", "NewKey000002", 1}), "keys/OldKey000001");
  EXPECT_EQ(EventSubject(KeyUsed{"K", 1, "", 1}), "keys/K");
  EXPECT_EQ(EventClientId(kc), "");
  ClientRegistered cr;
  cr.client_id = "clnt_7f3aQ9cXb2Lm";
  EXPECT_EQ(EventType(cr), "io.authledger.client.registered.v1");
  EXPECT_EQ(EventSubject(cr), "clients/clnt_7f3aQ9cXb2Lm");
  EXPECT_EQ(EventClientId(cr), "clnt_7f3aQ9cXb2Lm");
  EXPECT_EQ(EventKeyId(cr), "");
  EXPECT_EQ(EventType(ClientSecretRotated{}), "io.authledger.client.secret_rotated.v1");
  EXPECT_EQ(EventType(ClientDeleted{}), "io.authledger.client.deleted.v1");
  EXPECT_EQ(EventSubject(ClientDeleted{"clnt_X", ""}), "clients/clnt_X");
  EXPECT_EQ(EventSubject(ClientSecretRotated{"clnt_Y", "h"}), "clients/clnt_Y");
}

// ---- data codec ---------------------------------------------------------------

// Whether `type`'s field table (domain/field_table.h) marks `field` required.
bool RequiredByTable(std::string_view type, std::string_view field) {
  bool required = false;
  ForEachEventType([&](auto t) {
    using T = typename decltype(t)::type;
    if (T::kType != type) return;
    ForEachField<T>([&](const auto& f) { required = required || (f.name == field && f.required()); });
  });
  return required;
}

TEST(DomainEventsTest, TheTableSaysWhichFieldsAreRequired) {
  EXPECT_TRUE(RequiredByTable(KeyCreated::kType, "key_id"));
  EXPECT_FALSE(RequiredByTable(KeyCreated::kType, "expires_at"));
  EXPECT_FALSE(RequiredByTable(KeyCreated::kType, "allowed_cidrs"));
  EXPECT_FALSE(RequiredByTable(ClientRegistered::kType, "secret_hash"));
  EXPECT_TRUE(RequiredByTable(ClientSecretRotated::kType, "secret_hash"));
  EXPECT_TRUE(RequiredByTable(LedgerCheckpoint::kType, "heads"));
  EXPECT_FALSE(RequiredByTable(KeyUsed::kType, "ip"));
}

TEST(DomainEventsTest, AuditViewLeavesOutLedgerOnlyFields) {
  for (const auto& d : SampleData()) {
    json stored = EventDataToJson(d), audit = EventDataToAuditJson(d);
    EXPECT_FALSE(audit.contains("secret_hash")) << EventType(d);
    for (const auto& [field, value] : audit.items()) EXPECT_EQ(stored[field], value) << EventType(d) << " " << field;
  }
  EXPECT_TRUE(EventDataToJson(std::get<KeyCreated>(SampleData()[1])).contains("secret_hash"));
}

TEST(DomainEventsTest, NestedStructErrorsNameTheElement) {
  json j = EventDataToJson(LedgerCheckpoint{1, {{"acct_AbCdEf012345", 7, std::string(64, 'b')}}, "p", "s", {}, {}, {}});
  j["heads"][0].erase("seq");
  auto r = EventDataFromJson(LedgerCheckpoint::kType, j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("heads'[0]: missing field 'seq'"), std::string::npos) << r.status().message();
  j["heads"] = json::array({1});
  r = EventDataFromJson(LedgerCheckpoint::kType, j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("must hold objects"), std::string::npos) << r.status().message();
}

TEST(DomainEventsTest, IntegerFieldsRejectOutOfRangeValues) {
  json used = EventDataToJson(KeyUsed{"K1", 123, "", 5});
  used["uses"] = std::uint64_t{1} << 63;  // beyond INT64_MAX: never written by the encoder
  EXPECT_FALSE(EventDataFromJson(KeyUsed::kType, used).ok());
  used["uses"] = std::int64_t{7};  // a signed, non-negative value is fine
  EXPECT_TRUE(EventDataFromJson(KeyUsed::kType, used).ok());
  json rot = EventDataToJson(KeyRotated{"K1", "K2", 456});
  rot["grace_until"] = std::uint64_t{1} << 63;  // would wrap negative as an int64
  EXPECT_FALSE(EventDataFromJson(KeyRotated::kType, rot).ok());
  rot["grace_until"] = -5;
  EXPECT_TRUE(EventDataFromJson(KeyRotated::kType, rot).ok());
}

TEST(DomainEventsTest, DataRoundTripsEveryType) {
  for (const auto& d : SampleData()) {
    json j = EventDataToJson(d);
    auto back = EventDataFromJson(EventType(d), j);
    ASSERT_TRUE(back.ok()) << EventType(d) << ": " << back.status().ToString();
    EXPECT_TRUE(SameData(d, *back));
  }
}

TEST(DomainEventsTest, OptionalFieldsAreOmittedNotNull) {
  KeyCreated bare = std::get<KeyCreated>(SampleData()[2]);
  json j = EventDataToJson(bare);
  EXPECT_FALSE(j.contains("expires_at"));
  EXPECT_FALSE(j.contains("rotated_from"));
  ASSERT_TRUE(j.contains("allowed_cidrs"));
  EXPECT_TRUE(j["allowed_cidrs"].is_array());
  EXPECT_TRUE(j["allowed_cidrs"].empty());
  KeyCreated full = std::get<KeyCreated>(SampleData()[1]);
  json f = EventDataToJson(full);
  EXPECT_EQ(f["expires_at"], kT0 + 90 * kDayMs);
  EXPECT_EQ(f["rotated_from"], "OldKey000001");
  EXPECT_EQ(f["secret_hash"], std::string(64, 'f'));
  // Explicit nulls for optional fields decode as absent.
  f["expires_at"] = nullptr;
  f["rotated_from"] = nullptr;
  auto back = EventDataFromJson(KeyCreated::kType, f);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(std::get<KeyCreated>(*back).expires_at.has_value());
  EXPECT_FALSE(std::get<KeyCreated>(*back).rotated_from.has_value());
}

TEST(DomainEventsTest, DataFieldTypes) {
  json used = EventDataToJson(KeyUsed{"K1", 123, "203.0.113.9", 5});
  EXPECT_TRUE(used["last_used_at"].is_number_integer());
  EXPECT_TRUE(used["uses"].is_number_integer());
  EXPECT_EQ(used["ip"], "203.0.113.9");
  json rot = EventDataToJson(KeyRotated{"K1", "K2", 456});
  EXPECT_EQ(rot["grace_until"], 456);
  EXPECT_EQ(rot["replaced_by"], "K2");
}

TEST(DomainEventsTest, DataDecodeRejectsMissingRequiredFields) {
  for (const auto& d : SampleData()) {
    json j = EventDataToJson(d);
    for (const auto& [field, value] : j.items()) {
      const std::string f = field;
      const bool optional = !RequiredByTable(EventType(d), f);
      json without = j;
      without.erase(f);
      auto r = EventDataFromJson(EventType(d), without);
      if (optional) {
        EXPECT_TRUE(r.ok()) << EventType(d) << " without optional '" << f << "': " << r.status().ToString();
      } else {
        ASSERT_FALSE(r.ok()) << EventType(d) << " without '" << f << "' accepted";
        EXPECT_EQ(CodeOf(r.status()), "InvalidArgument");
        EXPECT_NE(r.status().message().find(f), std::string::npos) << r.status().message();
      }
    }
  }
}

TEST(DomainEventsTest, DataDecodeRejectsMistypedFields) {
  for (const auto& d : SampleData()) {
    json j = EventDataToJson(d);
    for (const auto& [field, value] : j.items()) {
      const std::string f = field;
      // A value of a clearly wrong JSON type for each field.
      std::vector<json> wrong;
      if (value.is_string()) wrong = {json(42), json::array(), json::object(), json(true)};
      else if (value.is_array()) wrong = {json("x"), json(1), json::array({1, 2}), json::array({"ok", 3})};
      else if (value.is_number_integer()) wrong = {json("123"), json(1.5), json::array(), json(true)};
      for (const auto& w : wrong) {
        json bad = j;
        bad[f] = w;
        auto r = EventDataFromJson(EventType(d), bad);
        EXPECT_FALSE(r.ok()) << EventType(d) << " accepted " << f << "=" << w.dump();
        if (!r.ok()) {
          EXPECT_EQ(CodeOf(r.status()), "InvalidArgument");
        }
      }
    }
  }
}

TEST(DomainEventsTest, DataDecodeRejectsNegativeUsesAndNonObjects) {
  json j = EventDataToJson(KeyUsed{"K1", 123, "", 5});
  j["uses"] = -1;
  EXPECT_FALSE(EventDataFromJson(KeyUsed::kType, j).ok());
  EXPECT_FALSE(EventDataFromJson(AccountCreated::kType, json::array()).ok());
  EXPECT_FALSE(EventDataFromJson(AccountCreated::kType, json("name")).ok());
  EXPECT_FALSE(EventDataFromJson(AccountCreated::kType, json()).ok());
}

TEST(DomainEventsTest, DataDecodeRejectsUnknownType) {
  json j = EventDataToJson(AccountCreated{"x"});
  for (const char* t : {"io.authledger.account.created.v2", "io.authledger.account.created", "", "account.created",
                        "IO.AUTHLEDGER.ACCOUNT.CREATED.V1"}) {
    auto r = EventDataFromJson(t, j);
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_EQ(CodeOf(r.status()), "InvalidArgument");
  }
}

// ---- envelope -------------------------------------------------------------------

TEST(DomainEnvelopeTest, GenesisHashIs64Zeros) { EXPECT_EQ(kGenesisHash, std::string(64, '0')); }

TEST(DomainEnvelopeTest, EveryTypeRoundTripsThroughBytes) {
  for (const auto& d : SampleData()) {
    Event e = MakeEvent(d, 7);
    std::string bytes = EncodeEvent(e);
    auto back = DecodeEvent(bytes);
    ASSERT_TRUE(back.ok()) << EventType(d) << ": " << back.status().ToString() << "\n" << bytes;
    EXPECT_EQ(back->id, e.id);
    EXPECT_EQ(back->account_id, kAccount);
    EXPECT_EQ(back->seq, 7u);
    EXPECT_EQ(back->prev_hash, kHashA);
    EXPECT_EQ(back->time, kT0);
    EXPECT_EQ(back->actor.type, "key");
    EXPECT_EQ(back->actor.id, "CallerKey001");
    EXPECT_EQ(back->actor.ip, "198.51.100.4");
    EXPECT_EQ(back->actor.endpoint, "POST /v1/keys");
    EXPECT_TRUE(SameData(d, back->data));
    // Decoding then encoding reproduces the stored bytes exactly.
    EXPECT_EQ(EncodeEvent(*back), bytes);
  }
}

TEST(DomainEnvelopeTest, ActorWithoutIpOrEndpoint) {
  Event e = MakeEvent(AccountCreated{"A"}, 1, Actor::Cli("root"));
  e.prev_hash = kGenesisHash;
  std::string bytes = EncodeEvent(e);
  json j = json::parse(bytes);
  EXPECT_FALSE(j.contains("actorip"));
  EXPECT_FALSE(j.contains("actorendpoint"));
  EXPECT_FALSE(j.contains("actoremail"));
  auto back = DecodeEvent(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->actor.type, "cli");
  EXPECT_EQ(back->actor.id, "root");
  EXPECT_EQ(back->actor.ip, "");
  EXPECT_EQ(back->actor.endpoint, "");
  EXPECT_EQ(back->actor.email, "");
  EXPECT_EQ(back->prev_hash, kGenesisHash);
}

TEST(DomainEnvelopeTest, ActorEmailIsAnAttributeInTheChainedBytes) {
  Event e = MakeEvent(KeyRevoked{"7f3aQ9cXb2Lm", "r"}, 12,
                      Actor::Key("CallerKey001", "198.51.100.4", "DELETE /v1/keys/{id}", "alice@example.com"));
  const std::string bytes = EncodeEvent(e);
  json j = json::parse(bytes);
  EXPECT_EQ(j["actoremail"], "alice@example.com");
  EXPECT_EQ(j["actorid"], "CallerKey001");
  EXPECT_EQ(j.size(), 16u);
  auto back = DecodeEvent(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->actor.email, "alice@example.com");
  EXPECT_EQ(EncodeEvent(*back), bytes);
  Event other = e;
  other.actor.email = "mallory@example.com";
  EXPECT_NE(EventHash(EncodeEvent(other)), EventHash(bytes)) << "the email is covered by the hash chain";
}

TEST(DomainEnvelopeTest, EnvelopeAttributes) {
  Event e = MakeEvent(KeyRevoked{"7f3aQ9cXb2Lm", "r"}, 12);
  json j = json::parse(EncodeEvent(e));
  EXPECT_EQ(j["specversion"], "1.0");
  EXPECT_EQ(j["id"], e.id);
  EXPECT_EQ(j["source"], "/accounts/" + kAccount);
  EXPECT_EQ(j["partitionkey"], kAccount);
  EXPECT_EQ(j["type"], "io.authledger.key.revoked.v1");
  EXPECT_EQ(j["subject"], "keys/7f3aQ9cXb2Lm");
  EXPECT_EQ(j["time"], "2026-11-26T07:04:33.123Z");
  EXPECT_EQ(j["datacontenttype"], "application/json");
  EXPECT_EQ(j["accountseq"], 12);
  EXPECT_TRUE(j["accountseq"].is_number_unsigned());
  EXPECT_EQ(j["prevhash"], kHashA);
  EXPECT_EQ(j["actortype"], "key");
  EXPECT_EQ(j["actorid"], "CallerKey001");
  EXPECT_EQ(j["actorip"], "198.51.100.4");
  EXPECT_EQ(j["actorendpoint"], "POST /v1/keys");
  EXPECT_EQ(j["data"], (json{{"key_id", "7f3aQ9cXb2Lm"}, {"reason", "r"}}));
  EXPECT_EQ(j.size(), 15u);
}

TEST(DomainEnvelopeTest, GoldenBytes) {
  Event e;
  e.id = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";
  e.account_id = "acct_000000000001";
  e.seq = 1;
  e.prev_hash = kGenesisHash;
  e.time = 0;
  e.actor = Actor::Cli("root");
  e.data = AccountCreated{"Acme"};
  const std::string want =
      R"({"accountseq":1,"actorid":"root","actortype":"cli","data":{"name":"Acme"},)"
      R"("datacontenttype":"application/json","id":"0192f3a4-5b6c-7d8e-9f01-23456789abcd",)"
      R"("partitionkey":"acct_000000000001","prevhash":"0000000000000000000000000000000000000000000000000000000000000000",)"
      R"("source":"/accounts/acct_000000000001","specversion":"1.0","subject":"account",)"
      R"("time":"1970-01-01T00:00:00.000Z","type":"io.authledger.account.created.v1"})";
  EXPECT_EQ(EncodeEvent(e), want);
  EXPECT_EQ(EventHash(want), ToHex(Sha256(want)));
}

TEST(DomainEnvelopeTest, EncodingIsCanonical) {
  for (const auto& d : SampleData()) {
    Event e = MakeEvent(d);
    std::string a = EncodeEvent(e);
    Event copy = e;
    EXPECT_EQ(EncodeEvent(copy), a);
    // No insignificant whitespace.
    EXPECT_EQ(a.find('\n'), std::string::npos);
    EXPECT_EQ(a.find("\": "), std::string::npos);
    EXPECT_EQ(a.find(", \""), std::string::npos);
    // Object keys appear in sorted order, at every level.
    std::function<void(const nlohmann::ordered_json&)> check = [&](const nlohmann::ordered_json& j) {
      if (!j.is_object()) return;
      std::string prev;
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (!first) {
          EXPECT_LT(prev, it.key()) << a;
        }
        prev = it.key();
        first = false;
        check(it.value());
      }
    };
    check(nlohmann::ordered_json::parse(a));
  }
}

TEST(DomainEnvelopeTest, EventHashIsSha256OfBytes) {
  std::string bytes = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  EXPECT_EQ(EventHash(bytes), ToHex(Sha256(bytes)));
  EXPECT_EQ(EventHash(bytes).size(), 64u);
  EXPECT_NE(EventHash(bytes), EventHash(bytes + " "));
  EXPECT_EQ(EventHash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(DomainEnvelopeTest, DecodeRejectsNonJson) {
  ExpectCorrupt("", "empty");
  ExpectCorrupt("not json", "garbage");
  ExpectCorrupt("[]", "array");
  ExpectCorrupt("\"x\"", "string");
  std::string good = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  ExpectCorrupt(good.substr(0, good.size() - 1), "truncated");
}

TEST(DomainEnvelopeTest, DecodeRejectsBadSpecVersion) {
  std::string good = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  ExpectCorrupt(Mutate(good, [](json& j) { j["specversion"] = "0.3"; }), "specversion 0.3");
  ExpectCorrupt(Mutate(good, [](json& j) { j["specversion"] = 1.0; }), "numeric specversion");
  ExpectCorrupt(Mutate(good, [](json& j) { j["specversion"] = "1.0 "; }), "specversion with space");
}

TEST(DomainEnvelopeTest, DecodeRejectsBadId) {
  std::string good = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  ExpectCorrupt(Mutate(good, [](json& j) { j["id"] = "not-a-uuid"; }), "id");
  ExpectCorrupt(Mutate(good, [](json& j) { j["id"] = ""; }), "empty id");
  ExpectCorrupt(Mutate(good, [](json& j) { j["id"] = 7; }), "numeric id");
  ExpectCorrupt(Mutate(good, [](json& j) { j["id"] = "0192f3a4-5b6c-7d8e-9f01-23456789abcdX"; }), "long id");
}

TEST(DomainEnvelopeTest, DecodeRejectsEachMissingRequiredAttribute) {
  std::string good = EncodeEvent(MakeEvent(KeyCreated(std::get<KeyCreated>(SampleData()[1]))));
  for (const char* f : {"specversion", "id", "source", "type", "time", "partitionkey", "accountseq", "prevhash",
                        "actortype", "actorid", "data"}) {
    ExpectCorrupt(Mutate(good, [&](json& j) { j.erase(f); }), std::string("missing ") + f);
    ExpectCorrupt(Mutate(good, [&](json& j) { j[f] = nullptr; }), std::string("null ") + f);
  }
}

TEST(DomainEnvelopeTest, DecodeRejectsMistypedEnvelopeAttributes) {
  std::string good = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  ExpectCorrupt(Mutate(good, [](json& j) { j["accountseq"] = -1; }), "negative seq");
  ExpectCorrupt(Mutate(good, [](json& j) { j["accountseq"] = "3"; }), "string seq");
  ExpectCorrupt(Mutate(good, [](json& j) { j["accountseq"] = 3.5; }), "fractional seq");
  ExpectCorrupt(Mutate(good, [](json& j) { j["time"] = "yesterday"; }), "bad time");
  ExpectCorrupt(Mutate(good, [](json& j) { j["time"] = kT0; }), "numeric time");
  ExpectCorrupt(Mutate(good, [](json& j) { j["prevhash"] = std::string(63, 'a'); }), "short prevhash");
  ExpectCorrupt(Mutate(good, [](json& j) { j["prevhash"] = std::string(65, 'a'); }), "long prevhash");
  ExpectCorrupt(Mutate(good, [](json& j) { j["actorid"] = 5; }), "numeric actor id");
  ExpectCorrupt(Mutate(good, [](json& j) { j["type"] = 5; }), "numeric type");
  ExpectCorrupt(Mutate(good, [](json& j) { j["data"] = "{}"; }), "data as string");
}

TEST(DomainEnvelopeTest, DecodeRejectsSourcePartitionKeyMismatch) {
  std::string good = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  ExpectCorrupt(Mutate(good, [](json& j) { j["source"] = "/accounts/acct_someoneelse1"; }), "source");
  ExpectCorrupt(Mutate(good, [](json& j) { j["partitionkey"] = "acct_someoneelse1"; }), "partitionkey");
  ExpectCorrupt(Mutate(good, [](json& j) { j["source"] = kAccount; }), "source without prefix");
  ExpectCorrupt(Mutate(good, [](json& j) { j["source"] = "/accounts/" + kAccount + "/"; }), "source trailing /");
}

TEST(DomainEnvelopeTest, DecodeRejectsUnknownTypeAndBadData) {
  std::string good = EncodeEvent(MakeEvent(std::get<KeyCreated>(SampleData()[1])));
  ExpectCorrupt(Mutate(good, [](json& j) { j["type"] = "io.authledger.key.created.v9"; }), "unknown type");
  ExpectCorrupt(Mutate(good, [](json& j) { j["type"] = "io.authledger.key.rotated.v1"; }), "data of another type");
  ExpectCorrupt(Mutate(good, [](json& j) { j["data"]["scopes"] = "monitors:read"; }), "scopes not array");
  ExpectCorrupt(Mutate(good, [](json& j) { j["data"]["expires_at"] = "2027-01-01T00:00:00Z"; }), "text expiry");
  ExpectCorrupt(Mutate(good, [](json& j) { j["data"].erase("key_id"); }), "no key_id");
  ExpectCorrupt(Mutate(good, [](json& j) { j["data"] = json::array(); }), "data array");
}

TEST(DomainEnvelopeTest, DecodeAcceptsEquivalentTimeSpellings) {
  std::string good = EncodeEvent(MakeEvent(AccountCreated{"A"}));
  auto r = DecodeEvent(Mutate(good, [](json& j) { j["time"] = "2026-11-26T09:04:33.123+02:00"; }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->time, kT0);
}

// Decide rejects invalid UTF-8, but encoding must stay total: a command must
// never throw out of EncodeEvent, whatever bytes reach it.
TEST(DomainEnvelopeTest, EncodeNeverThrowsOnInvalidUtf8) {
  Event e = MakeEvent(KeyRevoked{"7f3aQ9cXb2Lm", "bad \xff\xfe reason"}, 3,
                      Actor::Key("caller\xc3", "203.0.113.9", "POST /v1/keys/\xe9"));
  std::string bytes;
  ASSERT_NO_THROW(bytes = EncodeEvent(e));
  auto back = DecodeEvent(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(EncodeEvent(*back), bytes);
  EXPECT_EQ(std::get<KeyRevoked>(back->data).key_id, "7f3aQ9cXb2Lm");
}

TEST(DomainEnvelopeTest, NoEventContainsTheFullKeyOrSecret) {
  const std::string pepper = "server-pepper";
  for (int i = 0; i < 20; ++i) {
    NewKeyMaterial m = GenerateApiKey("al", KeyEnvironment::kLive, pepper);
    auto parsed = ParseApiKey(m.full_key);
    ASSERT_TRUE(parsed.ok());
    const std::string secret(parsed->secret);
    KeyCreated kc;
    kc.key_id = m.key_id;
    kc.name = "k";
    kc.scopes = {"monitors:read"};
    kc.environment = "live";
    kc.secret_hash = ToHex(m.secret_hash);
    std::vector<EventData> events = {kc, KeyScopesGranted{m.key_id, {"alerts:read"}},
                                     KeyRotated{m.key_id, "NewKey000002", kT0}, KeyUsed{m.key_id, kT0, "1.2.3.4", 1},
                                     KeyRevoked{m.key_id, "done"}};
    for (const auto& d : events) {
      std::string bytes = EncodeEvent(MakeEvent(d));
      EXPECT_EQ(bytes.find(m.full_key), std::string::npos);
      EXPECT_EQ(bytes.find(secret), std::string::npos);
      // Not even a recognisable chunk of the secret (12 chars ~ 71 bits).
      for (std::size_t off = 0; off + 12 <= secret.size(); off += 7)
        EXPECT_EQ(bytes.find(secret.substr(off, 12)), std::string::npos);
      EXPECT_EQ(bytes.find(m.full_key.substr(m.full_key.size() - kChecksumLength - 20)), std::string::npos);
    }
    // The key id is public and does appear; the hash is the HMAC, not the secret.
    std::string created = EncodeEvent(MakeEvent(kc));
    EXPECT_NE(created.find(m.key_id), std::string::npos);
    EXPECT_NE(created.find(ToHex(m.secret_hash)), std::string::npos);
  }
}

}  // namespace
}  // namespace authledger
