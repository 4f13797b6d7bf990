#include "domain/envelope.h"

#include <nlohmann/json.hpp>

#include "domain/ids.h"

namespace authledger {

using json = nlohmann::json;

const std::string kGenesisHash(64, '0');

std::string EncodeEvent(const Event& e) {
  json j = {{"specversion", "1.0"},
            {"id", e.id},
            {"source", "/accounts/" + e.account_id},
            {"type", std::string(EventType(e.data))},
            {"subject", EventSubject(e.data)},
            {"time", FormatRfc3339(e.time)},
            {"datacontenttype", "application/json"},
            {"partitionkey", e.account_id},
            {"accountseq", e.seq},
            {"prevhash", e.prev_hash},
            {"actortype", e.actor.type},
            {"actorid", e.actor.id},
            {"data", EventDataToJson(e.data)}};
  if (!e.actor.ip.empty()) j["actorip"] = e.actor.ip;
  if (!e.actor.endpoint.empty()) j["actorendpoint"] = e.actor.endpoint;
  // Decide validated every text field as UTF-8; `replace` keeps encoding total
  // (no exception can escape a command) should anything slip through.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {
Status Bad(const std::string& what) { return Status::Corruption("event envelope: " + what); }

bool GetString(const json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}
}  // namespace

Result<Event> DecodeEvent(std::string_view bytes) {
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
  auto data = j.find("data");
  if (data == j.end()) return Bad("missing data");
  auto d = EventDataFromJson(type, *data);
  if (!d.ok()) return Bad(d.status().message());
  e.data = std::move(d).value();
  return e;
}

std::string EventHash(std::string_view stored_bytes) { return ToHex(Sha256(stored_bytes)); }

}  // namespace authledger
