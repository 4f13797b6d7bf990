// domain/envelope's DecodeEvent fast path and domain/canonical_json: the fast path
// decodes EncodeEvent's output without a JSON DOM, and on every input, canonical,
// mutated or hostile, DecodeEvent answers exactly what the DOM decoder answers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "domain/canonical_json.h"
#include "domain/envelope.h"
#include "domain/events.h"
#include "tests/support/event_fields.h"
#include "tests/support/sample_events.h"

namespace authledger {
namespace {

using json = nlohmann::json;
using internal::DecodeCanonicalEvent;
using internal::DecodeEventWithDom;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::uint64_t kUint64Max = std::numeric_limits<std::uint64_t>::max();
const TimeMs kT0 = 1795676673123;  // 2026-11-26T07:04:33.123Z

// ---- equality, independent of any JSON codec ---------------------------------------

auto Fields(const Event& e) {
  return std::tie(e.id, e.account_id, e.seq, e.prev_hash, e.time, e.actor.type, e.actor.id, e.actor.ip,
                  e.actor.endpoint, e.actor.email);
}

::testing::AssertionResult SameEvent(const Event& a, const Event& b) {
  if (Fields(a) != Fields(b)) return ::testing::AssertionFailure() << "envelope fields differ";
  if (a.data.index() != b.data.index()) return ::testing::AssertionFailure() << "data types differ";
  if (!testing::SameEventData(a.data, b.data))
    return ::testing::AssertionFailure() << "data fields differ in " << EventType(a.data);
  return ::testing::AssertionSuccess();
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// How the fast path treated the inputs a test fed to Agree().
struct Tally {
  int fast = 0;            // decoded by the fast path
  int deferred = 0;        // left to the DOM decoder
  int deferred_valid = 0;  // of those, events the DOM decoder accepts
  // Into the test's XML report (--gtest_output=xml), to see what a corpus exercised.
  void Record() const {
    ::testing::Test::RecordProperty("fast_path", fast);
    ::testing::Test::RecordProperty("deferred", deferred);
    ::testing::Test::RecordProperty("deferred_valid", deferred_valid);
  }
};

// DecodeEvent, the DOM decoder and the fast path agree on `bytes`: same event, or
// the same error; the fast path returns an event only where the DOM one does.
::testing::AssertionResult Agree(std::string_view bytes, Tally* tally = nullptr) {
  Result<Event> dom = DecodeEventWithDom(bytes);
  Result<Event> got = DecodeEvent(bytes);
  std::optional<Event> fast = DecodeCanonicalEvent(bytes);
  if (tally != nullptr) {
    ++(fast ? tally->fast : tally->deferred);
    if (!fast && dom.ok()) ++tally->deferred_valid;
  }
  auto fail = [&]() { return ::testing::AssertionFailure() << "on " << Printable(bytes) << ": "; };
  if (fast) {
    if (!dom.ok()) return fail() << "fast path accepted, DOM says " << dom.status().ToString();
    if (auto same = SameEvent(*fast, *dom); !same) return fail() << "fast path: " << same.message();
  }
  if (got.ok() != dom.ok()) return fail() << "DecodeEvent ok=" << got.ok() << ", DOM ok=" << dom.ok();
  if (!dom.ok()) {
    if (got.status().code() != dom.status().code() || got.status().message() != dom.status().message())
      return fail() << got.status().ToString() << " vs " << dom.status().ToString();
    return ::testing::AssertionSuccess();
  }
  if (auto same = SameEvent(*got, *dom); !same) return fail() << same.message();
  return ::testing::AssertionSuccess();
}

// ---- a deterministic corpus of events ------------------------------------------------

class Corpus {
 public:
  explicit Corpus(std::uint64_t seed) : rng_(seed) {}

  std::uint64_t Below(std::uint64_t n) { return rng_() % n; }
  bool Coin() { return Below(2) == 0; }

  // Text the encoder must escape, non-ASCII, and invalid UTF-8 (encoded as U+FFFD).
  std::string Text() {
    static const std::vector<std::string> kPieces = {"abc",
                                                     "Key 1",
                                                     "CI \"prod\"",
                                                     "back\\slash",
                                                     "slash/",
                                                     "tab\there",
                                                     "nl\nx",
                                                     "\r",
                                                     "\b\f",
                                                     std::string(1, '\0'),
                                                     "\x01",
                                                     "\x1f",
                                                     "\x7f",
                                                     "\xc3\xa9",
                                                     "\xe2\x82\xac",
                                                     "\xf0\x9d\x84\x9e",
                                                     "\xff",
                                                     "\xc3",
                                                     "\xed\xa0\x80",
                                                     "\xc0\xaf",
                                                     "\xf4\x90\x80\x80",
                                                     "",
                                                     "{\"a\":[1]}",
                                                     "\\u0041"};
    std::string s;
    for (std::uint64_t n = Below(4); n > 0; --n) s += kPieces[Below(kPieces.size())];
    return s;
  }
  // Mostly the plain ids of real events, sometimes odd text.
  std::string Id(std::string_view plain) { return Below(8) == 0 ? Text() : std::string(plain); }
  std::string Hex(std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(kHex[Below(16)]);
    return s;
  }
  std::string Uuid() {
    std::string h = Hex(32);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-7" + h.substr(13, 3) + "-" + h.substr(16, 4) + "-" + h.substr(20);
  }
  std::int64_t Int() {
    static const std::vector<std::int64_t> kInts = {0, 1, -1, kT0, -kT0, kInt64Max, kInt64Min, 1000};
    return Below(3) == 0 ? kInts[Below(kInts.size())] : static_cast<std::int64_t>(rng_() >> Below(64));
  }
  std::uint64_t Uint() {
    static const std::vector<std::uint64_t> kUints = {0,
                                                      1,
                                                      42,
                                                      std::uint64_t{1} << 40,
                                                      static_cast<std::uint64_t>(kInt64Max),
                                                      static_cast<std::uint64_t>(kInt64Max) + 1,
                                                      kUint64Max};
    return Below(3) == 0 ? kUints[Below(kUints.size())] : rng_() >> (1 + Below(63));
  }
  std::vector<std::string> Strings() {
    std::vector<std::string> v;
    for (std::uint64_t n = Below(4); n > 0; --n) v.push_back(Below(4) == 0 ? Text() : "scope:" + Hex(3));
    return v;
  }

  // Event data of the type_index-th EventData type, every field generated from the
  // type's field table (domain/field_table.h), so a new type is covered by itself.
  EventData Data(std::size_t type_index) {
    std::optional<EventData> data;
    std::size_t i = 0;
    ForEachEventType([&](auto type) {
      using T = typename decltype(type)::type;
      if (i++ != type_index) return;
      T value;
      Fill(&value);
      data = std::move(value);
    });
    return std::move(*data);
  }

  template <HasFields T>
  void Fill(T* value) {
    ForEachField<T>([&](const auto& field) {
      auto* member = &(value->*(field.member));
      if (field.presence == Presence::kOmitEmpty && Coin()) return;  // left out (unset or empty)
      Generate(member, field.name);
    });
  }

  template <typename M>
  void Generate(M* out, std::string_view name) {
    if constexpr (std::is_same_v<M, std::string>) {
      *out = Id(PlainValue(name));
    } else if constexpr (std::is_same_v<M, std::int64_t>) {
      *out = Int();
    } else if constexpr (std::is_same_v<M, std::uint64_t>) {
      *out = Uint();
    } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
      *out = Strings();
    } else if constexpr (requires { out->has_value(); }) {
      Generate(&out->emplace(), name);
    } else {  // a list of structs
      for (std::uint64_t n = Below(4); n > 0; --n) Fill(&out->emplace_back());
    }
  }

  // What a string field holds in real events, by its name; free text otherwise.
  std::string PlainValue(std::string_view name) {
    if (name == "key_id" || name == "rotated_from" || name == "replaced_by") return "7f3aQ9cXb2Lm";
    if (name == "client_id") return "clnt_7f3aQ9cXb2Lm";
    if (name == "account_id") return "acct_AbCdEf012345";
    if (name == "environment") return "live";
    if (name == "ip") return "203.0.113.9";
    if (name == "token_endpoint_auth_method") return "client_secret_basic";
    if (name.ends_with("hash") || name == "public_key") return Hex(64);
    if (name == "signature") return Hex(128);
    return Text();
  }

  Event Envelope(EventData data) {
    static const std::vector<TimeMs> kTimes = {kT0, 0, -1, 253402300799999, 253402300800000, -62135596800000};
    Event e;
    e.id = Below(16) == 0 ? Text() : Uuid();
    e.account_id = Id("acct_" + Hex(12));
    e.seq = Uint();
    e.prev_hash = Below(16) == 0 ? Hex(Below(70)) : Hex(64);
    e.time = Below(4) == 0 ? kTimes[Below(kTimes.size())] : kT0 + static_cast<TimeMs>(Below(kDayMs * 365));
    e.actor.type = Id("key");
    e.actor.id = Id("CallerKey001");
    if (Coin()) e.actor.ip = Id("198.51.100.4");
    if (Coin()) e.actor.endpoint = Id("POST /v1/keys");
    if (Coin()) e.actor.email = Id("alice@example.com");
    e.data = std::move(data);
    return e;
  }

 private:
  std::mt19937_64 rng_;
};

// A realistic, fully valid event of each type (the fast path's everyday input).
std::vector<Event> TypicalEvents() {
  std::vector<EventData> data = testing::SampleEventData(kT0);
  std::vector<Event> events;
  for (std::size_t i = 0; i < data.size(); ++i) {
    Event e;
    e.id = "0192f3a4-5b6c-7d8e-9f01-23456789abc" + std::to_string(i % 10);
    e.account_id = "acct_AbCdEf012345";
    e.seq = 3 + i;
    e.prev_hash = std::string(64, 'a');
    e.time = kT0;
    e.actor = i % 3 == 0   ? Actor::Key("CallerKey001", "198.51.100.4", "POST /v1/keys", "alice@example.com")
              : i % 3 == 1 ? Actor::Key("CallerKey001", "198.51.100.4", "POST /v1/keys", "")
                           : Actor::Cli("root");
    e.data = std::move(data[i]);
    events.push_back(std::move(e));
  }
  return events;
}

// ---- the fast path is taken ------------------------------------------------------------

TEST(EnvelopeDecodeTest, FastPathDecodesTypicalEventsOfEveryType) {
  std::set<std::size_t> types;
  for (const Event& e : TypicalEvents()) {
    const std::string bytes = EncodeEvent(e);
    std::optional<Event> fast = DecodeCanonicalEvent(bytes);
    ASSERT_TRUE(fast.has_value()) << "fast path declined " << bytes;
    EXPECT_TRUE(SameEvent(*fast, e)) << bytes;
    EXPECT_EQ(EncodeEvent(*fast), bytes);
    EXPECT_TRUE(Agree(bytes));
    types.insert(e.data.index());
  }
  EXPECT_EQ(types.size(), std::variant_size_v<EventData>)
      << "tests/support/sample_events.h needs a sample of every type (EventCatalogueTest names the missing one)";
}

TEST(EnvelopeDecodeTest, FastPathDecodesEscapesAndUtf8) {
  Event e = TypicalEvents()[0];
  e.actor.id = std::string("q\" b\\ s/ \b\f\n\r\t \x01\x1f\x7f ") + std::string(1, '\0') +
               "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
  e.data = AccountCreated{"Acme \"\xc3\xa9\" \x02"};
  const std::string bytes = EncodeEvent(e);
  ASSERT_NE(bytes.find("\\u0000"), std::string::npos) << bytes;
  std::optional<Event> fast = DecodeCanonicalEvent(bytes);
  ASSERT_TRUE(fast.has_value()) << bytes;
  EXPECT_TRUE(SameEvent(*fast, e));
  EXPECT_TRUE(Agree(bytes));
}

// ---- differential: generated events of every type ----------------------------------------

TEST(EnvelopeDecodeTest, DecodeMatchesDomOnGeneratedEvents) {
  Corpus corpus(20261126);
  Tally tally;
  for (int i = 0; i < 4000; ++i) {
    Event e = corpus.Envelope(corpus.Data(static_cast<std::size_t>(i) % std::variant_size_v<EventData>));
    const std::string bytes = EncodeEvent(e);
    ASSERT_TRUE(Agree(bytes, &tally));
    // What the DOM decodes re-encodes to the same bytes, so both decoders returned `e` (modulo U+FFFD).
    if (auto dom = DecodeEventWithDom(bytes); dom.ok()) {
      EXPECT_EQ(EncodeEvent(*dom), bytes);
    }
  }
  // The corpus exercises both outcomes.
  tally.Record();
  EXPECT_GT(tally.fast, 1000);
  EXPECT_GT(tally.deferred, 300);
}

// ---- differential: edited JSON (still canonical bytes) -------------------------------------

// Every value of every envelope and data member replaced by values of other JSON
// types and ranges, removed, nulled, or joined by an unknown member.
TEST(EnvelopeDecodeTest, DecodeMatchesDomOnEditedMembers) {
  const std::vector<json> replacements = {nullptr,
                                          true,
                                          false,
                                          0,
                                          1,
                                          -1,
                                          json(kInt64Max),
                                          json(static_cast<std::uint64_t>(kInt64Max) + 1),
                                          json(kUint64Max),
                                          json(kInt64Min),
                                          1.5,
                                          "",
                                          "x",
                                          "1.0",
                                          "/accounts/acct_AbCdEf012345",
                                          "acct_AbCdEf012345",
                                          "2026-11-26T07:04:33.123Z",
                                          "2026-11-26T09:04:33.123+02:00",
                                          "0192f3a4-5b6c-7d8e-9f01-23456789abcd",
                                          std::string(64, 'a'),
                                          json::array(),
                                          json::array({"a"}),
                                          json::array({1}),
                                          json::object(),
                                          json{{"name", "n"}},
                                          "io.authledger.key.used.v1",
                                          "io.authledger.account.created.v1"};
  Tally tally;
  for (const Event& e : TypicalEvents()) {
    const json base = json::parse(EncodeEvent(e));
    auto check = [&](const json& j) { ASSERT_TRUE(Agree(j.dump(), &tally)); };
    // Paths: envelope members, data members, and members of the first checkpoint head.
    std::vector<json::json_pointer> objects = {json::json_pointer(""), json::json_pointer("/data")};
    if (base["data"].contains("heads") && !base["data"]["heads"].empty()) objects.emplace_back("/data/heads/0");
    for (const auto& ptr : objects) {
      for (const auto& [key, value] : base[ptr].items()) {
        for (const json& r : replacements) {
          json j = base;
          j[ptr][key] = r;
          check(j);
        }
        json j = base;
        j[ptr].erase(key);
        check(j);
      }
      json j = base;
      j[ptr]["zz_unknown"] = 1;
      check(j);
      j = base;
      j[ptr]["a_unknown"] = "x";
      check(j);
    }
    // Optional members the encoder omits, present explicitly.
    for (const char* key : {"actorip", "actorendpoint", "actoremail"}) {
      json j = base;
      j[key] = "";
      check(j);
    }
    for (const char* key : {"expires_at", "rotated_from", "ip", "reason", "allowed_cidrs"}) {
      for (const json& r : {json(nullptr), json(""), json(0), json::array()}) {
        json j = base;
        j["data"][key] = r;
        check(j);
      }
    }
  }
  tally.Record();
  EXPECT_GT(tally.fast, 50);
  EXPECT_GT(tally.deferred, 1000);
}

// JSON that is not in EncodeEvent's form: the fast path declines it and DecodeEvent answers as the DOM does.
TEST(EnvelopeDecodeTest, FastPathDefersOnNonCanonicalJson) {
  const std::string good = EncodeEvent(TypicalEvents()[8]);  // key.used with ip
  ASSERT_TRUE(DecodeCanonicalEvent(good).has_value());
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    std::size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  const std::vector<std::string> variants = {
      " " + good,
      good + " ",
      good + "\n",
      "\xef\xbb\xbf" + good,  // a BOM
      replace("\"accountseq\":", "\"accountseq\" :"),
      replace(",\"actorid\"", ", \"actorid\""),
      replace("\"accountseq\":", "\"\\u0061ccountseq\":"),                          // escaped key
      replace("\"specversion\":\"1.0\"", "\"specversion\":\"1\\u002e0\""),          // escaped constant
      replace("\"source\":\"/accounts/", "\"source\":\"\\/accounts/"),              // escaped slash
      replace("\"key_id\":\"7f3aQ9cXb2Lm\"", "\"key_id\":\"7f3aQ9cXb2L\\u006d\""),  // escape in data: decoded
      replace("\"uses\":17", "\"uses\":17.0"),
      replace("\"uses\":17", "\"uses\":1.7e1"),
      replace("\"uses\":17", "\"uses\":017"),
      replace("\"accountseq\":11", "\"accountseq\":11.0"),
      replace("\"accountseq\":11", "\"accountseq\":1.1E1"),
      replace("\"last_used_at\":", "\"last_used_at\":-0,\"zz\":"),
      replace("{\"accountseq\":11,", "{\"accountseq\":11,\"accountseq\":11,"),  // duplicate
      replace("{\"accountseq\":11,", "{\"accountseq\":12,\"accountseq\":11,"),
      replace("\"ip\":\"203.0.113.9\",", ""),             // optional ip absent
      replace("\"subject\":\"keys/7f3aQ9cXb2Lm\",", ""),  // ignored member absent
      replace("\"subject\":\"keys/7f3aQ9cXb2Lm\"", "\"subject\":[1,{\"a\":null}]"),
      replace("\"datacontenttype\":\"application/json\"", "\"datacontenttype\":7"),
      replace("\"time\":\"2026-11-26T07:04:33.123Z\"", "\"time\":\"2026-11-26T07:04:33.123z\""),
      replace("\"ip\":\"203.0.113.9\"", "\"ip\":\"\\u00e9\""),         // non-ASCII escape
      replace("\"ip\":\"203.0.113.9\"", "\"ip\":\"\\ud834\\udd1e\""),  // surrogate pair
  };
  const std::set<std::size_t> kDomRejects = {10, 11, 12, 13, 14};  // floats and a leading zero
  for (std::size_t i = 0; i < variants.size(); ++i) {
    EXPECT_TRUE(Agree(variants[i])) << variants[i];
    EXPECT_EQ(DecodeEventWithDom(variants[i]).ok(), !kDomRejects.count(i)) << variants[i];
  }
  // Of those, the fast path takes only the ones it fully understands.
  EXPECT_TRUE(DecodeCanonicalEvent(variants[9]).has_value());
  EXPECT_TRUE(DecodeCanonicalEvent(variants[18]).has_value());
  EXPECT_TRUE(DecodeCanonicalEvent(variants[19]).has_value());
  EXPECT_TRUE(DecodeCanonicalEvent(variants[20]).has_value());  // ignored members may hold any value
  EXPECT_TRUE(DecodeCanonicalEvent(variants[21]).has_value());
  EXPECT_TRUE(DecodeCanonicalEvent(variants[22]).has_value());  // ParseRfc3339 accepts 'z'
  for (std::size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 23, 24})
    EXPECT_FALSE(DecodeCanonicalEvent(variants[i]).has_value()) << variants[i];
}

// ---- mutations: arbitrary damage to stored bytes ---------------------------------------------

std::vector<std::string> MutationBases() {
  std::vector<std::string> bases;
  for (const Event& e : TypicalEvents()) bases.push_back(EncodeEvent(e));
  Event odd = TypicalEvents()[5];
  odd.actor.id = std::string("x\"\\\n\x01") + "\xc3\xa9\xf0\x9d\x84\x9e";
  bases.push_back(EncodeEvent(odd));
  return bases;
}

// Every byte deleted, and replaced by bytes that matter to JSON.
TEST(EnvelopeDecodeTest, DecodeMatchesDomOnEveryByteDeletedOrReplaced) {
  const std::string kBytes = std::string("\"\\{}[],:0129-+.eEnulltrue \t/ax\x7f\x80\xbf\xc3\xff") + '\0';
  Tally tally;
  for (const std::string& base : MutationBases()) {
    for (std::size_t i = 0; i < base.size(); ++i) {
      std::string m = base;
      m.erase(i, 1);
      ASSERT_TRUE(Agree(m, &tally));
      for (char c : kBytes) {
        if (c == base[i]) continue;
        m = base;
        m[i] = c;
        ASSERT_TRUE(Agree(m, &tally));
      }
    }
  }
  tally.Record();
  EXPECT_GT(tally.fast + tally.deferred, 20000);
  EXPECT_GT(tally.fast, 1000);  // e.g. a changed letter inside a name or a digit of a number
}

// Pseudo-random insertions, deletions, overwrites, truncations and splices of JSON tokens.
TEST(EnvelopeDecodeTest, DecodeMatchesDomOnRandomMutations) {
  const std::vector<std::string> kTokens = {"\"",
                                            "\\",
                                            "{",
                                            "}",
                                            "[",
                                            "]",
                                            ",",
                                            ":",
                                            "null",
                                            "true",
                                            "-",
                                            "0",
                                            "1.5",
                                            "1e3",
                                            "18446744073709551615",
                                            "18446744073709551616",
                                            "9223372036854775807",
                                            "9223372036854775808",
                                            "-9223372036854775808",
                                            "-9223372036854775809",
                                            "\\u0000",
                                            "\\u0041",
                                            "\\u00e9",
                                            "\\ud800",
                                            "\\n",
                                            "\\x",
                                            "\xc3\xa9",
                                            "\xed\xa0\x80",
                                            "\xf4\x90\x80\x80",
                                            " ",
                                            "\"zz\":1,",
                                            ",\"a\":1",
                                            "\"key_id\":\"k\","};
  std::mt19937_64 rng(7);
  auto below = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> bases = MutationBases();
  Tally tally;
  for (int n = 0; n < 30000; ++n) {
    std::string m = bases[below(bases.size())];
    for (std::size_t edits = 1 + below(3); edits > 0; --edits) {
      std::size_t at = below(m.size() + 1);
      switch (below(6)) {
        case 0: m.insert(at, kTokens[below(kTokens.size())]); break;
        case 1: m.erase(at, 1 + below(4)); break;
        case 2:
          if (at < m.size()) m[at] = static_cast<char>(rng());
          break;
        case 3: m.resize(at); break;
        case 4: {  // copy a slice elsewhere (duplicate keys, repeated values)
          std::size_t from = below(m.size() + 1);
          m.insert(at, m.substr(from, below(40)));
          break;
        }
        default:
          if (at < m.size() && m[at] >= '0' && m[at] <= '8') ++m[at];
          break;
      }
    }
    ASSERT_TRUE(Agree(m, &tally));
  }
  tally.Record();
  EXPECT_GT(tally.fast, 1000);
  EXPECT_GT(tally.deferred, 10000);
}

// ---- CanonicalJsonReader ------------------------------------------------------------------

TEST(CanonicalJsonDecodeTest, ReadsIntegersAtTheirLimits) {
  auto u64 = [](std::string_view s) -> std::optional<std::uint64_t> {
    CanonicalJsonReader r(s);
    std::uint64_t v = 0;
    if (!r.ReadUint64(&v) || !r.AtEnd()) return std::nullopt;
    return v;
  };
  auto i64 = [](std::string_view s) -> std::optional<std::int64_t> {
    CanonicalJsonReader r(s);
    std::int64_t v = 0;
    if (!r.ReadInt64(&v) || !r.AtEnd()) return std::nullopt;
    return v;
  };
  EXPECT_EQ(u64("0"), 0u);
  EXPECT_EQ(u64("18446744073709551615"), kUint64Max);
  EXPECT_EQ(u64("18446744073709551616"), std::nullopt);
  EXPECT_EQ(u64("99999999999999999999"), std::nullopt);
  EXPECT_EQ(u64("-1"), std::nullopt);
  EXPECT_EQ(u64("01"), std::nullopt);
  EXPECT_EQ(u64(""), std::nullopt);
  EXPECT_EQ(i64("9223372036854775807"), kInt64Max);
  EXPECT_EQ(i64("9223372036854775808"), std::nullopt);
  EXPECT_EQ(i64("-9223372036854775808"), kInt64Min);
  EXPECT_EQ(i64("-9223372036854775809"), std::nullopt);
  EXPECT_EQ(i64("-0"), 0);
  EXPECT_EQ(i64("-"), std::nullopt);
  EXPECT_EQ(i64("-01"), std::nullopt);
  EXPECT_EQ(i64("+1"), std::nullopt);
  for (std::string_view s : {"1.0", "1e5", "1E5", "0.5", "-1.5"}) {
    CanonicalJsonReader r(s);
    std::int64_t v = 0;
    EXPECT_FALSE(r.ReadInt64(&v)) << s;
  }
}

// Whatever string the reader accepts, nlohmann reads the same way.
TEST(CanonicalJsonDecodeTest, StringsMatchNlohmann) {
  const std::vector<std::string> kPieces = {"a",
                                            " ",
                                            "\"",
                                            "\\",
                                            "\\\"",
                                            "\\\\",
                                            "\\/",
                                            "\\b",
                                            "\\f",
                                            "\\n",
                                            "\\r",
                                            "\\t",
                                            "\\u0000",
                                            "\\u001f",
                                            "\\u007F",
                                            "\\u0080",
                                            "\\u00e9",
                                            "\\uD834\\uDD1E",
                                            "\\x",
                                            "\\u12",
                                            "\x01",
                                            "\x1f",
                                            "\x7f",
                                            "\xc2\x80",
                                            "\xdf\xbf",
                                            "\xe0\xa0\x80",
                                            "\xe0\x9f\xbf",
                                            "\xed\x9f\xbf",
                                            "\xed\xa0\x80",
                                            "\xef\xbf\xbd",
                                            "\xf0\x90\x80\x80",
                                            "\xf0\x8f\xbf\xbf",
                                            "\xf4\x8f\xbf\xbf",
                                            "\xf4\x90\x80\x80",
                                            "\xf5\x80\x80\x80",
                                            "\xc0\x80",
                                            "\xc1\xbf",
                                            "\x80",
                                            "\xc3",
                                            "\xe2\x82",
                                            "\xf0\x9d\x84",
                                            std::string(1, '\0')};
  std::mt19937_64 rng(11);
  int accepted = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string body;
    for (std::size_t k = rng() % 4; k > 0; --k) body += kPieces[rng() % kPieces.size()];
    const std::string text = "\"" + body + "\"";
    json j = json::parse(text, nullptr, false);
    CanonicalJsonReader r(text);
    std::string got;
    if (r.ReadString(&got) && r.AtEnd()) {
      ++accepted;
      ASSERT_TRUE(j.is_string()) << Printable(text);
      EXPECT_EQ(got, j.get<std::string>()) << Printable(text);
      CanonicalJsonReader v(text);
      std::string_view view;
      EXPECT_EQ(v.ReadStringView(&view), body.find('\\') == std::string::npos) << Printable(text);
      // No proper prefix of an accepted string is one.
      for (std::size_t len = 0; len < text.size(); ++len) {
        CanonicalJsonReader t(std::string_view(text).substr(0, len));
        std::string s;
        EXPECT_FALSE(t.ReadString(&s)) << Printable(text.substr(0, len));
      }
    }
  }
  EXPECT_GT(accepted, 2000);
}

