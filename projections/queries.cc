#include "projections/queries.h"

#include <algorithm>
#include <memory>

#include "domain/merkle_proof.h"
#include "ledger/partitioner.h"
#include "projections/audit_entry.h"
#include "projections/merkle_rows.h"
#include "projections/state_codec.h"

namespace authledger {

namespace {
// Every row of `cf` under "<account id>/", in key order, decoded by `decode`.
template <typename T>
Result<std::vector<T>> AccountRows(ProjectionStore& store, const rocksdb::ReadOptions& ro, Cf cf,
                                   const std::string& account_id, Result<T> (*decode)(std::string_view)) {
  std::vector<T> out;
  const std::string prefix = account_id + "/";
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, store.cf(cf)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto row = decode(it->value().ToStringView());
    if (!row.ok()) return row.status();
    out.push_back(std::move(row).value());
  }
  if (Status s = FromRocks(it->status()); !s.ok()) return s;
  return out;
}
}  // namespace

Result<std::vector<ClientState>> Queries::ListClients(const std::string& account_id) const {
  return AccountRows(store_, rocksdb::ReadOptions(), Cf::kAccountClients, account_id, DecodeClientState);
}

Result<ClientState> Queries::Client(const std::string& account_id, const std::string& client_id) const {
  std::string v;
  Status s = store_.Get(Cf::kAccountClients, account_id + "/" + client_id, &v);
  if (!s.ok())
    return s.code() == Status::Code::kNotFound ? Status::NotFound("no client '" + client_id + "' in this account") : s;
  return DecodeClientState(v);
}

namespace {
// Reads the `refs` rows `state` lacks through `ro`.
Status LoadRows(ProjectionStore& store, const rocksdb::ReadOptions& ro, AccountState* state, const EntityRefs& refs) {
  std::string v;
  for (const std::string& key_id : refs.keys) {
    if (state->keys.count(key_id)) continue;
    rocksdb::Status s = store.db()->Get(ro, store.cf(Cf::kAccountKeys), state->id + "/" + key_id, &v);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocks(s);
    auto k = DecodeKeyState(v);
    if (!k.ok()) return k.status();
    state->keys.emplace(key_id, std::move(k).value());
  }
  for (const std::string& client_id : refs.clients) {
    if (state->clients.count(client_id)) continue;
    rocksdb::Status s = store.db()->Get(ro, store.cf(Cf::kAccountClients), state->id + "/" + client_id, &v);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocks(s);
    auto c = DecodeClientState(v);
    if (!c.ok()) return c.status();
    state->clients.emplace(client_id, std::move(c).value());
  }
  return Status::Ok();
}
}  // namespace

Result<AccountState> Queries::Account(const std::string& account_id, const EntityRefs& refs) const {
  // The header and the rows from one snapshot: the projector writes them in one batch.
  const rocksdb::Snapshot* snap = store_.db()->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  auto load = [&]() -> Result<AccountState> {
    std::string v;
    Status s = FromRocks(store_.db()->Get(ro, store_.cf(Cf::kAccounts), account_id, &v));
    if (!s.ok()) return s.code() == Status::Code::kNotFound ? Status::NotFound("no such account") : s;
    auto st = DecodeAccountState(v);
    if (!st.ok()) return st;
    if (Status r = LoadRows(store_, ro, &*st, refs); !r.ok()) return r;
    return st;
  };
  Result<AccountState> r = load();
  store_.db()->ReleaseSnapshot(snap);
  return r;
}

Status Queries::LoadEntities(AccountState* state, const EntityRefs& refs) const {
  return LoadRows(store_, rocksdb::ReadOptions(), state, refs);
}

Result<std::vector<KeyState>> Queries::ListKeys(const std::string& account_id) const {
  auto rows = AccountRows(store_, rocksdb::ReadOptions(), Cf::kAccountKeys, account_id, DecodeKeyState);
  if (!rows.ok()) return rows.status();
  std::vector<KeyState> keys = std::move(rows).value();
  std::sort(keys.begin(), keys.end(), [](const KeyState& a, const KeyState& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  return keys;
}

Result<KeyState> Queries::Key(const std::string& account_id, const std::string& key_id) const {
  std::string v;
  Status s = store_.Get(Cf::kAccountKeys, account_id + "/" + key_id, &v);
  if (!s.ok())
    return s.code() == Status::Code::kNotFound ? Status::NotFound("no key '" + key_id + "' in this account") : s;
  return DecodeKeyState(v);
}

Result<Queries::ChainHeads> Queries::ChainHeadsNow(std::uint32_t partition, std::uint32_t partitions) const {
  const rocksdb::Snapshot* snap = store_.db()->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  ChainHeads out;
  Status status;
  std::string pos;
  rocksdb::Status s = store_.db()->Get(ro, store_.cf(Cf::kMeta), "position", &pos);
  Cursor applied(partitions);
  if (s.ok() && !Cursor::Decode(pos, partitions, &applied))
    status = Status::Corruption("projections: bad stored position");
  else if (!s.ok() && !s.IsNotFound()) status = FromRocks(s);
  out.position = applied.at(partition);
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.cf(Cf::kAccounts)));
  for (it->SeekToFirst(); status.ok() && it->Valid(); it->Next()) {
    if (LedgerChainPartition(it->key().ToStringView())) continue;
    if (PartitionFor(it->key().ToStringView(), partitions) != partition) continue;
    ChainHead head{it->key().ToString(), 0, {}};
    if (!DecodeAccountHead(it->value().ToStringView(), &head.seq, &head.hash).ok()) {
      status = Status::Corruption("accounts model: damaged entry " + it->key().ToString());
      break;
    }
    out.heads.push_back(std::move(head));
  }
  if (status.ok() && !it->status().ok()) status = FromRocks(it->status());
  it.reset();
  store_.db()->ReleaseSnapshot(snap);
  if (!status.ok()) return status;
  return out;
}

