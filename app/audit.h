// The auditor's tools: export the ledger as a self-contained JSON Lines file, and
// verify the tamper evidence of a ledger or of such a file.
//
// Export format: one event per line, exactly the bytes the ledger stores, in
// ledger order; line N holds the event at position N. Nothing else, so the file
// can be verified offline with only SHA-256 (see docs/audit.md).
#pragma once

#include <string>

#include "app/config.h"
#include "ledger/chain_verifier.h"

namespace authledger {

// Writes every event of the ledger in `config.data_dir` to `out_path` (written to
// a temporary file, fsync'd, then renamed). Returns the number of events.
Result<std::uint64_t> ExportLedger(const Config& config, const std::string& out_path);

struct AuditVerification {
  Status status;  // OK, or Corruption describing the first broken link
  ChainReport report;
};
// Verifies the ledger in `config.data_dir` (the server must be stopped: the
// ledger admits one process), or an exported file. `trusted_public_key` (32 raw
// bytes, or "") pins the key checkpoints must be signed with.
Result<AuditVerification> VerifyLedger(const Config& config, const std::string& trusted_public_key);
Result<AuditVerification> VerifyExportFile(const std::string& path, const std::string& trusted_public_key);

}  // namespace authledger
