// ProjectionStore: the RocksDB database of read models, in <data>/projections.
//
// Column families (each a read model; see docs/architecture.md):
//   meta          "position" -> Cursor::Encode: per ledger partition, the offset of
//                 the last applied event (u64 BE each; one partition = 8 bytes);
//                 "format" -> kFormat (decimal); "checkpoint/<partition>" -> u64 BE
//                 position of the partition's last checkpoint event; "filling"
//                 (empty) while the projector fills an empty store (projector.h)
//   accounts      account id -> AccountState without its keys and clients (binary,
//                 state_codec.h; with account_keys and account_clients: the aggregate
//                 commands decide on)
//   key_index     key id -> KeyRecord (binary, key_index.h: the verify hot path)
//   account_keys  account id "/" key id -> KeyState (binary, state_codec.h)
//   account_clients  account id "/" client id -> ClientState (binary, state_codec.h)
//   audit         account id "/" u64 BE time ms, u64 BE position -> the event's
//                 stored bytes (audit_entry.h)
//   merkle        u8 partition, u8 level, u64 BE index -> the 32-byte hash of that
//                 perfect subtree of the partition's Merkle tree (merkle_rows.h);
//                 meta "tree_head/<partition>" -> the stored bytes of the
//                 partition's last checkpoint that signs a tree head
//
// A store written in another format (kFormat differs or is absent) is derived
// data of an older version, and a store still marked "filling" was left
// half-filled by a crash: Open deletes either and returns an empty store, which
// the projector then fills from the ledger.
//
// The projector writes a whole batch of events' effects and the new position in
// one WriteBatch, so the models and their position never disagree. Everything
// here can be deleted and rebuilt from the ledger.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>

#include "domain/status.h"
#include "ledger/event_log.h"

namespace authledger {

enum class Cf { kMeta = 0, kAccounts, kKeyIndex, kAccountKeys, kAudit, kAccountClients, kMerkle, kCount };
const char* CfName(Cf cf);

// Memory the store may hold, whatever the size of its data.
struct StoreOptions {
  std::size_t block_cache_bytes = 64u << 20;   // one LRU cache for every column family's blocks,
                                               // index and filter blocks included
  std::size_t write_buffer_bytes = 64u << 20;  // all memtables together; beyond, they are flushed
};

class ProjectionStore {
 public:
  // 1: JSON values, an audit time index; 2: keys inside accounts; 3: no clients; 4: clients in rows of their own;
  // 5: account headers with counters (per-entity write models); 6: key_index records with parsed CIDR blocks
  // (key_index.h: record version 2); 7: the merkle column family (per-partition Merkle trees).
  static constexpr int kFormat = 7;
  static constexpr const char* kFillingKey = "filling";  // in meta

  // Opens (creating if missing) the store in `dir`.
  static Result<std::unique_ptr<ProjectionStore>> Open(const std::string& dir, const StoreOptions& options = {});
  // Deletes the store in `dir` (for rebuild), with its FillDir. OK if it does not exist.
  static Status Destroy(const std::string& dir);
  ~ProjectionStore();

  rocksdb::DB* db() { return db_.get(); }
  const std::string& dir() const { return dir_; }
  // Scratch space of a fill (audit_bulk_load.h), inside the store's directory.
  static std::string FillDir(const std::string& dir) { return dir + "/fill"; }
  rocksdb::ColumnFamilyHandle* cf(Cf c) { return handles_[static_cast<int>(c)]; }

  // The applied cursor as stored (all zero for a fresh store). Corruption if it
  // was stored for a ledger with a different number of partitions.
  Result<Cursor> LoadCursor(std::uint32_t partitions);
  static std::string EncodePosition(Position p);                  // 8 bytes big-endian: sorts numerically
  static Position DecodePosition(std::string_view bytes);         // 0 unless 8 bytes
  static std::string CheckpointMetaKey(std::uint32_t partition);  // "checkpoint/<partition>"
  static std::string TreeHeadMetaKey(std::uint32_t partition);    // "tree_head/<partition>"

  // Point read; NotFound if absent.
  Status Get(Cf c, const rocksdb::Slice& key, std::string* value);
  Status Get(Cf c, const rocksdb::Slice& key, rocksdb::PinnableSlice* value);
  Status Write(rocksdb::WriteBatch* batch);
  // Flushes every column family to disk (writes skip the WAL: until a flush, a
  // crash loses them).
  Status Flush();

  // Every (column family, key, value) in order: for rebuild-equivalence checks.
  struct Row {
    std::string cf, key, value;
    bool operator==(const Row&) const = default;
  };
  std::vector<Row> DumpAll();

 private:
  ProjectionStore() = default;
  static Result<std::unique_ptr<ProjectionStore>> OpenCurrent(const std::string& dir, const StoreOptions& options);
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

Status FromRocks(const rocksdb::Status& s);

}  // namespace authledger