Status Queries::AccountEventsAfter(const std::string& account_id, Position after, std::size_t limit,
                                   std::uint32_t partitions, std::vector<EventRef>* out, Cursor* applied) const {
  out->clear();
  const rocksdb::Snapshot* snap = store_.db()->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  Status status;
  std::string pos;
  rocksdb::Status s = store_.db()->Get(ro, store_.cf(Cf::kMeta), "position", &pos);
  *applied = Cursor(partitions);
  if (s.ok() && !Cursor::Decode(pos, partitions, applied))
    status = Status::Corruption("projections: bad stored position");
  else if (!s.ok() && !s.IsNotFound()) status = FromRocks(s);
  // The view is in time order, which a clock stepping back can make differ from
  // ledger order: keep the `limit` lowest positions seen (a max-heap), then sort.
  auto later = [](const EventRef& a, const EventRef& b) { return a.position < b.position; };
  const std::string prefix = AuditPrefix(account_id);
  std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(ro, store_.cf(Cf::kAudit)));
  for (it->Seek(prefix); status.ok() && limit > 0 && it->Valid() && it->key().starts_with(prefix); it->Next()) {
    EventRef ref;
    if (!ParseAuditKey(it->key().ToStringView(), prefix.size(), &ref.time, &ref.position)) {
      status = Status::Corruption("audit view: damaged key under account " + account_id);
      break;
    }
    if (ref.position <= after || PartitionOf(ref.position) != PartitionOf(after)) continue;
    if (out->size() == limit && !later(ref, out->front())) continue;
    if (out->size() == limit) {
      std::pop_heap(out->begin(), out->end(), later);
      out->pop_back();
    }
    out->push_back(ref);
    std::push_heap(out->begin(), out->end(), later);
  }
  if (status.ok() && !it->status().ok()) status = FromRocks(it->status());
  it.reset();
  store_.db()->ReleaseSnapshot(snap);
  std::sort_heap(out->begin(), out->end(), later);
  return status;
}

Status Queries::AccountEvent(const std::string& account_id, const EventRef& ref, std::string* bytes) const {
  return store_.Get(Cf::kAudit, AuditKey(account_id, ref.time, ref.position), bytes);
}

Result<std::string> Queries::TreeRoot(std::uint32_t partition, std::uint64_t size) const {
  return MerkleRangeRoot(0, size, StoredMerkleNodes(store_, partition));
}

Result<std::vector<std::string>> Queries::InclusionProof(std::uint32_t partition, std::uint64_t index,
                                                         std::uint64_t size) const {
  return MerkleInclusionProof(index, size, StoredMerkleNodes(store_, partition));
}

Result<std::vector<std::string>> Queries::ConsistencyProof(std::uint32_t partition, std::uint64_t first,
                                                           std::uint64_t second) const {
  // An empty or equal proof reads nothing: make sure the larger tree exists.
  if (second > 0)
    if (auto last = StoredMerkleNodes(store_, partition)(0, second - 1); !last.ok()) return last.status();
  return MerkleConsistencyProof(first, second, StoredMerkleNodes(store_, partition));
}

Result<std::string> Queries::LatestTreeHeadEvent(std::uint32_t partition) const {
  std::string bytes;
  if (Status s = store_.Get(Cf::kMeta, ProjectionStore::TreeHeadMetaKey(partition), &bytes); !s.ok()) return s;
  return bytes;
}

bool Queries::IsCheckpointAt(Position p) const {
  std::string v;
  return store_.Get(Cf::kMeta, ProjectionStore::CheckpointMetaKey(PartitionOf(p)), &v).ok() &&
         ProjectionStore::DecodePosition(v) == p;
}

bool Queries::KeyIdTaken(const std::string& key_id) const {
  rocksdb::PinnableSlice v;
  return store_.Get(Cf::kKeyIndex, key_id, &v).code() != Status::Code::kNotFound;
}

}  // namespace authledger
