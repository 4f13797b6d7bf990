#include "domain/envelope.h"

#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/canonical_json.h"
#include "domain/ids.h"

namespace authledger {

using json = nlohmann::json;

const std::string kGenesisHash(64, '0');

EnvelopeAttributes AttributesOf(const Event& e) {
  return EnvelopeAttributes{"1.0",
                            e.id,
                            "/accounts/" + e.account_id,
                            std::string(EventType(e.data)),
                            EventSubject(e.data),
                            FormatRfc3339(e.time),
                            e.account_id,
                            e.seq};
}

std::string EncodeEvent(const Event& e) {
  EnvelopeAttributes a = AttributesOf(e);
  json j = {{"specversion", std::move(a.specversion)},
            {"id", std::move(a.id)},
            {"source", std::move(a.source)},
            {"type", std::move(a.type)},
            {"subject", std::move(a.subject)},
            {"time", std::move(a.time)},
            {"datacontenttype", "application/json"},
            {"partitionkey", std::move(a.partitionkey)},
            {"accountseq", a.accountseq},
            {"prevhash", e.prev_hash},
            {"actortype", e.actor.type},
            {"actorid", e.actor.id},
            {"data", EventDataToJson(e.data)}};
  if (!e.actor.ip.empty()) j["actorip"] = e.actor.ip;
  if (!e.actor.endpoint.empty()) j["actorendpoint"] = e.actor.endpoint;
  if (!e.actor.email.empty()) j["actoremail"] = e.actor.email;
  // Decide validated every text field as UTF-8; `replace` keeps encoding total
  // (no exception can escape a command) should anything slip through.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<EnvelopeAttributes> ReadEnvelopeAttributes(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("envelope: not a JSON object");
  EnvelopeAttributes a;
  std::pair<const char*, std::string*> strings[] = {{"specversion", &a.specversion},
                                                    {"id", &a.id},
                                                    {"source", &a.source},
                                                    {"type", &a.type},
                                                    {"subject", &a.subject},
                                                    {"time", &a.time},
                                                    {"partitionkey", &a.partitionkey}};
  for (auto& [name, out] : strings) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string())
      return Status::InvalidArgument(std::string("envelope: missing CloudEvents attribute '") + name + "'");
    *out = it->get<std::string>();
  }
  auto seq = j.find("accountseq");
  if (seq == j.end() || !seq->is_number_unsigned())
    return Status::InvalidArgument("envelope: missing CloudEvents attribute 'accountseq'");
  a.accountseq = seq->get<std::uint64_t>();
  return a;
}

