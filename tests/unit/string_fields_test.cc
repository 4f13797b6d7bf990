// gateway/string_fields: the DOM-free reader of string-field bodies answers, on
// every input, what JsonInput (nlohmann's DOM) answers — same Status code and
// message, same values — on written cases, generated bodies and their mutations.
#include "gateway/string_fields.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gateway/json_input.h"

namespace authledger {
namespace {

using namespace std::string_literals;

struct Answer {
  Status status;
  std::vector<std::string> values;
};

// The fields read, and the same names for JsonInput::Parse.
struct Specs {
  std::initializer_list<StringFieldSpec> fields;
  std::initializer_list<std::string_view> names;
};
const Specs kVerifySpecs = {{{"key", true, 128}, {"scope", false, 64}, {"ip", false, 64}}, {"key", "scope", "ip"}};
// Short limits, so that generated values cross them often.
const Specs kTinySpecs = {{{"a", true, 3}, {"b", false, 1}, {"c", false, 0}, {"\xC3\xA9", false, 4}},
                          {"a", "b", "c", "\xC3\xA9"}};

HttpRequest Request(std::string_view content_type, std::string_view body) {
  HttpRequest req{http::verb::post, "/v1/keys/verify", 11};
  if (!content_type.empty()) req.set(http::field::content_type, std::string(content_type));
  req.body() = std::string(body);
  return req;
}

// What the handlers did before: JsonInput::Parse, then String() per field in order.
Answer WithDom(const HttpRequest& req, const Specs& specs) {
  Answer a{Status::Ok(), {}};
  auto in = JsonInput::Parse(req, specs.names);
  if (!in.ok()) return Answer{in.status(), {}};
  for (const auto& s : specs.fields) {
    std::string v;
    Status st = in->String(s.name, &v, s.required, s.max_len);
    if (!st.ok()) return Answer{st, {}};
    a.values.push_back(v);
  }
  return a;
}

Answer WithReader(const HttpRequest& req, const Specs& specs) {
  StringFields f;
  Status st = f.Read(req, specs.fields);
  Answer a{st, {}};
  if (st.ok())
    for (std::size_t i = 0; i < specs.fields.size(); ++i) a.values.emplace_back(f[i]);
  return a;
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
  return out.size() > 300 ? out.substr(0, 300) + "...(" + std::to_string(bytes.size()) + " bytes)" : out;
}

::testing::AssertionResult Same(std::string_view content_type, std::string_view body,
                                const Specs& specs = kVerifySpecs) {
  HttpRequest req = Request(content_type, body);
  Answer dom = WithDom(req, specs), fast = WithReader(req, specs);
  if (dom.status.code() != fast.status.code() || dom.status.message() != fast.status.message() ||
      dom.values != fast.values) {
    auto r = ::testing::AssertionFailure()
             << "body " << Printable(body) << " content-type '" << content_type << "': DOM says "
             << Printable(dom.status.ToString()) << ", reader says " << Printable(fast.status.ToString());
    for (std::size_t i = 0; i < dom.values.size() && i < fast.values.size(); ++i)
      if (dom.values[i] != fast.values[i])
        r << "; value " << i << ": '" << Printable(dom.values[i]) << "' vs '" << Printable(fast.values[i]) << "'";
    return r;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Same(std::string_view body) { return Same("application/json", body); }

// Bodies covering each rule of the contract, valid and not.
std::vector<std::string> WrittenBodies() {
  // Shaped like a key, but no key: the reader never looks inside a value.
  const std::string key = "al_live_" + std::string(52, 'q');
  std::vector<std::string> b = {
      // Shapes.
      "",
      " ",
      " \t\r\n",
      "\f",
      "{}",
      " {} ",
      "{ }",
      "[]",
      "[{}]",
      "\"x\"",
      "1",
      "-0.5e3",
      "true",
      "false",
      "null",
      "{",
      "}",
      "{}}",
      "{}{}",
      "{} x",
      "{}\0"s,
      "\0{}"s,
      "{,}",
      "{\"key\":\"a\",}",
      "{\"key\" \"a\"}",
      "{\"key\":}",
      "{\"key\"}",
      "{key:\"a\"}",
      "{'key':'a'}",
      "{\"key\":\"a\" \"scope\":\"b\"}",
      "{\"key\":\"a\",,\"scope\":\"b\"}",
      "{\"key\":\"a\"}\n",
      "\n\t{\"key\" : \"a\" , \"scope\" :\"b\"}\r\n",
      // BOM.
      "\xEF\xBB\xBF{\"key\":\"a\"}",
      "\xEF\xBB\xBF",
      "\xEF\xBB{}",
      "\xEF{}",
      " \xEF\xBB\xBF{}",
      "\xEF\xBB\xBF {}",
      "\xEF\xBB\xBF\xEF\xBB\xBF{}",
      "\xBB\xBF{}",
      // Fields present, absent, null, wrong types, duplicates (the last counts).
      "{\"key\":\"" + key + "\"}",
      "{\"key\":\"" + key + "\",\"scope\":\"monitors:read\",\"ip\":\"203.0.113.7\"}",
      "{\"scope\":\"x\"}",
      "{\"key\":null}",
      "{\"key\":\"a\",\"scope\":null,\"ip\":null}",
      "{\"key\":12}",
      "{\"key\":true}",
      "{\"key\":false}",
      "{\"key\":[]}",
      "{\"key\":{}}",
      "{\"key\":[\"a\"]}",
      "{\"key\":{\"key\":\"a\"}}",
      "{\"key\":\"a\",\"scope\":1}",
      "{\"key\":\"a\",\"ip\":[]}",
      "{\"key\":1,\"key\":\"a\"}",
      "{\"key\":\"a\",\"key\":1}",
      "{\"key\":\"a\",\"key\":null}",
      "{\"key\":\"a\",\"key\":\"b\"}",
      "{\"key\":[1,{\"x\":2}],\"key\":\"b\"}",
      "{\"scope\":\"a\",\"scope\":\"b\",\"key\":\"c\"}",
      // Unknown fields: the smallest name (byte-wise) is named; long names are cut at 64 bytes.
      "{\"key\":\"a\",\"extra\":1}",
      "{\"zz\":1,\"aa\":2,\"key\":\"x\"}",
      "{\"key\":\"a\",\"Key\":1}",
      "{\"b\":1,\"a\":{\"deep\":[1,2,{\"c\":null}]}}",
      "{\"\":1}",
      "{\"\\u0000\":1}",
      "{\"\\u00e9\":1,\"z\":2}",
      "{\"\xC3\xA9\":1,\"\xC3\xA8\":2}",
      "{\"\x7F\":1,\"\xC2\x80\":2}",
      "{\"" + std::string(64, 'x') + "\":1}",
      "{\"" + std::string(65, 'x') + "\":1}",
      "{\"" + std::string(64, 'x') + "y\":1,\"" + std::string(64, 'x') + "\":2}",
      "{\"" + std::string(63, 'x') + "\xC3\xA9\":1}",
      "{\"" + std::string(200, 'q') + "\":\"v\"}",
      "{\"extra\":1,\"key\":12}",
      "{\"extra\":1,\"key\":\"a\",}",
      "{\"extra\":[1,2}",
      // Escaped names and values.
      "{\"k\\u0065y\":\"a\"}",
      "{\"\\u006b\\u0065\\u0079\":\"a\"}",
      "{\"ke\\y\":\"a\"}",
      "{\"key\\u0000\":\"a\"}",
      "{\"key\":\"\\u0061l_live\"}",
      "{\"key\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}",
      "{\"key\":\"\\u00e9\\u20ac\"}",
      "{\"key\":\"\\ud83d\\ude00\"}",
      "{\"key\":\"\\uD83D\\uDE00\"}",
      "{\"key\":\"\\ud83d\"}",
      "{\"key\":\"\\ude00\"}",
      "{\"key\":\"\\ud83d\\u0041\"}",
      "{\"key\":\"\\ud83dx\"}",
      "{\"key\":\"\\ud83d\\\"}",
      "{\"key\":\"\\u12\"}",
      "{\"key\":\"\\u12G4\"}",
      "{\"key\":\"\\x41\"}",
      "{\"key\":\"\\a\"}",
      "{\"key\":\"\\'\"}",
      "{\"key\":\"\\\"}",
      "{\"key\":\"\\u0000\"}",
      "{\"key\":\"a\\u0000b\"}",
      "{\"key\":\"\\udbff\\udfff\"}",
      "{\"key\":\"\\ud800\\udc00\"}",
      // Raw bytes in strings: control characters and UTF-8 at every boundary.
      "{\"key\":\"a\tb\"}",
      "{\"key\":\"a\nb\"}",
      "{\"key\":\"\x1F\"}",
      "{\"key\":\"\x7F\"}",
      "{\"key\":\"\x80\"}",
      "{\"key\":\"\xC1\xBF\"}",
      "{\"key\":\"\xC2\x80\"}",
      "{\"key\":\"\xDF\xBF\"}",
      "{\"key\":\"\xC2\"}",
      "{\"key\":\"\xC2\x7F\"}",
      "{\"key\":\"\xC2\xC0\"}",
      "{\"key\":\"\xE0\x9F\xBF\"}",
      "{\"key\":\"\xE0\xA0\x80\"}",
      "{\"key\":\"\xED\x9F\xBF\"}",
      "{\"key\":\"\xED\xA0\x80\"}",
      "{\"key\":\"\xEF\xBF\xBF\"}",
      "{\"key\":\"\xE1\x80\"}",
      "{\"key\":\"\xF0\x8F\xBF\xBF\"}",
      "{\"key\":\"\xF0\x90\x80\x80\"}",
      "{\"key\":\"\xF4\x8F\xBF\xBF\"}",
      "{\"key\":\"\xF4\x90\x80\x80\"}",
      "{\"key\":\"\xF5\x80\x80\x80\"}",
      "{\"key\":\"\xFF\"}",
      "{\"key\":\"\xF3\xBF\xBF\"}",
      "{\"key\":\"a",
      "{\"key\":\"a\\",
      "{\"key\":\"\\u00",
      "{\"key\":\"\xE2\x82",
      "{\"key\":\"\xF0",
      // Length limits count decoded bytes.
      "{\"key\":\"" + std::string(128, 'a') + "\"}",
      "{\"key\":\"" + std::string(129, 'a') + "\"}",
      "{\"key\":\"a\",\"scope\":\"" + std::string(64, 's') + "\"}",
      "{\"key\":\"a\",\"scope\":\"" + std::string(65, 's') + "\"}",
      "{\"key\":\"a\",\"ip\":\"" + std::string(65, '1') + "\"}",
      "{\"key\":\"" + std::string(120, 'a') + "\\n\\n\\n\"}",
      "{\"key\":\"" + std::string(124, 'a') + "\\u00e9\\u00e9\"}",
      "{\"key\":\"" + std::string(126, 'a') + "\\u00e9\"}",
      "{\"key\":\"" + std::string(125, 'a') + "\\ud83d\\ude00\"}",
      "{\"key\":\"" + std::string(126, 'a') + "\xE2\x82\xAC\"}",
      "{\"key\":\"" + std::string(125, 'a') + "\xE2\x82\xAC\"}",
      // Numbers: grammar and overflow (nlohmann refuses what is infinite as a double).
      "{\"x\":0}",
      "{\"x\":-0}",
      "{\"x\":01}",
      "{\"x\":-}",
      "{\"x\":1.}",
      "{\"x\":.5}",
      "{\"x\":+1}",
      "{\"x\":1e}",
      "{\"x\":1e+}",
      "{\"x\":1E-2}",
      "{\"x\":1.5e308}",
      "{\"x\":1e308}",
      "{\"x\":1e309}",
      "{\"x\":-1e400}",
      "{\"x\":1e-400}",
      "{\"x\":1.7976931348623157e308}",
      "{\"x\":1.7976931348623159e308}",
      "{\"x\":0e99999}",
      "{\"x\":" + std::string(308, '9') + "}",
      "{\"x\":" + std::string(309, '9') + "}",
      "{\"x\":" + std::string(400, '9') + "}",
      "{\"x\":-" + std::string(400, '9') + ".5}",
      "{\"x\":1" + std::string(307, '0') + "}",
      "{\"x\":18446744073709551616}",
      "{\"x\":-9223372036854775809}",
      "{\"x\":0x10}",
      "{\"x\":NaN}",
      "{\"x\":Infinity}",
      "{\"x\":1 2}",
      "1e400",
      "[1e400]",
      // Literals.
      "{\"x\":tru}",
      "{\"x\":nul}",
      "{\"x\":nulll}",
      "{\"x\":True}",
      "{\"key\":nul}",
      "{\"key\":nullx}",
      // Nesting, deep.
      "{\"x\":" + std::string(5000, '[') + std::string(5000, ']') + "}",
      "{\"x\":" + std::string(5000, '[') + std::string(4999, ']') + "}",
      std::string(3000, '[') + std::string(3000, ']'),
      "{\"x\":[1,[2,[3,{\"a\":{\"b\":[]}}]]]}",
      "{\"x\":[1,]}",
      "{\"x\":[,1]}",
      "{\"x\":{\"a\"}}",
      "{\"x\":{\"a\":1,}}",
      "{\"x\":{1:2}}",
      "{\"x\":[}",
      "{\"x\":{]}",
      // Comments are not JSON.
      "{\"key\":\"a\"/*c*/}",
      "// c\n{\"key\":\"a\"}",
  };
  return b;
}

// The kind of answer, for checking that a corpus reaches every rule.
std::string Outcome(std::string_view body, const Specs& specs = kVerifySpecs) {
  Answer a = WithDom(Request("application/json", body), specs);
  if (a.status.ok()) return "ok";
  const std::string& m = a.status.message();
  for (std::string_view kind : {"not valid JSON", "must be a JSON object", "unknown field", "is required",
                                "must be a string", "is longer than"})
    if (m.find(kind) != std::string::npos) return std::string(kind);
  return m;
}

TEST(StringFieldsTest, WrittenBodiesMatchTheDom) {
  std::set<std::string> outcomes;
  for (const std::string& body : WrittenBodies()) {
    EXPECT_TRUE(Same(body));
    EXPECT_TRUE(Same("application/json", body, kTinySpecs));
    outcomes.insert(Outcome(body));
  }
  EXPECT_EQ(outcomes, (std::set<std::string>{"ok", "not valid JSON", "must be a JSON object", "unknown field",
                                             "is required", "must be a string", "is longer than"}));
}

TEST(StringFieldsTest, ContentTypeRulesMatchTheDom) {
  for (std::string ct : {"", "application/json", "application/json; charset=utf-8", "text/plain", "JSON",
                         "application/problem+json", "x-json-ish", " "}) {
    EXPECT_TRUE(Same(ct, "{\"key\":\"a\"}"));
    EXPECT_TRUE(Same(ct, "  "));
    EXPECT_TRUE(Same(ct, "[1"));
  }
}

TEST(StringFieldsTest, ValuesAreViewsOrDecodedCopies) {
  HttpRequest req = Request("application/json", R"({"key":"al_x","scope":"a\u003ab","ip":null})");
  StringFields f;
  ASSERT_TRUE(f.Read(req, kVerifySpecs.fields).ok());
  EXPECT_EQ(f[0], "al_x");
  EXPECT_GE(f[0].data(), req.body().data());  // no escape: a view into the body
  EXPECT_LT(f[0].data(), req.body().data() + req.body().size());
  EXPECT_EQ(f[1], "a:b");  // decoded into the reader's own storage
  EXPECT_EQ(f[2], "");
  // A second read forgets the first.
  HttpRequest other = Request("", R"({"key":"k"})");
  ASSERT_TRUE(f.Read(other, kVerifySpecs.fields).ok());
  EXPECT_EQ(f[0], "k");
  EXPECT_EQ(f[1], "");
}

TEST(StringFieldsTest, SpecsBeyondItsStorageAreRefused) {
  StringFields f;
  EXPECT_EQ(f.Read("", "{}", {{"a", false, 400}, {"b", false, 400}}).code(), Status::Code::kInternal);
  EXPECT_EQ(f.Read("", "{}", {{"a"}, {"b"}, {"c"}, {"d"}, {"e"}}).code(), Status::Code::kInternal);
}

// ---- generated bodies --------------------------------------------------------------------

class Generator {
 public:
  Generator(std::uint64_t seed, std::vector<std::string> known) : rng_(seed), known_(std::move(known)) {}

  std::size_t Below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  bool OneIn(std::size_t n) { return Below(n) == 0; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

  std::string Ws() {
    static const std::vector<std::string> kWs = {"", "", "", " ", "\n", "\t", "\r\n", "  "};
    return Pick(kWs);
  }

  // String contents, raw JSON (escapes and UTF-8 included), of a length near the limits.
  std::string StringBody() {
    static const std::vector<std::string> kPieces = {
        "a",
        "Z",
        "0",
        "_",
        ":",
        ".",
        "/",
        "\\\"",
        "\\\\",
        "\\/",
        "\\n",
        "\\t",
        "\\u0041",
        "\\u00e9",
        "\\u20ac",
        "\\ud83d\\ude00",
        "\xC3\xA9",
        "\xE2\x82\xAC",
        "\xF0\x9F\x98\x80",
        "\\u0000",
        " ",
        "'",
        "{",
        "}",
        "[",
        ",",
    };
    std::string s;
    const std::size_t n = OneIn(4) ? Below(140) : Below(8);
    for (std::size_t i = 0; i < n; ++i) s += OneIn(3) ? Pick(kPieces) : std::string(1, "abcxyz019:._-"[Below(13)]);
    return s;
  }

  // Mostly names of the fields read (`known`), sometimes escaped; sometimes others.
  std::string Name() {
    static const std::vector<std::string> kOthers = {"k\\u0065y", "\\u00e9", "extra",     "Key",    "",
                                                     "zz",        "key ",    "ip\\u0000", "scopes", "\xC3\xA9"};
    if (OneIn(12)) return StringBody();
    if (OneIn(6)) return Pick(kOthers);
    return Pick(known_);
  }

  std::string Value(int depth = 0) {
    switch (Below(depth > 3 ? 6 : 9)) {
      case 0:
      case 1:
      case 2: return "\"" + StringBody() + "\"";
      case 3: return Pick(std::vector<std::string>{"null", "true", "false"});
      case 4:
        return Pick(std::vector<std::string>{"0", "-1", "12", "3.25", "-0.0e+1", "1e308", "1e309",
                                             "123456789012345678901234567890"});
      case 5: return "null";
      case 6: {
        std::string s = "[" + Ws();
        for (std::size_t i = 0, n = Below(4); i < n; ++i) s += (i ? "," : "") + Ws() + Value(depth + 1) + Ws();
        return s + "]";
      }
      default: return Object(depth + 1);
    }
  }

  std::string Object(int depth = 0) {
    std::string s = "{" + Ws();
    const std::size_t n = depth == 0 ? 1 + Below(4) : Below(3);
    for (std::size_t i = 0; i < n; ++i) {
      s += i ? "," + Ws() : "";
      // At the top, mostly the first (required) field with a string first.
      if (depth == 0 && i == 0 && !OneIn(4))
        s += "\"" + known_[0] + "\"" + Ws() + ":" + Ws() + "\"" + StringBody() + "\"";
      else s += "\"" + Name() + "\"" + Ws() + ":" + Ws() + Value(depth);
      s += Ws();
    }
    return s + "}";
  }

  std::string Body() { return Ws() + (OneIn(20) ? Value() : Object()) + Ws(); }

  // One random edit: a byte deleted, replaced or inserted, a cut, or a span repeated.
  std::string Mutate(std::string s) {
    static constexpr char kByteList[] = "{}[]\":,\\ u0eE.-+tnfl9\x00\x1F\x7F\x80\xBF\xC3\xED\xEF\xF4\xFF";
    static const std::string kBytes(kByteList, sizeof kByteList - 1);  // the NUL inside included
    if (s.empty()) return std::string(1, kBytes[Below(kBytes.size())]);
    const std::size_t at = Below(s.size());
    switch (Below(5)) {
      case 0: s.erase(at, 1); break;
      case 1: s[at] = kBytes[Below(kBytes.size())]; break;
      case 2: s.insert(at, 1, kBytes[Below(kBytes.size())]); break;
      case 3: s.resize(at); break;
      default: s.insert(at, s.substr(at, Below(12))); break;
    }
    return s;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<std::string> known_;
};

const std::vector<std::string> kVerifyNames = {"key", "scope", "ip"};
const std::vector<std::string> kTinyNames = {"a", "b", "c", "\xC3\xA9"};

TEST(StringFieldsTest, GeneratedBodiesMatchTheDom) {
  for (const Specs* specs : {&kVerifySpecs, &kTinySpecs}) {
    Generator g(20240611, specs == &kVerifySpecs ? kVerifyNames : kTinyNames);
    std::map<std::string, int> outcomes;
    for (int i = 0; i < 10000; ++i) {
      const std::string body = g.Body();
      ASSERT_TRUE(Same("application/json", body, *specs)) << "case " << i;
      ++outcomes[Outcome(body, *specs)];
    }
    // The generator reaches every answer, each often.
    for (std::string_view kind :
         {"ok", "must be a JSON object", "unknown field", "is required", "must be a string", "is longer than"})
      EXPECT_GE(outcomes[std::string(kind)], 200) << kind;
  }
}

TEST(StringFieldsTest, MutatedBodiesMatchTheDom) {
  for (const Specs* specs : {&kVerifySpecs, &kTinySpecs}) {
    Generator g(42, specs == &kVerifySpecs ? kVerifyNames : kTinyNames);
    std::vector<std::string> bases = WrittenBodies();
    for (int i = 0; i < 2000; ++i) bases.push_back(g.Body());
    int i = 0;
    std::map<std::string, int> outcomes;
    for (const std::string& base : bases) {
      std::string body = base;
      for (int round = 0; round < 12; ++round, ++i) {
        body = g.Mutate(round % 4 == 0 ? base : body);
        ASSERT_TRUE(Same("application/json", body, *specs)) << "case " << i;
        ++outcomes[Outcome(body, *specs)];
      }
    }
    // Mutations break most bodies, and leave many readable.
    EXPECT_GE(outcomes["not valid JSON"], 10000);
    EXPECT_GE(outcomes["ok"], 100);
  }
}

TEST(StringFieldsTest, EveryByteOfAValidBodyDeletedOrReplaced) {
  const std::string body =
      R"({"key":"al_live_7f3a\u0051","scope" : "m:\u00e9\ud83d\ude00", "ip":null, "x":[1,{"y":-2.5e3}]})";
  for (std::size_t at = 0; at <= body.size(); ++at) {
    if (at < body.size()) {
      std::string cut = body;
      cut.erase(at, 1);
      ASSERT_TRUE(Same(cut));
      ASSERT_TRUE(Same(body.substr(0, at)));
    }
    for (int b = 0; b < 256; b += 3) {
      std::string edited = body;
      if (at < body.size()) edited[at] = static_cast<char>(b);
      else edited.push_back(static_cast<char>(b));
      ASSERT_TRUE(Same(edited));
    }
  }
}

}  // namespace
}  // namespace authledger