TEST(CanonicalJsonDecodeTest, ObjectsArraysAndSkip) {
  const std::string text = R"({"a":["x","y"],"b":{"c":[1,-2,{"d":null}],"e":true},"f":false,"g":"\"}"})";
  CanonicalJsonReader r(text);
  ASSERT_TRUE(r.BeginObject());
  std::string_view key, raw;
  ASSERT_EQ(r.NextMember(), CanonicalJsonReader::Step::kItem);
  ASSERT_TRUE(r.ReadKey(&key));
  EXPECT_EQ(key, "a");
  std::vector<std::string> a;
  ASSERT_TRUE(r.ReadStringArray(&a));
  EXPECT_EQ(a, (std::vector<std::string>{"x", "y"}));
  ASSERT_EQ(r.NextMember(), CanonicalJsonReader::Step::kItem);
  EXPECT_FALSE(r.ConsumeKey("a"));
  EXPECT_FALSE(r.ConsumeKey(""));
  ASSERT_TRUE(r.ConsumeKey("b"));
  ASSERT_TRUE(r.SkipValue(&raw));
  EXPECT_EQ(raw, R"({"c":[1,-2,{"d":null}],"e":true})");
  ASSERT_EQ(r.NextMember(), CanonicalJsonReader::Step::kItem);
  ASSERT_TRUE(r.ReadKey(&key));
  EXPECT_EQ(key, "f");
  ASSERT_TRUE(r.SkipValue());
  ASSERT_EQ(r.NextMember(), CanonicalJsonReader::Step::kItem);
  ASSERT_TRUE(r.ConsumeKey("g"));
  std::string g;
  ASSERT_TRUE(r.ReadString(&g));
  EXPECT_EQ(g, "\"}");
  EXPECT_EQ(r.NextMember(), CanonicalJsonReader::Step::kEnd);
  EXPECT_TRUE(r.AtEnd());

  for (std::string_view bad : {"{,\"a\":1}", "{\"a\":1,}", "{\"a\"1}", "{\"a\":1", "[1,]", "[,1]", "[1 2]",
                               "{\"a\":nul}", "{\"a\":tru}", "{\"a\":01}", "{\"a\":1.5}", "{\"a\\u0041\":1}", ""}) {
    CanonicalJsonReader b(bad);
    EXPECT_FALSE(b.SkipValue() && b.AtEnd()) << bad;
  }
}

