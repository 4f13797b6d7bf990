// The verifiable log over HTTP: GET /v1/audit/tree-head, /v1/audit/proof and
// /v1/audit/consistency. Heads are signed by the checkpoint key and name the
// root of the partition's Merkle tree as recomputed here from the stored bytes;
// every served proof verifies with the RFC 9162 verifiers, across a restart
// (the projector reloads the tree's right edge from the store).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain/crypto.h"
#include "domain/merkle_proof.h"
#include "domain/tree_head.h"
#include "ledger/scan.h"
#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;

std::string Raw(const std::string& hex) {
  std::string raw;
  EXPECT_TRUE(FromHex(hex, &raw)) << hex;
  return raw;
}

std::vector<std::string> RawList(const json& hexes) {
  std::vector<std::string> out;
  for (const auto& h : hexes) out.push_back(Raw(h.get<std::string>()));
  return out;
}

// Leaf hashes of every event in the ledger, from the stored bytes.
std::vector<std::string> Leaves(TestNode& t) {
  std::vector<std::string> leaves;
  EXPECT_TRUE(ScanLedger(t.node().log(), [&](const StoredEvent& e) {
                leaves.push_back(MerkleLeafHash(Raw(EventHash(e.bytes))));
                return Status::Ok();
              }).ok());
  return leaves;
}

std::string RootOf(const std::vector<std::string>& leaves, std::size_t n) {
  MerkleFrontier f;
  for (std::size_t i = 0; i < n; ++i) f.Append(leaves[i]);
  return ToHex(reinterpret_cast<const unsigned char*>(f.Root().data()), f.Root().size());
}

SignedTreeHead OnlyHead(TestNode& t) {
  auto r = t.http().Call("GET", "/v1/audit/tree-head", t.admin_key());
  EXPECT_EQ(r.status, 200) << r.body;
  auto heads = TreeHeadsFromJson(r.body);
  EXPECT_TRUE(heads.ok()) << r.body;
  EXPECT_EQ(heads->size(), 1u);
  return heads->at(0);
}

TEST(TreeHeadApiTest, SignedHeadsAndProofsVerifyAgainstTheStoredBytes) {
  TestNode t;
  auto none = t.http().Call("GET", "/v1/audit/tree-head", t.admin_key());
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(none.json()["heads"], json::array());
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof?position=1", t.admin_key()).status, 404);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/tree-head", "").status, 401);

  for (int i = 0; i < 5; ++i) t.CreateKey({{"name", "k" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
  ASSERT_TRUE(t.node().checkpointer()->Checkpoint().ok());
  SignedTreeHead first = OnlyHead(t);
  auto leaves = Leaves(t);
  ASSERT_EQ(first.tree_size + 1, leaves.size()) << "the head covers every event before its checkpoint";
  EXPECT_EQ(first.root_hash, RootOf(leaves, first.tree_size));
  EXPECT_EQ(first.public_key, t.node().checkpointer()->public_key_hex());
  std::string pub;
  ASSERT_TRUE(FromHex(first.public_key, &pub));
  EXPECT_TRUE(VerifyTreeHeadSignature(first, pub));
  SignedTreeHead tampered = first;
  tampered.tree_size -= 1;
  EXPECT_FALSE(VerifyTreeHeadSignature(tampered));

  for (std::uint64_t pos = 1; pos <= first.tree_size; ++pos) {
    auto r = t.http().Call("GET", "/v1/audit/proof?position=" + std::to_string(pos), t.admin_key());
    ASSERT_EQ(r.status, 200) << r.body;
    json body = r.json();
    EXPECT_EQ(body["leaf_index"], pos - 1);
    EXPECT_EQ(body["tree_size"], first.tree_size);
    EXPECT_EQ(body["tree_head"]["root_hash"], first.root_hash);
    EXPECT_TRUE(
        VerifyMerkleInclusion(pos - 1, first.tree_size, leaves[pos - 1], RawList(body["proof"]), Raw(first.root_hash)))
        << "position " << pos;
    EXPECT_FALSE(VerifyMerkleInclusion(pos - 1, first.tree_size, leaves[pos % first.tree_size], RawList(body["proof"]),
                                       Raw(first.root_hash)))
        << "another event's leaf at position " << pos;
  }
  // The checkpoint itself is in no signed tree yet; an explicit size may include it.
  const std::string cp_pos = std::to_string(first.tree_size + 1);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof?position=" + cp_pos, t.admin_key()).status, 404);
  auto explicit_size =
      t.http().Call("GET", "/v1/audit/proof?position=" + cp_pos + "&tree_size=" + cp_pos, t.admin_key());
  ASSERT_EQ(explicit_size.status, 200) << explicit_size.body;
  EXPECT_EQ(explicit_size.json()["root_hash"], RootOf(leaves, first.tree_size + 1));
  EXPECT_FALSE(explicit_size.json().contains("tree_head"));

  // A restart: the tree's right edge comes back from the store, and grows on.
  t.Restart();
  for (int i = 0; i < 7; ++i) t.CreateKey({{"name", "m" + std::to_string(i)}, {"scopes", {"monitors:read"}}});
  ASSERT_TRUE(t.node().checkpointer()->Checkpoint().ok());
  SignedTreeHead second = OnlyHead(t);
  leaves = Leaves(t);
  ASSERT_EQ(second.tree_size + 1, leaves.size());
  EXPECT_EQ(second.root_hash, RootOf(leaves, second.tree_size));
  for (std::uint64_t m = 0; m <= second.tree_size; m += 3) {
    auto r = t.http().Call("GET", "/v1/audit/consistency?first=" + std::to_string(m), t.admin_key());
    ASSERT_EQ(r.status, 200) << r.body;
    json body = r.json();
    EXPECT_EQ(body["second"], second.tree_size);
    EXPECT_EQ(body["first_root"], RootOf(leaves, m));
    EXPECT_TRUE(VerifyMerkleConsistency(m, second.tree_size, Raw(RootOf(leaves, m)), Raw(second.root_hash),
                                        RawList(body["proof"])))
        << "from " << m;
  }
  auto pair = t.http().Call("GET",
                            "/v1/audit/consistency?partition=0&first=" + std::to_string(first.tree_size) +
                                "&second=" + std::to_string(second.tree_size),
                            t.admin_key());
  ASSERT_EQ(pair.status, 200) << pair.body;
  EXPECT_TRUE(VerifyMerkleConsistency(first.tree_size, second.tree_size, Raw(first.root_hash), Raw(second.root_hash),
                                      RawList(pair.json()["proof"])));

  // Bad input is named; sizes beyond what is applied are not found.
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof", t.admin_key()).status, 400);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof?position=abc", t.admin_key()).status, 400);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof?position=0", t.admin_key()).status, 400);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof?position=1&tree_size=100000", t.admin_key()).status, 404);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/consistency", t.admin_key()).status, 400);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/consistency?first=5&second=4", t.admin_key()).status, 400);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/consistency?first=1&partition=1", t.admin_key()).status, 400);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/consistency?first=1&second=100000", t.admin_key()).status, 404);
  EXPECT_EQ(t.http().Call("GET", "/v1/audit/proof?position=1", "").status, 401);
}

}  // namespace
}  // namespace authledger::testing
