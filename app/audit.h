// The auditor's tools: export the ledger as a self-contained JSON Lines file, and
// verify the tamper evidence of a ledger or of such a file.
//
// Export format: one event per line, exactly the bytes the ledger stores, each
// partition's events in order (with one partition, line N holds the event at
// position N; with several, partitions are interleaved and an event's partition
// follows from its account). Nothing else, so the file can be verified offline
// with only SHA-256 and Ed25519 (see docs/siem.md).
#pragma once

#include <string>
#include <vector>

#include "app/config.h"
#include "domain/tree_head.h"
#include "ledger/chain_verifier.h"

namespace authledger {

// Writes every event of the configured ledger to `out_path` (written to
// a temporary file, fsync'd, then renamed). Returns the number of events.
Result<std::uint64_t> ExportLedger(const Config& config, const std::string& out_path);

struct AuditVerification {
  Status status;  // OK, or Corruption describing the first broken link
  ChainReport report;
};
// Verifies the configured ledger (an embedded one only while the server is
// stopped: it admits one process), or an exported file of a ledger with
// `partitions` partitions. `trusted_public_key` (32 raw bytes, or "") pins the
// key checkpoints must be signed with. `since`: tree heads kept from earlier
// (`--since-head`) that the ledger must extend (ChainVerifier::ExpectHeads);
// one that cannot be used (bad signature, unknown partition) is InvalidArgument.
Result<AuditVerification> VerifyLedger(const Config& config, const std::string& trusted_public_key,
                                       std::vector<SignedTreeHead> since = {});
Result<AuditVerification> VerifyExportFile(const std::string& path, const std::string& trusted_public_key,
                                           std::uint32_t partitions = 1, std::vector<SignedTreeHead> since = {});
// The heads of a --since-head file (domain/tree_head.h): one head, or {"heads": [...]}.
Result<std::vector<SignedTreeHead>> ReadTreeHeadFile(const std::string& path);

}  // namespace authledger
