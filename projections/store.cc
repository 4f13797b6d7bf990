#include "projections/store.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <spdlog/spdlog.h>

namespace authledger {

const char* CfName(Cf cf) {
  switch (cf) {
    case Cf::kMeta: return "meta";
    case Cf::kAccounts: return "accounts";
    case Cf::kKeyIndex: return "key_index";
    case Cf::kAccountKeys: return "account_keys";
    case Cf::kAccountClients: return "account_clients";
    case Cf::kAudit: return "audit";
    case Cf::kMerkle: return "merkle";
    case Cf::kCount: break;
  }
  return "?";
}

Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return Status::Ok();
  if (s.IsNotFound()) return Status::NotFound(s.ToString());
  if (s.IsCorruption()) return Status::Corruption("projections: " + s.ToString());
  if (s.IsIOError()) return Status::IOError("projections: " + s.ToString());
  return Status::Internal("projections: " + s.ToString());
}

namespace {
// RocksDB's LOCK file held by another process reads as a raw I/O error; say what it means.
Status OpenError(const std::string& dir, const rocksdb::Status& s) {
  if (s.ToString().find("lock") != std::string::npos)
    return Status::Unavailable("projections at " + dir +
                               " are in use by another process (a running server?): "
                               "stop it first (" +
                               s.ToString() + ")");
  return Status::IOError("cannot open projections at " + dir + ": " + s.ToString());
}

// RocksDB's warnings go to the service's log, not to a LOG file in the store: a LOG
// file that failed to grow (a full disk) aborts RocksDB at its next line (an assertion
// in its file writer), and a read model must keep serving while the disk is full.
class SpdlogRocksLogger final : public rocksdb::Logger {
 public:
  SpdlogRocksLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) spdlog::error("rocksdb: {}", buf);
    else spdlog::warn("rocksdb: {}", buf);
  }
};

constexpr std::size_t kAccountIdLength = 17;  // "acct_" + 12 (domain/ids.h)

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const StoreOptions& options,
                                       const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  // Every family's blocks, and their index and filter blocks, live in the one
  // bounded cache (so they cost memory that does not grow with the data).
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter in partitions of a few KiB, found through a small pinned top
  // level: a whole filter of an SST of a million keys is over a megabyte, more than
  // a cache shard holds, and was read from the file and checksummed again at every
  // lookup (rss.sh: 40 % of the hot path's CPU at 1M keys).
  t.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  t.partition_filters = true;
  t.metadata_block_size = 4096;
  t.cache_index_and_filter_blocks_with_high_priority = true;
  t.pin_top_level_index_and_filter = true;
  if (cf == Cf::kKeyIndex || cf == Cf::kAccountKeys || cf == Cf::kAccounts) {
    // Point lookups (the hot path; a command's header and keys): a hash index in
    // each data block, and whole-key bloom filters on the memtable too.
    t.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    t.data_block_hash_table_util_ratio = 0.75;
    o.memtable_prefix_bloom_size_ratio = 0.02;
    o.memtable_whole_key_filtering = true;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  // A family's memtable may use at most half of the whole budget.
  o.write_buffer_size = std::max<std::size_t>(options.write_buffer_bytes / 2, 1u << 20);
  // Each account's audit rows arrive in (nearly) increasing key order: a memtable
  // insert hint per account prefix makes them cheap.
  if (cf == Cf::kMerkle) o.compression = rocksdb::kNoCompression;  // SHA-256 hashes do not compress
  if (cf == Cf::kAudit) {
    o.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kAccountIdLength + 1));
    // Most of the store's bytes, written once (a fill writes them straight into
    // SST files): LZ4 compresses the JSON about as well as Snappy, for less CPU.
    o.compression = rocksdb::kLZ4Compression;
  }
  return o;
}

// A directory holding RocksDB column families named like ours ("meta" among
// them) but not exactly ours, or our families without the current format, is
// a projection store of another version.
bool IsOtherFormat(const std::string& dir) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok()) return false;  // none (yet)
  if (std::find(names.begin(), names.end(), CfName(Cf::kMeta)) == names.end()) return false;   // not a store of ours
  std::vector<std::string> ours{rocksdb::kDefaultColumnFamilyName};
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) ours.emplace_back(CfName(static_cast<Cf>(i)));
  std::sort(names.begin(), names.end());
  std::sort(ours.begin(), ours.end());
  return names != ours;
}
}  // namespace

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::Open(const std::string& dir, const StoreOptions& options) {
  if (IsOtherFormat(dir)) {
    spdlog::warn("projections at {} were written by another version of authledger: deleting them, they are "
                 "rebuilt from the ledger",
                 dir);
    if (Status s = Destroy(dir); !s.ok()) return s;
  }
  auto store = OpenCurrent(dir, options);
  if (!store.ok()) return store;
  std::string format, position, filling;
  Status f = (*store)->Get(Cf::kMeta, "format", &format);
  Status p = (*store)->Get(Cf::kMeta, "position", &position);
  Status m = (*store)->Get(Cf::kMeta, kFillingKey, &filling);
  for (const Status* s : {&f, &p, &m})
    if (!s->ok() && s->code() != Status::Code::kNotFound) return *s;
  const bool current = f.ok() && format == std::to_string(kFormat);
  if (current && !m.ok()) return store;
  if (current) {  // m.ok(): a fill that never finished
    spdlog::warn("projections at {} were left half-filled (the process stopped while filling them from the "
                 "ledger): deleting them, they are filled again",
                 dir);
  } else if (p.ok()) {  // models without the current format: derived data of another version
    spdlog::warn("projections at {} are in format {} (this version writes {}): deleting them, they are rebuilt "
                 "from the ledger",
                 dir, f.ok() ? format : "1", kFormat);
  }
  if (current || p.ok()) {
    store->reset();
    if (Status s = Destroy(dir); !s.ok()) return s;
    store = OpenCurrent(dir, options);
    if (!store.ok()) return store;
  }
  rocksdb::WriteBatch wb;
  wb.Put((*store)->cf(Cf::kMeta), "format", std::to_string(kFormat));
  if (Status s = (*store)->Write(&wb); !s.ok()) return s;
  return store;
}

