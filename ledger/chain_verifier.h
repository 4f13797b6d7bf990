// ChainVerifier: checks the ledger's tamper evidence, event by event in ledger
// order (each partition in order; partitions may be interleaved). For every
// event: offsets within its partition are contiguous, the bytes are a valid
// envelope, event ids are unique, the account lives in the partition
// PartitionFor says (and nowhere else), and within its account the sequence is
// the next one and `prevhash` is the SHA-256 of the account's previous stored
// event.
//
// Any alteration, removal, reordering or insertion of an event breaks one of
// these at or after it; Add() then returns Corruption naming the first broken
// link (account, sequence, position) and the verifier stays failed.
// (Removing an account's newest events is only detectable against a signed
// checkpoint; see docs/decisions.md.)
//
// It also rebuilds each partition's Merkle tree (domain/merkle_tree.h; leaf i =
// the raw SHA-256 of the event at offset i + 1): a checkpoint that signs a tree
// head (format 2) must name exactly that tree's size and root, with a valid
// signature. Heads an auditor kept from earlier (ExpectHeads) must be prefixes
// of the ledger: the partition must hold at least their tree_size events and
// its first tree_size must hash to their root, else the ledger was truncated,
// rewritten or forked since — whoever holds the signing key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/envelope.h"
#include "domain/merkle_tree.h"
#include "domain/status.h"
#include "domain/tree_head.h"
#include "ledger/event_log.h"

namespace authledger {

struct ChainReport {
  std::uint64_t events = 0;                 // events verified
  std::uint64_t accounts = 0;               // distinct account chains (the ledger chain excluded)
  std::uint64_t checkpoints = 0;            // signed checkpoints verified
  std::uint64_t after_last_checkpoint = 0;  // events no signature covers yet
  std::string signer;                       // hex public key that signed the checkpoints
  std::uint64_t tree_heads = 0;             // signed tree heads verified (format-2 checkpoints)
  TimeMs newest_tree_head = 0;              // the time of the newest one (0: none)
  std::uint64_t kept_heads = 0;             // heads from ExpectHeads found consistent
  // Set on failure: where the first broken link is.
  std::string account;
  std::uint64_t seq = 0;
  Position position = 0;
};

// Checkpoints (io.authledger.ledger.checkpoint.v1) are verified too: each
// partition has its own checkpoint chain (LedgerAccountId(partition)); a
// checkpoint's heads must equal the head of every account chain of its
// partition at the position before it, and
// their Ed25519 signature must verify — with `trusted_public_key` (32 raw
// bytes) if given, else with the key the first checkpoint names, which every
// later checkpoint must share.
class ChainVerifier {
 public:
  // `partitions`: how many partitions the ledger has (accounts are placed by PartitionFor).
  explicit ChainVerifier(std::string trusted_public_key = "", std::uint32_t partitions = 1)
      : trusted_key_(std::move(trusted_public_key)),
        partitions_(partitions),
        last_offsets_(partitions, 0),
        trees_(partitions),
        signs_trees_(partitions, false),
        kept_(partitions) {}
  // Heads kept from earlier that the ledger must extend (call before the first Add).
  // InvalidArgument if one names a partition the ledger lacks, repeats one, or
  // its signature does not verify (with the trusted key, if one is pinned).
  Status ExpectHeads(std::vector<SignedTreeHead> heads);
  // After the last Add: Corruption if a kept head is larger than its partition.
  Status Finish();
  // Verifies the next event; `position` must follow the previous one.
  Status Add(Position position, std::string_view stored_bytes);
  // The same, for bytes already decoded and hashed (DecodeEvent, EventHash) elsewhere,
  // e.g. ahead on another thread by a BatchReader.
  Status Add(Position position, const Result<Event>& decoded, const std::string& hash);
  const ChainReport& report() const { return report_; }
  const Status& status() const { return status_; }

 private:
  struct Head {
    std::uint64_t seq = 0;
    std::string hash;
    Position position = 0;
    std::uint32_t partition = 0;
  };
  Status Fail(std::string account, std::uint64_t seq, Position position, const std::string& what);

  Status CheckCheckpoint(const Event& e, Position position);
  Status CheckTreeHead(const Event& e, Position position, const std::string& link);
  Status GrowTree(std::uint32_t partition, Position position, const std::string& hash);

  std::string trusted_key_;
  ChainReport report_;
  Status status_;
  std::uint32_t partitions_;
  std::vector<std::uint64_t> last_offsets_;          // per partition
  std::vector<MerkleFrontier> trees_;                // per partition
  std::vector<bool> signs_trees_;                    // per partition: a format-2 checkpoint was seen
  std::vector<std::optional<SignedTreeHead>> kept_;  // per partition (ExpectHeads)
  std::unordered_map<std::string, Head> heads_;
  // Every event id seen, as its 128 bits (a whole ledger's worth: kept small).
  struct Id128 {
    std::uint64_t hi = 0, lo = 0;
    bool operator==(const Id128&) const = default;
  };
  struct Id128Hash {
    std::size_t operator()(const Id128& id) const { return id.lo ^ (id.hi * 0x9E3779B97F4A7C15ULL); }
  };
  static Id128 IdBits(std::string_view uuid);
  std::unordered_set<Id128, Id128Hash> ids_;
};

}  // namespace authledger
