#include "domain/envelope.h"

#include <cstdint>
#include <optional>
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
  std::pair<const char*, std::string*> strings[] = {
      {"specversion", &a.specversion}, {"id", &a.id},     {"source", &a.source},
      {"type", &a.type},               {"subject", &a.subject}, {"time", &a.time},
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
// Mirrors DecodeEventWithDom and events.cc's EventDataFromJson field by field, but
// succeeds only on canonical input and never reports an error: it returns false
// wherever the DOM path might fail or read the bytes differently.

using Step = CanonicalJsonReader::Step;

// One member of a canonical object; a table lists them in key order.
struct Member {
  std::string_view name;
  bool required;
};

// Reads an object whose keys are a subsequence of `members` (so unique, and no
// unknown ones) holding every required member; read_value(i) reads members[i]'s value.
template <std::size_t N, typename ReadValue>
bool ReadObject(CanonicalJsonReader& r, const Member (&members)[N], ReadValue&& read_value) {
  if (!r.BeginObject()) return false;
  std::size_t next = 0;
  for (;;) {
    switch (r.NextMember()) {
      case Step::kError:
        return false;
      case Step::kEnd:
        for (; next < N; ++next) {
          if (members[next].required) return false;
        }
        return true;
      case Step::kItem:
        for (; next < N && !r.ConsumeKey(members[next].name); ++next) {
          if (members[next].required) return false;
        }
        if (next == N || !read_value(next++)) return false;
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

// events.cc's Uint: an integer in [0, INT64_MAX] (larger ones wrap negative there).
bool ReadNonNegative(CanonicalJsonReader& r, std::uint64_t* out) {
  std::int64_t v = 0;
  if (!r.ReadInt64(&v) || v < 0) return false;
  *out = static_cast<std::uint64_t>(v);
  return true;
}

bool ReadData(CanonicalJsonReader& r, AccountCreated* e) {
  static constexpr Member kMembers[] = {{"name", true}};
  return ReadObject(r, kMembers, [&](std::size_t) { return r.ReadString(&e->name); });
}

bool ReadData(CanonicalJsonReader& r, KeyCreated* e) {
  static constexpr Member kMembers[] = {{"allowed_cidrs", false}, {"environment", true}, {"expires_at", false},
                                        {"key_id", true},         {"name", true},        {"rotated_from", false},
                                        {"scopes", true},         {"secret_hash", true}};
  return ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case 0: return r.ReadStringArray(&e->allowed_cidrs);
      case 1: return r.ReadString(&e->environment);
      case 2: return r.ReadInt64(&e->expires_at.emplace());
      case 3: return r.ReadString(&e->key_id);
      case 4: return r.ReadString(&e->name);
      case 5: return r.ReadString(&e->rotated_from.emplace());
      case 6: return r.ReadStringArray(&e->scopes);
      default: return r.ReadString(&e->secret_hash);
    }
  });
}

bool ReadKeyAndScopes(CanonicalJsonReader& r, std::string* key_id, std::vector<std::string>* scopes) {
  static constexpr Member kMembers[] = {{"key_id", true}, {"scopes", true}};
  return ReadObject(r, kMembers,
                    [&](std::size_t i) { return i == 0 ? r.ReadString(key_id) : r.ReadStringArray(scopes); });
}
bool ReadData(CanonicalJsonReader& r, KeyScopesGranted* e) { return ReadKeyAndScopes(r, &e->key_id, &e->scopes); }
bool ReadData(CanonicalJsonReader& r, KeyScopesRevoked* e) { return ReadKeyAndScopes(r, &e->key_id, &e->scopes); }

bool ReadData(CanonicalJsonReader& r, KeyRotated* e) {
  static constexpr Member kMembers[] = {{"grace_until", true}, {"key_id", true}, {"replaced_by", true}};
  return ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case 0: return r.ReadInt64(&e->grace_until);
      case 1: return r.ReadString(&e->key_id);
      default: return r.ReadString(&e->replaced_by);
    }
  });
}