Result<std::unique_ptr<ProjectionStore>> ProjectionStore::OpenCurrent(const std::string& dir,
                                                                      const StoreOptions& store_options) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  // All memtables together stay within the budget (with atomic_flush, a full budget flushes them all).
  options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(store_options.write_buffer_bytes);
  options.create_missing_column_families = true;
  options.max_background_jobs = 2;
  options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  options.info_log = std::make_shared<SpdlogRocksLogger>();
  options.keep_log_file_num = 3;
  // Tracks the store's files: compactions wait for room instead of failing on a full
  // disk, and a flush that failed for lack of space is retried once there is space.
  options.sst_file_manager.reset(rocksdb::NewSstFileManager(rocksdb::Env::Default()));
  // Writes skip the WAL (see Write); flushing every column family together keeps
  // the models and their stored position from ever disagreeing after a crash.
  options.atomic_flush = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  // Shards of at least 16 MiB (RocksDB's default is 64 shards: 1 MiB each at 64 MiB),
  // so that no block the hot path needs is larger than the shard it must live in.
  int shard_bits = 0;
  while (shard_bits < 6 && (store_options.block_cache_bytes >> (shard_bits + 1)) >= (16u << 20)) ++shard_bits;
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(store_options.block_cache_bytes, shard_bits);
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i)
    cfs.emplace_back(CfName(static_cast<Cf>(i)), CfOptions(static_cast<Cf>(i), store_options, cache));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(options, dir, cfs, &handles, &raw);
  if (!s.ok()) return OpenError(dir, s);
  std::unique_ptr<ProjectionStore> store(new ProjectionStore());
  store->dir_ = dir;
  store->db_.reset(raw);
  // handles[0] is the default CF; keep it last so index == Cf value.
  rocksdb::ColumnFamilyHandle* def = handles.front();
  store->handles_.assign(handles.begin() + 1, handles.end());
  store->handles_.push_back(def);
  return store;
}

Status ProjectionStore::Destroy(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(FillDir(dir), ec);
  if (ec) return Status::IOError("cannot delete " + FillDir(dir) + ": " + ec.message());
  rocksdb::Options o;
  auto s = rocksdb::DestroyDB(dir, o);
  if (!s.ok() && !s.IsNotFound()) return OpenError(dir, s);
  return Status::Ok();
}

ProjectionStore::~ProjectionStore() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

Position ProjectionStore::DecodePosition(std::string_view bytes) {
  if (bytes.size() != 8) return 0;
  Position p = 0;
  for (char c : bytes) p = (p << 8) | static_cast<unsigned char>(c);
  return p;
}

std::string ProjectionStore::CheckpointMetaKey(std::uint32_t partition) {
  return "checkpoint/" + std::to_string(partition);
}

std::string ProjectionStore::TreeHeadMetaKey(std::uint32_t partition) {
  return "tree_head/" + std::to_string(partition);
}

std::string ProjectionStore::EncodePosition(Position p) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = static_cast<char>(p & 0xFF);
    p >>= 8;
  }
  return s;
}

Result<Cursor> ProjectionStore::LoadCursor(std::uint32_t partitions) {
  std::string v;
  Status s = Get(Cf::kMeta, "position", &v);
  if (s.code() == Status::Code::kNotFound) return Cursor(partitions);
  if (!s.ok()) return s;
  Cursor c;
  if (!Cursor::Decode(v, partitions, &c))
    return Status::Corruption("projections: the stored position is not one of a ledger with " +
                              std::to_string(partitions) + " partition(s) (" + std::to_string(v.size() / 8) +
                              " stored); run `authledger rebuild`");
  return c;
}

Status ProjectionStore::Get(Cf c, const rocksdb::Slice& key, std::string* value) {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), cf(c), key, value));
}

Status ProjectionStore::Get(Cf c, const rocksdb::Slice& key, rocksdb::PinnableSlice* value) {
  return FromRocks(db_->Get(rocksdb::ReadOptions(), cf(c), key, value));
}

Status ProjectionStore::Write(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions wo;
  // No WAL, no sync: the ledger is the durable copy. After a crash the models
  // roll back, all together (atomic_flush), to their last flush — position
  // included — and the projector re-applies the ledger from there.
  wo.sync = false;
  wo.disableWAL = true;
  return FromRocks(db_->Write(wo, batch));
}

Status ProjectionStore::Flush() {
  rocksdb::FlushOptions o;
  o.wait = true;
  return FromRocks(db_->Flush(o, handles_));
}

std::vector<ProjectionStore::Row> ProjectionStore::DumpAll() {
  std::vector<Row> rows;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handles_[static_cast<std::size_t>(i)]));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      rows.push_back({CfName(static_cast<Cf>(i)), it->key().ToString(), it->value().ToString()});
  }
  return rows;
}

}  // namespace authledger
