#include "ledger/chain_verifier.h"

#include <algorithm>

#include "domain/crypto.h"
#include "domain/envelope.h"
#include "ledger/partitioner.h"

namespace authledger {

ChainVerifier::Id128 ChainVerifier::IdBits(std::string_view uuid) {
  // A decoded event's id is a valid UUID (8-4-4-4-12 hex digits): its 32 digits are the 128 bits.
  Id128 id;
  int digits = 0;
  for (char c : uuid) {
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) continue;
    std::uint64_t& half = digits++ < 16 ? id.hi : id.lo;
    half = (half << 4) | static_cast<std::uint64_t>(v);
  }
  return id;
}

Status ChainVerifier::Fail(std::string account, std::uint64_t seq, Position position, const std::string& what) {
  report_.account = std::move(account);
  report_.seq = seq;
  report_.position = position;
  status_ = Status::Corruption(what);
  return status_;
}

Status ChainVerifier::Add(Position position, std::string_view bytes) {
  if (!status_.ok()) return status_;
  return Add(position, DecodeEvent(bytes), EventHash(bytes));
}

Status ChainVerifier::Add(Position position, const Result<Event>& e, const std::string& hash) {
  if (!status_.ok()) return status_;
  // Messages are only built on failure: this runs for every event of the ledger.
  auto at = [&] { return "position " + PositionToString(position); };
  const std::uint32_t partition = PartitionOf(position);
  if (partition >= partitions_)
    return Fail("", 0, position,
                at() + ": partition " + std::to_string(partition) + " does not exist (the ledger has " +
                    std::to_string(partitions_) + ")");
  if (OffsetOf(position) != last_offsets_[partition] + 1)
    return Fail("", 0, position,
                at() + ": expected position " +
                    PositionToString(MakePosition(partition, last_offsets_[partition] + 1)) +
                    " (events missing or reordered)");
  last_offsets_[partition] = OffsetOf(position);
  if (!e.ok()) return Fail("", 0, position, at() + ": not a valid event envelope (altered?): " + e.status().message());
  if (!ids_.insert(IdBits(e->id)).second)
    return Fail(e->account_id, e->seq, position, at() + ": event id " + e->id + " appears twice (a copy was inserted)");
  if (PartitionFor(e->account_id, partitions_) != partition)
    return Fail(e->account_id, e->seq, position,
                at() + ": account " + e->account_id + " belongs in partition " +
                    std::to_string(PartitionFor(e->account_id, partitions_)) +
                    " (the event was inserted in the wrong place)");
  Head& head = heads_[e->account_id];
  if (head.seq == 0 && head.hash.empty()) {
    head.hash = kGenesisHash;
    head.partition = partition;
    if (!LedgerChainPartition(e->account_id)) ++report_.accounts;
  }
  auto link = [&] { return "account " + e->account_id + " seq " + std::to_string(e->seq) + " at " + at(); };
  if (e->seq != head.seq + 1) {
    std::string why = e->seq <= head.seq ? "a sequence already seen (reordered or inserted)"
                                         : "a gap after seq " + std::to_string(head.seq) + " (events removed)";
    return Fail(e->account_id, e->seq, position,
                link() + ": expected seq " + std::to_string(head.seq + 1) + ", found " + why);
  }
  if (e->prev_hash != head.hash) {
    std::string prev = head.seq == 0
                           ? "the chain's start"
                           : "seq " + std::to_string(head.seq) + " at position " + std::to_string(head.position);
    return Fail(e->account_id, e->seq, position,
                link() + ": prevhash does not match the stored bytes of " + prev +
                    " (that event was altered, or this one inserted)");
  }
  if (std::holds_alternative<LedgerCheckpoint>(e->data)) {
    if (Status s = CheckCheckpoint(*e, position); !s.ok()) return s;
  } else {
    ++report_.after_last_checkpoint;
  }
  head.seq = e->seq;
  head.hash = hash;
  head.position = position;
  ++report_.events;
  return GrowTree(partition, position, hash);
}

Status ChainVerifier::GrowTree(std::uint32_t partition, Position position, const std::string& hash) {
  std::string leaf;
  if (!FromHex(hash, &leaf)) return Fail("", 0, position, "position " + PositionToString(position) + ": bad hash");
  MerkleFrontier& tree = trees_[partition];
  tree.Append(MerkleLeafHash(leaf));
  const std::optional<SignedTreeHead>& kept = kept_[partition];
  if (kept && kept->tree_size == tree.size()) {
    std::string root = tree.Root();
    if (ToHex(reinterpret_cast<const unsigned char*>(root.data()), root.size()) != kept->root_hash)
      return Fail("", 0, position,
                  "partition " + std::to_string(partition) + ": its first " + std::to_string(kept->tree_size) +
                      " events do not hash to the root of the kept tree head (tree_size " +
                      std::to_string(kept->tree_size) + ", root " + kept->root_hash.substr(0, 16) +
                      "…): the ledger was rewritten or forked since that head was signed");
    ++report_.kept_heads;
  }
  return Status::Ok();
}

