// Queries: what the REST API, the commands and the projector ask of the read
// models (accounts, their keys and OAuth clients, chain heads, the audit view).
// None of these touch the ledger. The verify hot path is projections/verifier.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/account_state.h"
#include "projections/audit_query.h"
#include "projections/store.h"

namespace authledger {

class Queries {
 public:
  explicit Queries(ProjectionStore& store) : store_(store) {}
  // The account's write model as the projections hold it: its header and those of
  // the keys and clients `refs` names that exist, from one snapshot. NotFound if
  // the account has no events applied. Costs one read per name, never more.
  Result<AccountState> Account(const std::string& account_id, const EntityRefs& refs = {}) const;
  // Adds to `state` those of the keys and clients `refs` names that it lacks and
  // the projections hold (absent ones are left out).
  Status LoadEntities(AccountState* state, const EntityRefs& refs) const;
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
  // Where the account's events after `after` (a position in the account's
  // partition) lie in its audit view: the first `limit` of them in ledger order,
  // read from one snapshot, and in *applied the projections' cursor as of that
  // snapshot (every event of the account up to it is in the view). One pass over
  // the account's audit rows: the cost is the account's events, never the
  // ledger's, however many tenants share it (GET /v1/events from an old cursor).
  struct EventRef {
    Position position = 0;
    TimeMs time = 0;
  };
  Status AccountEventsAfter(const std::string& account_id, Position after, std::size_t limit, std::uint32_t partitions,
                            std::vector<EventRef>* out, Cursor* applied) const;
  // The stored bytes of one of those events (NotFound if the view lacks it).
  Status AccountEvent(const std::string& account_id, const EventRef& ref, std::string* bytes) const;
  // Partition `partition`'s Merkle tree (projections/merkle_rows.h) at `size`
  // leaves: its root, an inclusion proof of leaf `index`, a consistency proof
  // from `first` leaves. O(log size) reads; NotFound for a size beyond what the
  // projector has applied.
  Result<std::string> TreeRoot(std::uint32_t partition, std::uint64_t size) const;
  Result<std::vector<std::string>> InclusionProof(std::uint32_t partition, std::uint64_t index,
                                                  std::uint64_t size) const;
  Result<std::vector<std::string>> ConsistencyProof(std::uint32_t partition, std::uint64_t first,
                                                    std::uint64_t second) const;
  // The stored bytes of the partition's newest checkpoint that signs a tree head; NotFound if none.
  Result<std::string> LatestTreeHeadEvent(std::uint32_t partition) const;
  // True if the event at `p` is a checkpoint.
  bool IsCheckpointAt(Position p) const;
  // True if any account has (or had) a key with this id.
  bool KeyIdTaken(const std::string& key_id) const;

 private:
  ProjectionStore& store_;
};

}  // namespace authledger
