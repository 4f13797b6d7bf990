// SignedTreeHead: one ledger partition's Merkle tree (domain/merkle_tree.h) at
// a size, signed by the checkpoint key — what a format-2 checkpoint carries,
// what GET /v1/audit/tree-head serves, what witnesses keep and what
// `authledger audit verify --since-head FILE` checks the ledger against.
//
// JSON (served, witnessed and read back; unknown members are ignored):
//   {"partition": 0, "tree_size": 42, "root_hash": "<64 hex>", "timestamp": <Unix ms>,
//    "public_key": "<64 hex>", "signature": "<128 hex>"}
// The signature is Ed25519 over TreeHeadMessage(partition, tree_size,
// root_hash, timestamp) (domain/events.h). A file may hold one head or
// {"heads": [ ... ]} (one per partition, as GET /v1/audit/tree-head serves).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/envelope.h"
#include "domain/status.h"

namespace authledger {

struct SignedTreeHead {
  std::uint32_t partition = 0;
  std::uint64_t tree_size = 0;
  std::string root_hash;  // hex
  TimeMs timestamp = 0;
  std::string public_key;  // hex
  std::string signature;   // hex
  bool operator==(const SignedTreeHead&) const = default;
};

// The head a checkpoint event signs, or nullopt for a format-1 checkpoint or
// any other event.
std::optional<SignedTreeHead> TreeHeadOf(const Event& e);
// True if the signature verifies with the head's own key (and, if
// `trusted_public_key` — 32 raw bytes — is not empty, that key is it).
bool VerifyTreeHeadSignature(const SignedTreeHead& head, const std::string& trusted_public_key = "");

nlohmann::json TreeHeadToJson(const SignedTreeHead& head);
// One head, or {"heads": [...]}; InvalidArgument naming the first bad member.
Result<std::vector<SignedTreeHead>> TreeHeadsFromJson(std::string_view text);

}  // namespace authledger
