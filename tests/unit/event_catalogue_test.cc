// The event catalogue: every event type in domain/events.h's EventData, with its field
// table (domain/field_table.h), is matched by
//   - its JSON Schema, schemas/events/<type>.schema.json (type const, data fields, required),
//   - the type enum of schemas/events/envelope.schema.json,
//   - the audit view in schemas/openapi.json (AuditEntry's type enum and its `changes`
//     for that type), for every type an account's audit view shows,
//   - at least one sample in tests/support/sample_events.h (which the codec tests, and the
//     differential decode test, run over).
// Each failure names the file to edit and what to put there.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <type_traits>

#include "domain/events.h"
#include "tests/support/sample_events.h"

namespace authledger {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kSource = AUTHLEDGER_SOURCE_DIR;
const std::string kEventsDir = "schemas/events/";
const std::string kEnvelope = kEventsDir + "envelope.schema.json";
const std::string kOpenApi = "schemas/openapi.json";
const std::string kSamples = "tests/support/sample_events.h";

json Load(const std::string& relative) {
  std::ifstream in(kSource + "/" + relative);
  if (!in) return nullptr;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// The value at a JSON pointer, or null when there is none (a const json's [] must not miss).
json At(const json& j, const std::string& pointer) {
  const json::json_pointer p(pointer);
  return j.contains(p) ? j[p] : json();
}

std::set<std::string> Keys(const json& object) {
  std::set<std::string> out;
  if (object.is_object())
    for (const auto& [k, v] : object.items()) out.insert(k);
  return out;
}

std::set<std::string> Strings(const json& array) {
  std::set<std::string> out;
  if (array.is_array())
    for (const auto& v : array)
      if (v.is_string()) out.insert(v.get<std::string>());
  return out;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return "{" + out + "}";
}

// What a type's table says: all data field names, the required ones; optionally only
// those the audit view shows.
template <HasFields T>
void TableFields(bool audit_only, std::set<std::string>* names, std::set<std::string>* required) {
  ForEachField<T>([&](const auto& f) {
    if (audit_only && !f.audit_visible()) return;
    names->insert(std::string(f.name));
    if (f.required()) required->insert(std::string(f.name));
  });
}

// Fails with `where` unless the object schema `schema` has exactly `names` as properties
// and `required` as required members.
void ExpectObjectSchema(const json& schema, const std::set<std::string>& names, const std::set<std::string>& required,
                        const std::string& where) {
  const std::set<std::string> have = Keys(At(schema, "/properties"));
  EXPECT_EQ(have, names) << where << ": the properties must be the field table's " << Join(names) << ", not "
                         << Join(have) << " (domain/events.h Fields())";
  const std::set<std::string> have_required = Strings(At(schema, "/required"));
  EXPECT_EQ(have_required, required) << where << ": `required` must list the table's kRequired fields "
                                     << Join(required) << ", not " << Join(have_required);
  EXPECT_EQ(At(schema, "/additionalProperties"), false) << where << ": needs \"additionalProperties\": false";
}

// Only checkpoints belong to no account's history: the audit view never shows them.
template <typename T>
constexpr bool kInAuditView = !std::is_same_v<T, LedgerCheckpoint>;

TEST(EventCatalogueTest, EveryTypeHasItsSchemaWithTheTablesFields) {
  ForEachEventType([&](auto t) {
    using T = typename decltype(t)::type;
    const std::string type(T::kType);
    const std::string file = kEventsDir + type + ".schema.json";
    const json schema = Load(file);
    if (schema.is_null() || schema.is_discarded()) {
      ADD_FAILURE() << file << " is missing or not JSON: every event type needs a JSON Schema "
                    << "(copy a sibling's, set properties.type.const and properties.data)";
      return;
    }
    EXPECT_EQ(At(schema, "/properties/type/const"), type) << file << ": properties.type.const";
    std::set<std::string> names, required;
    TableFields<T>(false, &names, &required);
    ExpectObjectSchema(At(schema, "/properties/data"), names, required, file + " properties.data");
  });
}

TEST(EventCatalogueTest, NoSchemaWithoutAType) {
  const auto types = AllEventTypes();
  for (const auto& entry : fs::directory_iterator(kSource + "/" + kEventsDir)) {
    std::string name = entry.path().filename().string();
    if (name == "envelope.schema.json" || !name.ends_with(".schema.json")) continue;
    name.resize(name.size() - std::string(".schema.json").size());
    EXPECT_NE(std::find(types.begin(), types.end(), name), types.end())
        << kEventsDir << entry.path().filename().string() << " describes a type that domain/events.h's EventData lacks";
  }
}

TEST(EventCatalogueTest, TheEnvelopeSchemaListsEveryType) {
  const json envelope = Load(kEnvelope);
  ASSERT_TRUE(envelope.is_object()) << kEnvelope << " is missing or not JSON";
  const std::set<std::string> listed = Strings(At(envelope, "/properties/type/enum"));
  std::set<std::string> known;
  for (auto type : AllEventTypes()) {
    known.insert(std::string(type));
    EXPECT_TRUE(listed.count(std::string(type))) << kEnvelope << ": add \"" << type << "\" to properties.type.enum";
  }
  for (const auto& type : listed)
    EXPECT_TRUE(known.count(type)) << kEnvelope << ": properties.type.enum lists \"" << type
                                   << "\", which domain/events.h's EventData lacks";
}

TEST(EventCatalogueTest, TheOpenApiAuditEntryCoversEveryAccountType) {
  const json openapi = Load(kOpenApi);
  ASSERT_TRUE(openapi.is_object()) << kOpenApi << " is missing or not JSON";
  const json entry = At(openapi, "/components/schemas/AuditEntry");
  const std::set<std::string> listed = Strings(At(entry, "/properties/type/enum"));
  ForEachEventType([&](auto t) {
    using T = typename decltype(t)::type;
    const std::string type(T::kType);
    if (!kInAuditView<T>) {
      EXPECT_FALSE(listed.count(type)) << kOpenApi << ": the audit view never shows " << type;
      return;
    }
    EXPECT_TRUE(listed.count(type)) << kOpenApi << ": add \"" << type
                                    << "\" to components.schemas.AuditEntry.properties.type.enum";
    // The allOf case `if type const T then changes {...}` describes the audit view's changes.
    json changes;
    for (const auto& c : At(entry, "/allOf"))
      if (At(c, "/if/properties/type/const") == type && !At(c, "/then/properties/changes").is_null())
        changes = At(c, "/then/properties/changes");
    if (changes.is_null()) {
      ADD_FAILURE() << kOpenApi << ": components.schemas.AuditEntry.allOf needs a case {\"if\": {\"properties\": "
                    << "{\"type\": {\"const\": \"" << type << "\"}}}, \"then\": {\"properties\": {\"changes\": ...}}}";
      return;
    }
    std::set<std::string> names, required;
    TableFields<T>(true, &names, &required);
    ExpectObjectSchema(changes, names, required, kOpenApi + " AuditEntry changes of " + type);
  });
}

TEST(EventCatalogueTest, EveryTypeHasASample) {
  std::set<std::string> sampled;
  for (const EventData& d : testing::SampleEventData(0)) sampled.insert(std::string(EventType(d)));
  for (auto type : AllEventTypes())
    EXPECT_TRUE(sampled.count(std::string(type))) << kSamples << ": add a sample of " << type
                                                  << " to SampleEventData (every field set, and one with the "
                                                     "optional fields left out)";
}

}  // namespace
}  // namespace authledger