namespace {
Status Bad(const std::string& what) { return Status::Corruption("event envelope: " + what); }

bool GetString(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

// ---- fast path -------------------------------------------------------------------
// Mirrors DecodeEventWithDom and events.cc's EventDataFromJson, field table by field
// table, but succeeds only on canonical input and never reports an error: it
// returns false wherever the DOM path might fail or read the bytes differently.

using Step = CanonicalJsonReader::Step;

// One member of a canonical object; a table lists them in key order.
struct Member {
  std::string_view name;
  bool required;
};

// Reads an object whose keys are a subsequence of `members` (so unique, and no
// unknown ones) holding every required member; read_value(i) reads members[i]'s value.
template <typename ReadValue>
bool ReadObject(CanonicalJsonReader& r, std::span<const Member> members, ReadValue&& read_value) {
  if (!r.BeginObject()) return false;
  std::size_t next = 0;
  for (;;) {
    switch (r.NextMember()) {
      case Step::kError: return false;
      case Step::kEnd:
        for (; next < members.size(); ++next) {
          if (members[next].required) return false;
        }
        return true;
      case Step::kItem:
        for (; next < members.size() && !r.ConsumeKey(members[next].name); ++next) {
          if (members[next].required) return false;
        }
        if (next == members.size() || !read_value(next++)) return false;
    }
  }
}

template <typename ReadElement>
bool ReadArray(CanonicalJsonReader& r, ReadElement&& read_element) {
  if (!r.BeginArray()) return false;
  for (;;) {
    switch (r.NextElement()) {
      case Step::kError: return false;
      case Step::kEnd: return true;
      case Step::kItem:
        if (!read_element()) return false;
    }
  }
}

// events.cc's unsigned fields: an integer in [0, INT64_MAX].
bool ReadNonNegative(CanonicalJsonReader& r, std::uint64_t* out) {
  std::int64_t v = 0;
  if (!r.ReadInt64(&v) || v < 0) return false;
  *out = static_cast<std::uint64_t>(v);
  return true;
}

template <typename T>
inline constexpr bool kIsOptional = false;
template <typename T>
inline constexpr bool kIsOptional<std::optional<T>> = true;

template <HasFields T>
bool ReadStruct(CanonicalJsonReader& r, T* out);

// One field value of C++ type M (field_table.h's JSON types).
template <typename M>
bool ReadValue(CanonicalJsonReader& r, M* out) {
  if constexpr (kIsOptional<M>) return ReadValue(r, &out->emplace());
  else if constexpr (std::is_same_v<M, std::string>) return r.ReadString(out);
  else if constexpr (std::is_same_v<M, std::int64_t>) return r.ReadInt64(out);
  else if constexpr (std::is_same_v<M, std::uint64_t>) return ReadNonNegative(r, out);
  else if constexpr (std::is_same_v<M, std::vector<std::string>>) return r.ReadStringArray(out);
  else return ReadArray(r, [&] { return ReadStruct(r, &out->emplace_back()); });  // a list of structs
}

// An object holding T's fields, as T's table says (unknown members: false).
template <HasFields T>
bool ReadStruct(CanonicalJsonReader& r, T* out) {
  static constexpr auto kOrder = FieldsByName<T>();
  static constexpr auto kMembers = [] {
    std::array<Member, kFieldCount<T>> members{};
    const auto names = FieldNames<T>();
    std::array<bool, kFieldCount<T>> required{};
    std::size_t i = 0;
    ForEachField<T>([&](const auto& field) { required[i++] = field.required(); });
    for (std::size_t k = 0; k < members.size(); ++k) members[k] = Member{names[kOrder[k]], required[kOrder[k]]};
    return members;
  }();
  return ReadObject(r, kMembers, [&](std::size_t i) {
    return VisitField<T>(kOrder[i], [&](const auto& field) { return ReadValue(r, &(out->*(field.member))); });
  });
}

// Decodes `data` (exactly one object) as the EventData alternative named `type`.
template <std::size_t I = 0>
bool DecodeData(std::string_view type, std::string_view data, EventData* out) {
  if constexpr (I == std::variant_size_v<EventData>) {
    return false;
  } else {
    using T = std::variant_alternative_t<I, EventData>;
    if (type != T::kType) return DecodeData<I + 1>(type, data, out);
    CanonicalJsonReader r(data);
    T value;
    if (!ReadStruct(r, &value) || !r.AtEnd()) return false;
    *out = std::move(value);
    return true;
  }
}

}  // namespace

namespace internal {

Result<Event> DecodeEventWithDom(std::string_view bytes) {
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Bad("not a JSON object");
  std::string spec, type, time, source;
  Event e;
  if (!GetString(j, "specversion", &spec) || spec != "1.0") return Bad("specversion must be 1.0");
  if (!GetString(j, "id", &e.id) || !IsUuid(e.id)) return Bad("bad id");
  if (!GetString(j, "type", &type)) return Bad("missing type");
  if (!GetString(j, "partitionkey", &e.account_id)) return Bad("missing partitionkey");
  if (!GetString(j, "source", &source) || source != "/accounts/" + e.account_id) return Bad("source mismatch");
  if (!GetString(j, "time", &time)) return Bad("missing time");
  auto t = ParseRfc3339(time);
  if (!t) return Bad("bad time");
  e.time = *t;
  auto seq = j.find("accountseq");
  if (seq == j.end() || !seq->is_number_unsigned()) return Bad("bad accountseq");
  e.seq = seq->get<std::uint64_t>();
  if (!GetString(j, "prevhash", &e.prev_hash) || e.prev_hash.size() != 64) return Bad("bad prevhash");
  if (!GetString(j, "actortype", &e.actor.type) || !GetString(j, "actorid", &e.actor.id)) return Bad("bad actor");
  GetString(j, "actorip", &e.actor.ip);
  GetString(j, "actorendpoint", &e.actor.endpoint);
  GetString(j, "actoremail", &e.actor.email);
  auto data = j.find("data");
  if (data == j.end()) return Bad("missing data");
  auto d = EventDataFromJson(type, *data);
  if (!d.ok()) return Bad(d.status().message());
  e.data = std::move(d).value();
  return e;
}

std::optional<Event> DecodeCanonicalEvent(std::string_view bytes) {
  // EncodeEvent's keys, sorted. DecodeEventWithDom ignores datacontenttype and subject.
  enum : std::size_t {
    kAccountSeq,
    kActorEmail,
    kActorEndpoint,
    kActorId,
    kActorIp,
    kActorType,
    kData,
    kDataContentType,
    kId,
    kPartitionKey,
    kPrevHash,
    kSource,
    kSpecVersion,
    kSubject,
    kTime,
    kType,
  };
  static constexpr Member kMembers[] = {
      {"accountseq", true},  {"actoremail", false},  {"actorendpoint", false}, {"actorid", true},
      {"actorip", false},    {"actortype", true},    {"data", true},           {"datacontenttype", false},
      {"id", true},          {"partitionkey", true}, {"prevhash", true},       {"source", true},
      {"specversion", true}, {"subject", false},     {"time", true},           {"type", true}};
  Event e;
  std::string_view data, source, spec, time, type;
  CanonicalJsonReader r(bytes);
  const bool read = ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case kAccountSeq: return r.ReadUint64(&e.seq);
      case kActorEmail: return r.ReadString(&e.actor.email);
      case kActorEndpoint: return r.ReadString(&e.actor.endpoint);
      case kActorId: return r.ReadString(&e.actor.id);
      case kActorIp: return r.ReadString(&e.actor.ip);
      case kActorType: return r.ReadString(&e.actor.type);
      case kData: return r.SkipValue(&data);        // decoded below, once the type is known
      case kDataContentType: return r.SkipValue();  // any value: the DOM path ignores it
      case kId: return r.ReadString(&e.id);
      case kPartitionKey: return r.ReadString(&e.account_id);
      case kPrevHash: return r.ReadString(&e.prev_hash);
      case kSource: return r.ReadStringView(&source);
      case kSpecVersion: return r.ReadStringView(&spec);
      case kSubject: return r.SkipValue();
      case kTime: return r.ReadStringView(&time);
      default: return r.ReadStringView(&type);
    }
  });
  if (!read || !r.AtEnd()) return std::nullopt;
  constexpr std::string_view kSourcePrefix = "/accounts/";
  if (spec != "1.0" || !IsUuid(e.id) || !source.starts_with(kSourcePrefix) ||
      source.substr(kSourcePrefix.size()) != e.account_id || e.prev_hash.size() != 64)
    return std::nullopt;
  std::optional<TimeMs> t = ParseRfc3339(time);
  if (!t) return std::nullopt;
  e.time = *t;
  if (!DecodeData(type, data, &e.data)) return std::nullopt;
  return e;
}

}  // namespace internal

Result<Event> DecodeEvent(std::string_view bytes) {
  if (std::optional<Event> e = internal::DecodeCanonicalEvent(bytes)) return std::move(*e);
  return internal::DecodeEventWithDom(bytes);
}

std::string EventHash(std::string_view stored_bytes) { return ToHex(Sha256(stored_bytes)); }

}  // namespace authledger
