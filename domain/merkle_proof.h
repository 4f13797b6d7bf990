// Inclusion and consistency proofs of RFC 9162 (Certificate Transparency v2)
// Merkle trees (domain/merkle_tree.h), generated from perfect subtrees and
// verified from hashes alone. The verifiers are what an auditor or a SIEM runs:
// they need only SHA-256, the proof and the tree heads they trust.
//
// Inclusion proof (RFC 9162 2.1.3): the sibling hashes on the path from leaf
// `index` to the root of a tree of `size` leaves, leaf side first.
// Consistency proof (RFC 9162 2.1.4): the hashes that prove the tree of
// `first` leaves is a prefix of the tree of `second` leaves. For first == 0 or
// first == second the proof is empty (an empty tree is a prefix of any tree;
// equal sizes must have equal roots).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "domain/merkle_tree.h"
#include "domain/status.h"

namespace authledger {

// InvalidArgument unless index < size; else what `nodes` returns on failure.
Result<std::vector<std::string>> MerkleInclusionProof(std::uint64_t index, std::uint64_t size,
                                                      const MerkleNodeSource& nodes);
// InvalidArgument unless first <= second.
Result<std::vector<std::string>> MerkleConsistencyProof(std::uint64_t first, std::uint64_t second,
                                                        const MerkleNodeSource& nodes);

// True if `proof` shows that `leaf_hash` is leaf `index` of the tree of `size`
// leaves whose root is `root` (RFC 9162 2.1.3.2).
bool VerifyMerkleInclusion(std::uint64_t index, std::uint64_t size, const std::string& leaf_hash,
                           const std::vector<std::string>& proof, const std::string& root);
// True if `proof` shows that the tree of `first` leaves with root `first_root`
// is a prefix of the tree of `second` leaves with root `second_root` (RFC 9162 2.1.4.2).
bool VerifyMerkleConsistency(std::uint64_t first, std::uint64_t second, const std::string& first_root,
                             const std::string& second_root, const std::vector<std::string>& proof);

}  // namespace authledger