TEST(CanonicalJsonDecodeTest, NestingIsBounded) {
  std::string ok = std::string(CanonicalJsonReader::kMaxDepth, '[') + std::string(CanonicalJsonReader::kMaxDepth, ']');
  CanonicalJsonReader r(ok);
  EXPECT_TRUE(r.SkipValue() && r.AtEnd());
  for (std::size_t depth : {std::size_t{CanonicalJsonReader::kMaxDepth + 1}, std::size_t{1000000}}) {
    std::string deep = std::string(depth, '[') + std::string(depth, ']');
    CanonicalJsonReader d(deep);
    EXPECT_FALSE(d.SkipValue());
    std::string objects;
    for (std::size_t i = 0; i < depth; ++i) objects += "{\"a\":";
    objects += "1" + std::string(depth, '}');
    CanonicalJsonReader o(objects);
    EXPECT_FALSE(o.SkipValue());
  }
}

// No input makes any reader call misbehave (run under ASan/UBSan to make "misbehave" loud).
TEST(CanonicalJsonDecodeTest, RandomBytesAreHarmless) {
  std::mt19937_64 rng(3);
  const std::string kAlphabet = std::string("{}[]\",:\\u0123456789-.eEtruefalsnl\x80\xc3\xa9\xff ");
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    for (std::size_t len = rng() % 24; len > 0; --len) s.push_back(kAlphabet[rng() % kAlphabet.size()]);
    std::string_view key, raw;
    std::string str;
    std::uint64_t u = 0;
    std::int64_t i = 0;
    std::vector<std::string> list;
    CanonicalJsonReader a(s);
    if (a.SkipValue(&raw)) {
      EXPECT_LE(raw.size(), s.size());
      // Whatever is skipped as a whole document is valid JSON.
      if (a.AtEnd()) {
        EXPECT_FALSE(json::parse(s, nullptr, false).is_discarded()) << Printable(s);
      }
    }
    CanonicalJsonReader b(s);
    if (b.BeginObject()) {
      while (b.NextMember() == CanonicalJsonReader::Step::kItem && b.ReadKey(&key) && b.SkipValue()) {
      }
    }
    CanonicalJsonReader c(s);
    (void)c.ReadString(&str);
    CanonicalJsonReader d(s);
    (void)d.ReadUint64(&u);
    CanonicalJsonReader e(s);
    (void)e.ReadInt64(&i);
    CanonicalJsonReader f(s);
    (void)f.ReadStringArray(&list);
    CanonicalJsonReader g(s);
    (void)g.NextElement();
    (void)g.NextMember();
    (void)g.ConsumeKey("a");
    (void)g.ConsumeKey("");
    (void)g.ReadKey(&key);
    EXPECT_FALSE(DecodeCanonicalEvent(s).has_value());
  }
}

}  // namespace
}  // namespace authledger