// An object of two string members, in sorted order.
bool ReadTwoStrings(CanonicalJsonReader& r, const Member (&members)[2], std::string* first, std::string* second) {
  return ReadObject(r, members, [&](std::size_t i) { return r.ReadString(i == 0 ? first : second); });
}

bool ReadData(CanonicalJsonReader& r, KeyRevoked* e) {
  static constexpr Member kMembers[] = {{"key_id", true}, {"reason", false}};
  return ReadTwoStrings(r, kMembers, &e->key_id, &e->reason);
}

bool ReadData(CanonicalJsonReader& r, KeyUsed* e) {
  static constexpr Member kMembers[] = {{"ip", false}, {"key_id", true}, {"last_used_at", true}, {"uses", true}};
  return ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case 0: return r.ReadString(&e->ip);
      case 1: return r.ReadString(&e->key_id);
      case 2: return r.ReadInt64(&e->last_used_at);
      default: return ReadNonNegative(r, &e->uses);
    }
  });
}

bool ReadHead(CanonicalJsonReader& r, ChainHead* h) {
  static constexpr Member kMembers[] = {{"account_id", true}, {"hash", true}, {"seq", true}};
  return ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case 0: return r.ReadString(&h->account_id);
      case 1: return r.ReadString(&h->hash);
      default: return ReadNonNegative(r, &h->seq);
    }
  });
}

bool ReadData(CanonicalJsonReader& r, LedgerCheckpoint* e) {
  static constexpr Member kMembers[] = {
      {"covers_position", true}, {"heads", true}, {"public_key", true}, {"signature", true}};
  return ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case 0: return ReadNonNegative(r, &e->covers_position);
      case 1: return ReadArray(r, [&] { return ReadHead(r, &e->heads.emplace_back()); });
      case 2: return r.ReadString(&e->public_key);
      default: return r.ReadString(&e->signature);
    }
  });
}

bool ReadData(CanonicalJsonReader& r, ClientRegistered* e) {
  static constexpr Member kMembers[] = {{"client_id", true},   {"description", true},
                                        {"grant_types", true}, {"name", true},
                                        {"redirect_uris", true}, {"scopes", true},
                                        {"secret_hash", false}, {"token_endpoint_auth_method", true}};
  return ReadObject(r, kMembers, [&](std::size_t i) {
    switch (i) {
      case 0: return r.ReadString(&e->client_id);
      case 1: return r.ReadString(&e->description);
      case 2: return r.ReadStringArray(&e->grant_types);
      case 3: return r.ReadString(&e->name);
      case 4: return r.ReadStringArray(&e->redirect_uris);
      case 5: return r.ReadStringArray(&e->scopes);
      case 6: return r.ReadString(&e->secret_hash);
      default: return r.ReadString(&e->token_endpoint_auth_method);
    }
  });
}

bool ReadData(CanonicalJsonReader& r, ClientSecretRotated* e) {
  static constexpr Member kMembers[] = {{"client_id", true}, {"secret_hash", true}};
  return ReadTwoStrings(r, kMembers, &e->client_id, &e->secret_hash);
}

bool ReadData(CanonicalJsonReader& r, ClientDeleted* e) {
  static constexpr Member kMembers[] = {{"client_id", true}, {"reason", false}};
  return ReadTwoStrings(r, kMembers, &e->client_id, &e->reason);
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
    if (!ReadData(r, &value) || !r.AtEnd()) return false;
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
    kAccountSeq, kActorEmail, kActorEndpoint, kActorId, kActorIp, kActorType, kData, kDataContentType, kId,
    kPartitionKey, kPrevHash, kSource, kSpecVersion, kSubject, kTime, kType,
  };
  static constexpr Member kMembers[] = {
      {"accountseq", true},   {"actoremail", false}, {"actorendpoint", false},   {"actorid", true},
      {"actorip", false},     {"actortype", true},   {"data", true},             {"datacontenttype", false},
      {"id", true},           {"partitionkey", true}, {"prevhash", true},        {"source", true},
      {"specversion", true},  {"subject", false},    {"time", true},             {"type", true}};
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
      case kData: return r.SkipValue(&data);  // decoded below, once the type is known
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
