// AuditBulkLoad: the audit rows of a store being filled from the ledger
// (projector.h), written as sorted SST files and ingested into the audit column
// family in one step, instead of row by row through memtables, flushes and
// compactions. The rows that result are exactly those of row-by-row writes.
//
// Rows gather in memory up to `run_bytes`. A full buffer is sorted and written,
// on a second thread, as a run file in `work_dir`; Finish() merges the runs (and
// the last buffer) into SST files of about kFileBytes that do not overlap, and
// ingests them. The merge is split into key ranges, one per hardware thread
// (sparse in-memory indexes of the runs find where each range starts). With a
// single buffer nothing is written twice.
//
// Run file: records [u16 LE key length][u32 LE value length][key][value] in key
// order, nothing else. Runs live only while the store is marked "filling"
// (store.h), so a crash simply starts the fill again; the destructor removes
// `work_dir`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "domain/status.h"
#include "ledger/position.h"
#include "projections/store.h"

namespace authledger {

class AuditBulkLoad {
 public:
  static constexpr std::size_t kRunBytes = 128u << 20;
  static constexpr std::uint64_t kFileBytes = 256u << 20;

  AuditBulkLoad(ProjectionStore& store, std::string work_dir, std::size_t run_bytes = kRunBytes);
  ~AuditBulkLoad();
  AuditBulkLoad(const AuditBulkLoad&) = delete;
  AuditBulkLoad& operator=(const AuditBulkLoad&) = delete;

  // The row AuditKey(account_id, time, position) -> bytes. A failed run write
  // is returned here or by Finish; after any failure every call returns it.
  Status Add(std::string_view account_id, TimeMs time, Position position, std::string_view bytes);
  // Writes what is left and ingests every row into the audit column family. Once.
  Status Finish();

  // One buffer of rows (exposed for the implementation's helpers only).
  struct Buffer {
    static constexpr std::size_t kInlineKey = 40;
    struct Row {
      std::array<char, kInlineKey> head;  // the key's first bytes, zero-padded: most comparisons end here
      std::uint16_t key_size;
      std::uint32_t value_size;
      std::uint64_t offset;  // of key then value in `bytes`
    };
    std::string bytes;
    std::vector<Row> rows;
    std::string_view key(const Row& r) const { return {bytes.data() + r.offset, r.key_size}; }
    std::string_view value(const Row& r) const { return {bytes.data() + r.offset + r.key_size, r.value_size}; }
    void Sort();
  };

 private:
  Status StartRun();  // hands the full buffer to a run writer (after the previous one finished)
  Status WaitRun();

  ProjectionStore& store_;
  const std::string work_dir_;
  const std::size_t run_bytes_;
  std::unique_ptr<Buffer> buffer_;   // being filled
  std::unique_ptr<Buffer> writing_;  // being written as a run, or done and kept for reuse (warm pages)
  struct Run {
    std::string path;
    std::vector<std::pair<std::string, std::uint64_t>> index;  // every kIndexEvery-th key, its file offset
  };
  static constexpr std::size_t kIndexEvery = 4096;
  static Status WriteRun(const Buffer& b, Run* run);
  Status Merge(const std::string& lo, const std::string& hi, std::size_t part, std::vector<std::string>* files);

  std::vector<Run> runs_;  // written run files, in order
  std::future<Status> run_in_flight_;
  Status failed_;
  bool finished_ = false;
};

}  // namespace authledger
