// domain/merkle_tree and merkle_proof: roots against the published RFC 6962 /
// RFC 9162 test vectors and hand-built small trees, and, for every tree size
// 1..64 and every pair of sizes m <= n, proofs generated from perfect subtrees
// that verify, and that fail once any part of them is changed.
#include <gtest/gtest.h>

#include <bit>
#include <string>
#include <vector>

#include "domain/crypto.h"
#include "domain/merkle_proof.h"
#include "domain/merkle_tree.h"

namespace authledger {
namespace {

std::string Hex(const std::string& s) { return ToHex(reinterpret_cast<const unsigned char*>(s.data()), s.size()); }

// The RFC's definition read literally: MTH over a list of leaf hashes.
std::string ReferenceRoot(const std::vector<std::string>& leaves, std::size_t begin, std::size_t end) {
  if (end == begin) return MerkleEmptyRoot();
  if (end - begin == 1) return leaves[begin];
  std::size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return MerkleNodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

std::vector<std::string> LeafHashes(std::size_t n) {
  std::vector<std::string> leaves;
  for (std::size_t i = 0; i < n; ++i) leaves.push_back(MerkleLeafHash("leaf " + std::to_string(i)));
  return leaves;
}

// Perfect subtrees computed from the leaves, counting the reads.
MerkleNodeSource Nodes(const std::vector<std::string>& leaves, int* reads = nullptr) {
  return [&leaves, reads](int level, std::uint64_t index) -> Result<std::string> {
    if (reads) ++*reads;
    const std::size_t width = std::size_t{1} << level, begin = index * width;
    if (begin + width > leaves.size()) return Status::NotFound("no such subtree");
    return ReferenceRoot(leaves, begin, begin + width);
  };
}

// RFC 6962's test data (certificate-transparency's merkle_tree_test): leaves and the roots of their prefixes.
TEST(DomainMerkleTest, RootsMatchPublishedVectors) {
  const std::vector<std::string> data = {"",
                                         std::string("\x00", 1),
                                         "\x10",
                                         "\x20\x21",
                                         "\x30\x31",
                                         "\x40\x41\x42\x43",
                                         "\x50\x51\x52\x53\x54\x55\x56\x57",
                                         "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const std::vector<std::string> roots = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                                          "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                                          "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                                          "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                                          "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                                          "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                                          "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                                          "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  EXPECT_EQ(Hex(MerkleEmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  MerkleFrontier f;
  EXPECT_EQ(f.Root(), MerkleEmptyRoot());
  for (std::size_t i = 0; i < data.size(); ++i) {
    f.Append(MerkleLeafHash(data[i]));
    EXPECT_EQ(Hex(f.Root()), roots[i]) << "size " << i + 1;
  }
}

TEST(DomainMerkleTest, HandBuiltTreeOfThreeAndItsProofs) {
  const std::string a = MerkleLeafHash("a"), b = MerkleLeafHash("b"), c = MerkleLeafHash("c");
  // The leaf and node prefixes keep a leaf from passing as a node.
  EXPECT_EQ(a, [] {
    Digest d = Sha256(std::string("\x00", 1) + "a");
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
  }());
  const std::string ab = MerkleNodeHash(a, b), root = MerkleNodeHash(ab, c);
  const std::vector<std::string> leaves = {a, b, c};
  auto p0 = MerkleInclusionProof(0, 3, Nodes(leaves));
  ASSERT_TRUE(p0.ok());
  EXPECT_EQ(*p0, (std::vector<std::string>{b, c}));
  auto p2 = MerkleInclusionProof(2, 3, Nodes(leaves));
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, (std::vector<std::string>{ab}));
  EXPECT_TRUE(VerifyMerkleInclusion(0, 3, a, *p0, root));
  EXPECT_TRUE(VerifyMerkleInclusion(2, 3, c, *p2, root));
  EXPECT_FALSE(VerifyMerkleInclusion(1, 3, a, *p0, root));
  // From 2 leaves to 3: the old root is a perfect subtree, so only c is needed.
  auto c23 = MerkleConsistencyProof(2, 3, Nodes(leaves));
  ASSERT_TRUE(c23.ok());
  EXPECT_EQ(*c23, (std::vector<std::string>{c}));
  EXPECT_TRUE(VerifyMerkleConsistency(2, 3, ab, root, *c23));
  // From 1 to 3: b then c.
  auto c13 = MerkleConsistencyProof(1, 3, Nodes(leaves));
  ASSERT_TRUE(c13.ok());
  EXPECT_EQ(*c13, (std::vector<std::string>{b, c}));
  EXPECT_TRUE(VerifyMerkleConsistency(1, 3, a, root, *c13));
  EXPECT_FALSE(VerifyMerkleConsistency(1, 3, b, root, *c13));
}

TEST(DomainMerkleTest, FrontierReportsEveryPerfectSubtreeOnce) {
  const auto leaves = LeafHashes(64);
  MerkleFrontier f;
  std::size_t completed = 0;
  for (std::size_t n = 0; n < leaves.size(); ++n) {
    f.Append(leaves[n], [&](int level, std::uint64_t index, const std::string& hash) {
      ++completed;
      const std::size_t width = std::size_t{1} << level;
      EXPECT_EQ((index + 1) * width, n + 1) << "a completed subtree ends with the new leaf";
      EXPECT_EQ(hash, ReferenceRoot(leaves, index * width, (index + 1) * width));
    });
    EXPECT_EQ(f.Root(), ReferenceRoot(leaves, 0, n + 1));
    auto loaded = MerkleFrontier::Load(n + 1, Nodes(leaves));
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(*loaded, f) << "size " << n + 1;
  }
  EXPECT_EQ(completed, 2 * leaves.size() - 1);
}

std::string Flip(std::string h) {
  h[0] = static_cast<char>(h[0] ^ 1);
  return h;
}

TEST(DomainMerkleTest, EveryInclusionProofUpTo64LeavesVerifiesAndDetectsChange) {
  const auto leaves = LeafHashes(64);
  for (std::uint64_t n = 1; n <= 64; ++n) {
    const std::string root = ReferenceRoot(leaves, 0, n);
    auto range_root = MerkleRangeRoot(0, n, Nodes(leaves));
    ASSERT_TRUE(range_root.ok());
    EXPECT_EQ(*range_root, root);
    for (std::uint64_t m = 0; m < n; ++m) {
      int reads = 0;
      auto proof = MerkleInclusionProof(m, n, Nodes(leaves, &reads));
      ASSERT_TRUE(proof.ok()) << m << "/" << n;
      EXPECT_LE(proof->size(), static_cast<std::size_t>(std::bit_width(n)));
      EXPECT_LE(reads, 2 * std::bit_width(n)) << "O(log n) subtree reads";
      EXPECT_TRUE(VerifyMerkleInclusion(m, n, leaves[m], *proof, root)) << m << "/" << n;
      EXPECT_FALSE(VerifyMerkleInclusion(m, n, Flip(leaves[m]), *proof, root));
      EXPECT_FALSE(VerifyMerkleInclusion(m, n, leaves[m], *proof, Flip(root)));
      for (std::size_t i = 0; i < proof->size(); ++i) {
        auto bad = *proof;
        bad[i] = Flip(bad[i]);
        EXPECT_FALSE(VerifyMerkleInclusion(m, n, leaves[m], bad, root)) << m << "/" << n << " element " << i;
      }
      auto longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyMerkleInclusion(m, n, leaves[m], longer, root));
      if (!proof->empty()) {
        auto shorter = *proof;
        shorter.pop_back();
        EXPECT_FALSE(VerifyMerkleInclusion(m, n, leaves[m], shorter, root));
      }
      if (m + 1 < n) {
        EXPECT_FALSE(VerifyMerkleInclusion(m + 1, n, leaves[m], *proof, root));
      }
    }
  }
  EXPECT_FALSE(MerkleInclusionProof(3, 3, Nodes(leaves)).ok());
}

TEST(DomainMerkleTest, EveryConsistencyProofUpTo64LeavesVerifiesAndDetectsChange) {
  const auto leaves = LeafHashes(64);
  for (std::uint64_t n = 1; n <= 64; ++n) {
    const std::string second = ReferenceRoot(leaves, 0, n);
    for (std::uint64_t m = 0; m <= n; ++m) {
      const std::string first = ReferenceRoot(leaves, 0, m);
      int reads = 0;
      auto proof = MerkleConsistencyProof(m, n, Nodes(leaves, &reads));
      ASSERT_TRUE(proof.ok()) << m << "/" << n;
      EXPECT_LE(reads, 2 * std::bit_width(n) + 2) << "O(log n) subtree reads";
      EXPECT_TRUE(VerifyMerkleConsistency(m, n, first, second, *proof)) << m << "/" << n;
      EXPECT_FALSE(VerifyMerkleConsistency(m, n, Flip(first), second, *proof)) << m << "/" << n;
      // The empty tree is a prefix of every tree: only a non-empty first tree constrains the second root.
      if (m > 0) {
        EXPECT_FALSE(VerifyMerkleConsistency(m, n, first, Flip(second), *proof)) << m << "/" << n;
      }
      for (std::size_t i = 0; i < proof->size(); ++i) {
        auto bad = *proof;
        bad[i] = Flip(bad[i]);
        EXPECT_FALSE(VerifyMerkleConsistency(m, n, first, second, bad)) << m << "/" << n << " element " << i;
      }
      auto longer = *proof;
      longer.push_back(second);
      EXPECT_FALSE(VerifyMerkleConsistency(m, n, first, second, longer)) << m << "/" << n;
      if (!proof->empty()) {
        auto shorter = *proof;
        shorter.pop_back();
        EXPECT_FALSE(VerifyMerkleConsistency(m, n, first, second, shorter)) << m << "/" << n;
      }
      // A different history of the same sizes: the last common leaf changed.
      if (m > 0 && m < n) {
        auto forked = leaves;
        forked[m - 1] = Flip(forked[m - 1]);
        EXPECT_FALSE(VerifyMerkleConsistency(m, n, first, ReferenceRoot(forked, 0, n), *proof)) << m << "/" << n;
      }
    }
  }
  EXPECT_FALSE(MerkleConsistencyProof(4, 3, Nodes(leaves)).ok());
}

}  // namespace
}  // namespace authledger
