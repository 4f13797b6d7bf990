#include "ledger/chain_verifier.h"

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
  ++report_.checkpoints;
  report_.after_last_checkpoint = 0;
  return Status::Ok();
}

}  // namespace authledger
