// Merkle rows: each ledger partition's RFC 9162 Merkle tree (domain/merkle_tree.h)
// over its events in ledger order, kept in the projections so that a root, an
// inclusion proof or a consistency proof costs O(log n) point reads.
//
// Leaf i of partition p is the event at offset i + 1 of p; its leaf data is the
// event's 32-byte SHA-256 (the raw EventHash of its stored bytes), so the leaf
// hash is SHA-256(0x00 || SHA-256(stored bytes)). Every event is a leaf, a
// checkpoint included: a tree of size n covers exactly offsets 1..n.
//
// Rows (column family merkle): key u8 partition, u8 level, u64 BE index ->
// the 32-byte hash of perfect subtree (level, index), written by the projector
// in the same WriteBatch as the event's other rows (so the tree never runs
// ahead of, or behind, the cursor). A subtree's row is written once, when its
// last leaf is applied, and never changes: about two rows (~90 bytes) and two
// SHA-256 of 33 and 65 bytes per event. Reads need no snapshot: a size is
// readable once the projector has applied that many events of the partition.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/write_batch.h>

#include "domain/merkle_tree.h"
#include "projections/store.h"

namespace authledger {

std::string MerkleRowKey(std::uint32_t partition, int level, std::uint64_t index);

// Perfect subtrees of `partition`'s tree as stored (NotFound if not written yet).
MerkleNodeSource StoredMerkleNodes(ProjectionStore& store, std::uint32_t partition);

// Appends the event with hex EventHash `event_hash_hex` to `tree` (partition
// `partition`'s frontier) and puts the subtrees it completes into `wb`.
// Corruption if the hash is not 64 hex digits.
Status AppendMerkleLeaf(ProjectionStore& store, rocksdb::WriteBatch& wb, std::uint32_t partition, MerkleFrontier* tree,
                        std::string_view event_hash_hex);

// The leaf data of an event: its raw 32-byte SHA-256, from the hex EventHash.
std::string MerkleLeafData(std::string_view event_hash_hex);

}  // namespace authledger
