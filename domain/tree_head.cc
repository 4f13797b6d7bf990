#include "domain/tree_head.h"

#include <nlohmann/json.hpp>

#include "domain/crypto.h"

namespace authledger {

using json = nlohmann::json;

namespace {

bool IsLowerHex(const std::string& s, std::size_t digits) {
  if (s.size() != digits) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<SignedTreeHead> HeadFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + " is not a JSON object");
  SignedTreeHead h;
  auto integer = [&](const char* name, std::uint64_t max, std::uint64_t* out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > max)
      return Status::InvalidArgument(where + ": '" + name + "' must be an integer from 0 to " + std::to_string(max));
    *out = it->get<std::uint64_t>();
    return Status::Ok();
  };
  auto hex = [&](const char* name, std::size_t digits, std::string* out) -> Status {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string() || !IsLowerHex(it->get<std::string>(), digits))
      return Status::InvalidArgument(where + ": '" + name + "' must be " + std::to_string(digits) +
                                     " lowercase hex digits");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  std::uint64_t partition = 0, timestamp = 0;
  for (Status s : {integer("partition", 31, &partition), integer("tree_size", INT64_MAX, &h.tree_size),
                   integer("timestamp", INT64_MAX, &timestamp), hex("root_hash", 64, &h.root_hash),
                   hex("public_key", 64, &h.public_key), hex("signature", 128, &h.signature)})
    if (!s.ok()) return s;
  h.partition = static_cast<std::uint32_t>(partition);
  h.timestamp = static_cast<TimeMs>(timestamp);
  return h;
}

}  // namespace

std::optional<SignedTreeHead> TreeHeadOf(const Event& e) {
  const auto* cp = std::get_if<LedgerCheckpoint>(&e.data);
  if (!cp || !cp->tree_size || !cp->tree_root || !cp->tree_signature) return std::nullopt;
  auto partition = LedgerChainPartition(e.account_id);
  if (!partition) return std::nullopt;
  return SignedTreeHead{*partition, *cp->tree_size, *cp->tree_root, e.time, cp->public_key, *cp->tree_signature};
}

bool VerifyTreeHeadSignature(const SignedTreeHead& head, const std::string& trusted_public_key) {
  std::string pub, sig;
  if (!FromHex(head.public_key, &pub) || !FromHex(head.signature, &sig)) return false;
  if (!trusted_public_key.empty() && pub != trusted_public_key) return false;
  return Ed25519Verify(pub, TreeHeadMessage(head.partition, head.tree_size, head.root_hash, head.timestamp), sig);
}

json TreeHeadToJson(const SignedTreeHead& h) {
  return json{{"partition", h.partition}, {"tree_size", h.tree_size},   {"root_hash", h.root_hash},
              {"timestamp", h.timestamp}, {"public_key", h.public_key}, {"signature", h.signature}};
}

Result<std::vector<SignedTreeHead>> TreeHeadsFromJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("not JSON");
  std::vector<SignedTreeHead> heads;
  if (j.is_object() && j.contains("heads")) {
    if (!j["heads"].is_array()) return Status::InvalidArgument("'heads' must be an array");
    for (std::size_t i = 0; i < j["heads"].size(); ++i) {
      auto h = HeadFromJson(j["heads"][i], "heads[" + std::to_string(i) + "]");
      if (!h.ok()) return h.status();
      heads.push_back(std::move(h).value());
    }
  } else {
    auto h = HeadFromJson(j, "the tree head");
    if (!h.ok()) return h.status();
    heads.push_back(std::move(h).value());
  }
  return heads;
}

}  // namespace authledger