Status ChainVerifier::ExpectHeads(std::vector<SignedTreeHead> heads) {
  for (SignedTreeHead& h : heads) {
    const std::string which = "the kept tree head of partition " + std::to_string(h.partition);
    if (h.partition >= partitions_)
      return Status::InvalidArgument(which + ": the ledger has only " + std::to_string(partitions_) + " partitions");
    if (kept_[h.partition]) return Status::InvalidArgument(which + " is given twice");
    if (!VerifyTreeHeadSignature(h, trusted_key_))
      return Status::InvalidArgument(which + ": its signature does not verify" +
                                     (trusted_key_.empty() ? "" : " with the trusted public key"));
    if (h.tree_size == 0) {
      if (h.root_hash != ToHex(Sha256(""))) return Status::InvalidArgument(which + ": an empty tree has another root");
      ++report_.kept_heads;
      continue;
    }
    kept_[h.partition] = std::move(h);
  }
  return Status::Ok();
}

Status ChainVerifier::Finish() {
  if (!status_.ok()) return status_;
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    const std::optional<SignedTreeHead>& kept = kept_[p];
    if (kept && trees_[p].size() < kept->tree_size)
      return Fail("", 0, MakePosition(p, trees_[p].size()),
                  "partition " + std::to_string(p) + " holds " + std::to_string(trees_[p].size()) +
                      " events, but the kept tree head was signed at tree_size " + std::to_string(kept->tree_size) +
                      ": the ledger was truncated (" + std::to_string(kept->tree_size - trees_[p].size()) +
                      " events removed) since that head was signed");
  }
  return Status::Ok();
}

Status ChainVerifier::CheckTreeHead(const Event& e, Position position, const std::string& link) {
  const std::uint32_t partition = PartitionOf(position);
  std::optional<SignedTreeHead> head = TreeHeadOf(e);
  const auto& cp = std::get<LedgerCheckpoint>(e.data);
  if (!head) {
    if (cp.tree_size || cp.tree_root || cp.tree_signature)
      return Fail(e.account_id, e.seq, position, link + ": an incomplete tree head (altered?)");
    if (signs_trees_[partition])
      return Fail(e.account_id, e.seq, position,
                  link + ": signs no tree head, though earlier checkpoints of its partition did (forged?)");
    return Status::Ok();
  }
  signs_trees_[partition] = true;
  if (head->partition != partition)
    return Fail(e.account_id, e.seq, position, link + ": its tree head names another partition");
  if (!VerifyTreeHeadSignature(*head))
    return Fail(e.account_id, e.seq, position,
                link + ": the tree head's signature does not verify (forged or altered)");
  const MerkleFrontier& tree = trees_[partition];
  std::string root = tree.Root();
  if (head->tree_size != tree.size() ||
      head->root_hash != ToHex(reinterpret_cast<const unsigned char*>(root.data()), root.size()))
    return Fail(e.account_id, e.seq, position,
                link + ": its tree head (tree_size " + std::to_string(head->tree_size) +
                    ") differs from the Merkle tree of the " + std::to_string(tree.size()) +
                    " events before it (events altered, removed or inserted)");
  ++report_.tree_heads;
  report_.newest_tree_head = std::max(report_.newest_tree_head, head->timestamp);
  return Status::Ok();
}

Status ChainVerifier::CheckCheckpoint(const Event& e, Position position) {
  const auto& cp = std::get<LedgerCheckpoint>(e.data);
  const std::string link = "checkpoint seq " + std::to_string(e.seq) + " at position " + PositionToString(position);
  std::string pub, sig;
  if (!FromHex(cp.public_key, &pub) || !FromHex(cp.signature, &sig))
    return Fail(e.account_id, e.seq, position, link + ": malformed key or signature");
  if (!trusted_key_.empty() && pub != trusted_key_)
    return Fail(e.account_id, e.seq, position, link + ": signed by a key other than the trusted one (forged?)");
  if (report_.signer.empty()) report_.signer = cp.public_key;
  if (cp.public_key != report_.signer)
    return Fail(e.account_id, e.seq, position, link + ": signed by a different key than earlier checkpoints");
  if (!Ed25519Verify(pub, CheckpointMessage(cp.covers_position, cp.heads), sig))
    return Fail(e.account_id, e.seq, position, link + ": the signature does not verify (forged or altered)");
  if (cp.covers_position != position - 1)
    return Fail(e.account_id, e.seq, position,
                link + ": covers position " + PositionToString(cp.covers_position) +
                    " instead of the one before it (events inserted or removed)");
  // The signed heads must be exactly the partition's chains as verified so far.
  const std::uint32_t partition = PartitionOf(position);
  std::size_t accounts = 0;
  for (const auto& h : cp.heads) {
    auto it = heads_.find(h.account_id);
    if (it == heads_.end() || it->second.partition != partition || it->second.seq != h.seq || it->second.hash != h.hash)
      return Fail(h.account_id, it == heads_.end() ? 0 : it->second.seq, position,
                  link + ": the signed head of account " + h.account_id + " (seq " + std::to_string(h.seq) +
                      ") differs from the ledger's (events of that account were altered, removed or inserted)");
    ++accounts;
  }
  std::size_t expected = 0;
  for (const auto& [account, head] : heads_)
    if (head.partition == partition && !LedgerChainPartition(account)) ++expected;
  if (accounts != expected)
    return Fail(e.account_id, e.seq, position,
                link + ": signs " + std::to_string(accounts) + " account chains but the ledger has " +
                    std::to_string(expected) + " (an account's events were inserted)");
  if (Status s = CheckTreeHead(e, position, link); !s.ok()) return s;
  ++report_.checkpoints;
  report_.after_last_checkpoint = 0;
  return Status::Ok();
}

}  // namespace authledger
