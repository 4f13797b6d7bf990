#include "domain/merkle_tree.h"

#include <bit>

#include "domain/crypto.h"

namespace authledger {

namespace {
std::string ToString(const Digest& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }
}  // namespace

std::string MerkleLeafHash(std::string_view leaf) {
  std::string buf;
  buf.reserve(1 + leaf.size());
  buf.push_back('\x00');
  buf.append(leaf);
  return ToString(Sha256(buf));
}

std::string MerkleNodeHash(std::string_view left, std::string_view right) {
  std::string buf;
  buf.reserve(1 + left.size() + right.size());
  buf.push_back('\x01');
  buf.append(left).append(right);
  return ToString(Sha256(buf));
}

std::string MerkleEmptyRoot() { return ToString(Sha256("")); }

std::uint64_t MerkleSplit(std::uint64_t n) { return std::bit_floor(n - 1); }

Result<std::string> MerkleRangeRoot(std::uint64_t begin, std::uint64_t end, const MerkleNodeSource& nodes) {
  if (end <= begin) return MerkleEmptyRoot();
  const std::uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) return nodes(std::countr_zero(n), begin / n);
  if (n == 1) return nodes(0, begin);
  const std::uint64_t k = MerkleSplit(n);
  auto left = MerkleRangeRoot(begin, begin + k, nodes);
  if (!left.ok()) return left;
  auto right = MerkleRangeRoot(begin + k, end, nodes);
  if (!right.ok()) return right;
  return MerkleNodeHash(*left, *right);
}

Result<MerkleFrontier> MerkleFrontier::Load(std::uint64_t size, const MerkleNodeSource& nodes) {
  MerkleFrontier f;
  std::uint64_t start = 0;
  for (int level = 63; level >= 0; --level) {
    const std::uint64_t width = std::uint64_t{1} << level;
    if ((size & width) == 0) continue;
    auto h = nodes(level, start >> level);
    if (!h.ok()) return h.status();
    f.nodes_.push_back(std::move(h).value());
    start += width;
  }
  f.size_ = size;
  return f;
}

void MerkleFrontier::Append(std::string leaf_hash, const Completed& completed) {
  std::uint64_t index = size_;
  int level = 0;
  if (completed) completed(level, index, leaf_hash);
  while (index & 1) {
    leaf_hash = MerkleNodeHash(nodes_.back(), leaf_hash);
    nodes_.pop_back();
    index >>= 1;
    ++level;
    if (completed) completed(level, index, leaf_hash);
  }
  nodes_.push_back(std::move(leaf_hash));
  ++size_;
}

std::string MerkleFrontier::Root() const {
  if (nodes_.empty()) return MerkleEmptyRoot();
  std::string root = nodes_.back();
  for (std::size_t i = nodes_.size() - 1; i-- > 0;) root = MerkleNodeHash(nodes_[i], root);
  return root;
}

}  // namespace authledger
