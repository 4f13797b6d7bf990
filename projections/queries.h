// Queries: everything the read side asks of the read models. None of these
// touch the ledger.
//
// Verifier is the hot path ("is this key valid for scope X from IP Y?"): one
// checksum check, one RocksDB point lookup of a small binary record, one HMAC and
// a constant-time compare. It is thread-safe and takes no lock of its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/account_state.h"
#include "domain/clock.h"
#include "projections/audit_query.h"
#include "projections/key_index.h"
#include "projections/store.h"

namespace authledger {

enum class VerifyCode { kValid, kMalformed, kNotFound, kRevoked, kExpired, kInsufficientScope, kIpNotAllowed };
std::string_view VerifyCodeName(VerifyCode c);  // "VALID", "MALFORMED", ...

struct VerifyResult {
  VerifyCode code = VerifyCode::kNotFound;
  std::string key_id;  // set once the key's shape was valid
  KeyRecord record;    // set for VALID, INSUFFICIENT_SCOPE, IP_NOT_ALLOWED
  std::string detail;  // a human sentence; never contains the key
  bool valid() const { return code == VerifyCode::kValid; }
};

class Verifier {
 public:
  Verifier(ProjectionStore& store, const Clock& clock, std::string pepper, std::string brand);
  // `scope` empty: any scope. `ip` empty: only keys without an IP allowlist can
  // be VALID (a restricted key answers IP_NOT_ALLOWED).
  VerifyResult Verify(std::string_view key, std::string_view scope, std::string_view ip) const;

 private:
  ProjectionStore& store_;
  const Clock& clock_;
  HmacSha256Key pepper_;
  std::string brand_;
};

// Read-model queries for the REST API and commands.
class Queries {
 public:
  explicit Queries(ProjectionStore& store) : store_(store) {}
  // NotFound if the account has no events applied.
  Result<AccountState> Account(const std::string& account_id) const;
  Result<std::vector<KeyState>> ListKeys(const std::string& account_id) const;
  Result<KeyState> Key(const std::string& account_id, const std::string& key_id) const;
  // The account's OAuth clients, deleted ones included, sorted by id (none for
  // an unknown account).
  Result<std::vector<ClientState>> ListClients(const std::string& account_id) const;
  Result<ClientState> Client(const std::string& account_id, const std::string& client_id) const;
  // The head of every account chain in ledger partition `partition` (of
  // `partitions`; checkpoint chains excluded), sorted by account, and the
  // partition's position they are as of — read from one consistent snapshot.
  struct ChainHeads {
    Position position = 0;
    std::vector<ChainHead> heads;
  };
  Result<ChainHeads> ChainHeadsNow(std::uint32_t partition, std::uint32_t partitions) const;
  // One page of an account's audit view (projections/audit_query.h).
  Result<AuditResult> Audit(const std::string& account_id, const AuditFilter& filter) const {
    return QueryAudit(store_, account_id, filter);
  }
  // True if the event at `p` is a checkpoint.
  bool IsCheckpointAt(Position p) const;
  // True if any account has (or had) a key with this id.
  bool KeyIdTaken(const std::string& key_id) const;

 private:
  ProjectionStore& store_;
};

}  // namespace authledger
