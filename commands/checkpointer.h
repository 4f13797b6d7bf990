// Checkpointer: appends io.authledger.ledger.checkpoint.v1 events — an Ed25519
// signature over the head (seq + hash) of every account chain — on a timer and
// when the server stops. Each checkpoint is bound to the ledger head it signs
// (CommandContext::ExecuteAtHead), so it covers exactly the events before it.
// `authledger audit verify` checks them (ledger/chain_verifier.h).
#pragma once

#include <string>

#include "commands/command_context.h"
#include "commands/periodic_task.h"

namespace authledger {

class Checkpointer {
 public:
  // `signing_key` is the raw 32-byte Ed25519 private key; never logged.
  Checkpointer(CommandContext& ctx, Projector& projector, std::string signing_key);
  ~Checkpointer();

  // Appends a checkpoint unless the ledger is empty or already ends with one.
  // Returns its position, or 0 if none was needed.
  Result<Position> Checkpoint();
  const std::string& public_key_hex() const { return public_key_hex_; }

  void Start(std::chrono::milliseconds interval);
  void Stop();

 private:
  CommandContext& ctx_;
  Projector& projector_;
  std::string signing_key_;
  std::string public_key_hex_;
  PeriodicTask task_;
};

}  // namespace authledger
