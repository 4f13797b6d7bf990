#include "domain/merkle_proof.h"

#include <bit>

namespace authledger {

namespace {

// PATH(m, D[begin:end]) of RFC 9162 2.1.3.1, appended to `out` leaf side first.
Status Path(std::uint64_t m, std::uint64_t begin, std::uint64_t end, const MerkleNodeSource& nodes,
            std::vector<std::string>* out) {
  if (end - begin <= 1) return Status::Ok();
  const std::uint64_t split = begin + MerkleSplit(end - begin);
  const bool left = m < split;
  if (Status s = left ? Path(m, begin, split, nodes, out) : Path(m, split, end, nodes, out); !s.ok()) return s;
  auto sibling = left ? MerkleRangeRoot(split, end, nodes) : MerkleRangeRoot(begin, split, nodes);
  if (!sibling.ok()) return sibling.status();
  out->push_back(std::move(sibling).value());
  return Status::Ok();
}

// SUBPROOF(m, D[begin:end], whole) of RFC 9162 2.1.4.1; m counts from begin.
Status SubProof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool whole, const MerkleNodeSource& nodes,
                std::vector<std::string>* out) {
  const std::uint64_t n = end - begin;
  if (m == n) {
    if (whole) return Status::Ok();
    auto root = MerkleRangeRoot(begin, end, nodes);
    if (!root.ok()) return root.status();
    out->push_back(std::move(root).value());
    return Status::Ok();
  }
  const std::uint64_t k = MerkleSplit(n);
  const bool left = m <= k;
  Status s = left ? SubProof(m, begin, begin + k, whole, nodes, out)
                  : SubProof(m - k, begin + k, end, /*whole=*/false, nodes, out);
  if (!s.ok()) return s;
  auto other = left ? MerkleRangeRoot(begin + k, end, nodes) : MerkleRangeRoot(begin, begin + k, nodes);
  if (!other.ok()) return other.status();
  out->push_back(std::move(other).value());
  return Status::Ok();
}

bool IsHash(const std::string& h) { return h.size() == kMerkleHashBytes; }

}  // namespace

Result<std::vector<std::string>> MerkleInclusionProof(std::uint64_t index, std::uint64_t size,
                                                      const MerkleNodeSource& nodes) {
  if (index >= size)
    return Status::InvalidArgument("leaf " + std::to_string(index) + " is not in a tree of " + std::to_string(size) +
                                   " leaves");
  std::vector<std::string> proof;
  if (Status s = Path(index, 0, size, nodes, &proof); !s.ok()) return s;
  return proof;
}

Result<std::vector<std::string>> MerkleConsistencyProof(std::uint64_t first, std::uint64_t second,
                                                        const MerkleNodeSource& nodes) {
  if (first > second)
    return Status::InvalidArgument("a tree of " + std::to_string(first) + " leaves cannot be a prefix of one of " +
                                   std::to_string(second));
  std::vector<std::string> proof;
  if (first == 0 || first == second) return proof;
  if (Status s = SubProof(first, 0, second, /*whole=*/true, nodes, &proof); !s.ok()) return s;
  return proof;
}

bool VerifyMerkleInclusion(std::uint64_t index, std::uint64_t size, const std::string& leaf_hash,
                           const std::vector<std::string>& proof, const std::string& root) {
  if (index >= size || !IsHash(leaf_hash) || !IsHash(root)) return false;
  std::uint64_t fn = index, sn = size - 1;
  std::string r = leaf_hash;
  for (const std::string& p : proof) {
    if (sn == 0 || !IsHash(p)) return false;
    if ((fn & 1) || fn == sn) {
      r = MerkleNodeHash(p, r);
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyMerkleConsistency(std::uint64_t first, std::uint64_t second, const std::string& first_root,
                             const std::string& second_root, const std::vector<std::string>& proof) {
  if (first > second || !IsHash(first_root) || !IsHash(second_root)) return false;
  if (first == 0) return proof.empty() && first_root == MerkleEmptyRoot();
  if (first == second) return proof.empty() && first_root == second_root;
  if (proof.empty()) return false;
  for (const std::string& p : proof)
    if (!IsHash(p)) return false;
  std::vector<std::string> path;
  // A first tree that is a perfect subtree is itself the proof's starting node.
  if (std::has_single_bit(first)) path.push_back(first_root);
  path.insert(path.end(), proof.begin(), proof.end());
  std::uint64_t fn = first - 1, sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0], sr = path[0];
  for (std::size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      if ((fn & 1) == 0)
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

}  // namespace authledger
