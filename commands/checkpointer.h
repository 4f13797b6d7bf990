// Checkpointer: appends io.authledger.ledger.checkpoint.v1 events — an Ed25519
// signature over the head (seq + hash) of every account chain of a ledger
// partition, into that partition's checkpoint chain — on a timer and when the
// server stops. Each checkpoint is bound to the partition head it signs
// (CommandContext::ExecuteAtHead), so it covers exactly the events before it.
// Each also signs a tree head (checkpoint format 2): the size and root of the
// partition's Merkle tree over those events (domain/tree_head.h), handed to
// `on_signed` once appended (a witness). `authledger audit verify` checks them
// (ledger/chain_verifier.h).
#pragma once

#include <functional>
#include <string>

#include "commands/command_context.h"
#include "commands/periodic_task.h"
#include "domain/tree_head.h"

namespace authledger {

class Checkpointer {
 public:
  // Called on the checkpointing thread with each tree head once its checkpoint is appended.
  using OnSigned = std::function<void(const SignedTreeHead&)>;
  // `signing_key` is the raw 32-byte Ed25519 private key; never logged.
  Checkpointer(CommandContext& ctx, Projector& projector, std::string signing_key, OnSigned on_signed = nullptr);
  ~Checkpointer();

  // Appends a checkpoint to every partition that is not empty and does not
  // already end with one. Returns how many were appended.
  Result<std::size_t> Checkpoint();
  const std::string& public_key_hex() const { return public_key_hex_; }

  void Start(std::chrono::milliseconds interval);
  void Stop();

 private:
  Result<Position> CheckpointPartition(std::uint32_t partition);

  CommandContext& ctx_;
  Projector& projector_;
  std::string signing_key_;
  std::string public_key_hex_;
  OnSigned on_signed_;
  PeriodicTask task_;
};

}  // namespace authledger
