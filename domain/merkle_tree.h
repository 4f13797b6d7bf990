// Merkle tree hashing in the sense of RFC 9162 (Certificate Transparency v2),
// section 2.1: the leaf hash is SHA-256(0x00 || leaf), an interior node's hash
// SHA-256(0x01 || left || right), and the root of n > 1 leaves is the node over
// the root of the first k leaves and the root of the rest, k being the largest
// power of two below n. The root of no leaves is SHA-256 of nothing.
//
// Hashes are 32 raw bytes. A "perfect subtree" (level L, index i) is the root
// of leaves [i * 2^L, (i + 1) * 2^L); level 0 is a leaf hash. Every root and
// proof of a tree of size n is built from O(log n) perfect subtrees, so a
// store that keeps them (projections: the merkle column family) answers any
// of them with O(log n) reads. Pure: no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace authledger {

inline constexpr std::size_t kMerkleHashBytes = 32;

std::string MerkleLeafHash(std::string_view leaf);                          // SHA-256(0x00 || leaf)
std::string MerkleNodeHash(std::string_view left, std::string_view right);  // SHA-256(0x01 || left || right)
std::string MerkleEmptyRoot();                                              // SHA-256("")
// The largest power of two strictly below n (n >= 2).
std::uint64_t MerkleSplit(std::uint64_t n);

// The hash of perfect subtree (level, index); NotFound if it is not known.
using MerkleNodeSource = std::function<Result<std::string>(int level, std::uint64_t index)>;

// The RFC 9162 root of leaves [begin, end), from perfect subtrees. `begin`
// must be a multiple of the largest power of two not above end - begin (true
// of every range an RFC 9162 root or proof of a tree starting at 0 uses).
Result<std::string> MerkleRangeRoot(std::uint64_t begin, std::uint64_t end, const MerkleNodeSource& nodes);

// The right edge of a growing tree: the roots of the perfect subtrees that make
// up leaves [0, size), biggest first (one per set bit of size). Appending a
// leaf completes the perfect subtrees that end with it, reported to
// `completed` smallest first: the leaf itself, then one per trailing one-bit
// of the old size (amortised: two per leaf).
class MerkleFrontier {
 public:
  using Completed = std::function<void(int level, std::uint64_t index, const std::string& hash)>;
  MerkleFrontier() = default;
  // The frontier of a tree of `size` leaves, from its perfect subtrees.
  static Result<MerkleFrontier> Load(std::uint64_t size, const MerkleNodeSource& nodes);

  void Append(std::string leaf_hash, const Completed& completed = nullptr);
  std::uint64_t size() const { return size_; }
  std::string Root() const;  // of leaves [0, size)
  bool operator==(const MerkleFrontier&) const = default;

 private:
  std::uint64_t size_ = 0;
  std::vector<std::string> nodes_;
};

}  // namespace authledger
