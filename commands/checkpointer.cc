#include "commands/checkpointer.h"

#include "domain/crypto.h"

namespace authledger {

namespace {
std::string Hex(const std::string& raw) {
  return ToHex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}
}  // namespace

Checkpointer::Checkpointer(CommandContext& ctx, Projector& projector, std::string signing_key, OnSigned on_signed)
    : ctx_(ctx), projector_(projector), signing_key_(std::move(signing_key)), on_signed_(std::move(on_signed)) {
  std::string pub = Ed25519PublicKey(signing_key_);
  public_key_hex_ = ToHex(reinterpret_cast<const unsigned char*>(pub.data()), pub.size());
}

Checkpointer::~Checkpointer() {
  Stop();
  SecureWipe(signing_key_);
}

Result<std::size_t> Checkpointer::Checkpoint() {
  std::size_t appended = 0;
  Status first_error;
  for (std::uint32_t p = 0; p < projector_.partitions(); ++p) {
    auto r = CheckpointPartition(p);
    if (r.ok() && *r != 0) ++appended;
    if (!r.ok() && first_error.ok()) first_error = r.status();
  }
  if (!first_error.ok()) return first_error;
  return appended;
}

Result<Position> Checkpointer::CheckpointPartition(std::uint32_t partition) {
  const Actor actor = Actor::System("checkpointer");
  const std::string ledger = LedgerAccountId(partition);
  for (int attempt = 0; attempt < 10; ++attempt) {
    SignedTreeHead tree_head;
    auto out = ctx_.ExecuteAtHead(ledger, actor, [&](const AccountState&, TimeMs now) -> Result<HeadBoundDecision> {
      Position head = projector_.ledger_heads().at(partition);
      if (OffsetOf(head) == 0) return HeadBoundDecision{};
      if (Status s = projector_.WaitApplied(head, std::chrono::seconds(5)); !s.ok()) return s;
      auto heads = ctx_.queries().ChainHeadsNow(partition, projector_.partitions());
      if (!heads.ok()) return heads.status();
      if (heads->position != head) return Status::Conflict("ledger moved while reading chain heads");
      if (ctx_.queries().IsCheckpointAt(head)) return HeadBoundDecision{};  // nothing new to sign
      // The partition's Merkle tree over every event before this checkpoint (format 2).
      auto root = ctx_.queries().TreeRoot(partition, OffsetOf(head));
      if (!root.ok()) return root.status();
      LedgerCheckpoint cp;
      cp.covers_position = head;
      cp.heads = std::move(heads->heads);
      cp.public_key = public_key_hex_;
      std::string sig = Ed25519Sign(signing_key_, CheckpointMessage(cp.covers_position, cp.heads));
      cp.signature = Hex(sig);
      tree_head = SignedTreeHead{partition, OffsetOf(head), Hex(*root), now, public_key_hex_, ""};
      tree_head.signature =
          Hex(Ed25519Sign(signing_key_, TreeHeadMessage(partition, tree_head.tree_size, tree_head.root_hash, now)));
      cp.tree_size = tree_head.tree_size;
      cp.tree_root = tree_head.root_hash;
      cp.tree_signature = tree_head.signature;
      return HeadBoundDecision{{std::move(cp)}, head};
    });
    if (out.ok() && out->position != 0 && on_signed_) on_signed_(tree_head);
    if (out.ok()) return out->position;
    if (out.status().code() != Status::Code::kConflict) return out.status();
  }
  return Status::Conflict("the ledger kept moving; checkpoint postponed");
}

void Checkpointer::Start(std::chrono::milliseconds interval) {
  // A missed interval is retried at the next one and at stop.
  task_.Start(interval, [this] { (void)Checkpoint(); });
}

void Checkpointer::Stop() { task_.Stop(); }

}  // namespace authledger
