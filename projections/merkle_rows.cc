#include "projections/merkle_rows.h"

#include "domain/crypto.h"

namespace authledger {

std::string MerkleRowKey(std::uint32_t partition, int level, std::uint64_t index) {
  std::string key(10, '\0');
  key[0] = static_cast<char>(partition);
  key[1] = static_cast<char>(level);
  for (int i = 9; i >= 2; --i, index >>= 8) key[static_cast<std::size_t>(i)] = static_cast<char>(index & 0xFF);
  return key;
}

MerkleNodeSource StoredMerkleNodes(ProjectionStore& store, std::uint32_t partition) {
  return [&store, partition](int level, std::uint64_t index) -> Result<std::string> {
    std::string value;
    Status s = store.Get(Cf::kMerkle, MerkleRowKey(partition, level, index), &value);
    if (s.code() == Status::Code::kNotFound)
      return Status::NotFound("the Merkle tree of partition " + std::to_string(partition) + " has no subtree (level " +
                              std::to_string(level) + ", index " + std::to_string(index) + ") yet");
    if (!s.ok()) return s;
    if (value.size() != kMerkleHashBytes)
      return Status::Corruption("merkle model: damaged row of partition " + std::to_string(partition));
    return value;
  };
}

std::string MerkleLeafData(std::string_view event_hash_hex) {
  std::string raw;
  if (event_hash_hex.size() != 2 * kMerkleHashBytes || !FromHex(event_hash_hex, &raw)) return {};
  return raw;
}

Status AppendMerkleLeaf(ProjectionStore& store, rocksdb::WriteBatch& wb, std::uint32_t partition, MerkleFrontier* tree,
                        std::string_view event_hash_hex) {
  std::string leaf = MerkleLeafData(event_hash_hex);
  if (leaf.empty()) return Status::Corruption("an event hash is not 64 hex digits");
  tree->Append(MerkleLeafHash(leaf), [&](int level, std::uint64_t index, const std::string& hash) {
    wb.Put(store.cf(Cf::kMerkle), MerkleRowKey(partition, level, index), hash);
  });
  return Status::Ok();
}

}  // namespace authledger
