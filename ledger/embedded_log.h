// EmbeddedLog: the single-machine EventLog backend, append-only segment files in one
// directory (normally <data dir>/ledger/). Format: docs/ledger-format.md.
//
// Contract, in addition to EventLog's:
//  - One writer at a time: Open takes flock(LOCK_EX) on <dir>/LOCK; a second Open of
//    the same directory (this process or another) fails with Unavailable. A read-only
//    Open (options.read_only) takes flock(LOCK_SH) instead, so readers exclude a writer
//    but not each other.
//  - Open verifies every record. At the end of the last segment, bytes that are provably
//    an unacknowledged partial write (docs/ledger-format.md, "Torn tail vs. damage") are
//    cut off and reported by recovery(). Any other damage, the tail included, fails Open
//    with Corruption naming the segment file and byte offset; a damaged tail (no valid
//    record after it) is cut only with options.truncate_damaged_tail. Nothing else ever
//    changes bytes already written.
//  - A read-only Open writes nothing at all: it creates no directory, segment or lock
//    file, opens every file O_RDONLY, cuts nothing (a partial write at the tail is left in
//    place, reported by recovery() and not read) and refuses every Append
//    (FailedPrecondition).
//  - Files it creates are mode 0600, a directory it creates 0700.
//  - Append returns (AppendAsync calls back) after the batch is fdatasync'd
//    (options.sync) and visible to Read, Head, AccountSeq and WaitForAppend. Batches
//    are written by the log's own writer thread (started by the first append), which
//    takes everything queued as one group: one write and one fdatasync per group, in
//    queue order, and no caller's thread ever waits for the disk in AppendAsync. A batch whose write failed fails with
//    IOError once its bytes are taken back (truncated, durably), else with OutcomeUnknown (reopening may find it
//    stored). After an I/O error every later Append fails with IOError until the log is reopened — except a full
//    disk (ENOSPC, EDQUOT) while writing: once its bytes are taken back the batch fails with Unavailable and the
//    log keeps taking appends, which succeed again once there is space.
//  - All methods are thread-safe. Destroy the log only once no call is in flight
//    (call WakeAll first to release WaitForAppend callers); the destructor writes
//    what is still queued, calls back, and stops the writer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "domain/status.h"
#include "ledger/event_log.h"

namespace authledger {

struct EmbeddedLogOptions {
  // Roll to a new segment before a record would make the active one larger than this.
  // 128 bytes .. 1 GiB.
  std::uint64_t segment_bytes = 64ull << 20;
  // fdatasync before Append returns. Turn off only for throwaway data.
  bool sync = true;
  // Open for reading only (audit verify and export, replay, rebuild): see the contract.
  bool read_only = false;
  // Also cut a damaged tail of the last segment (bad records that no valid record
  // follows but that are not provably a partial write): the operator's explicit choice
  // (`serve --truncate-damaged-tail`). Ignored when read_only.
  bool truncate_damaged_tail = false;
};

// What Open found at the end of the last segment, and what it did about it.
// truncated_bytes == 0: the log was closed cleanly or the crash left no partial record.
struct RecoveryReport {
  std::uint64_t truncated_bytes = 0;  // bytes from truncated_at to the end of the segment
  std::string truncated_segment;      // file name, e.g. "000003.log"; empty if none
  std::uint64_t truncated_at = 0;     // byte offset of the first byte that is not a valid record
  bool cut = false;                   // the bytes were cut off (false: read-only, or Open failed)
  bool damaged = false;               // not a partial write but damage (cut only with truncate_damaged_tail)
  std::uint64_t damaged_records = 0;  // damaged: records in those bytes, as far as their length fields tell (>= 1)
  std::string reason;                 // what was found at truncated_at
  std::uint64_t segments = 0;         // segment files found
  std::uint64_t records = 0;          // valid records (batches) found
};

class EmbeddedLog final : public EventLog {
 public:
  // Opens (creating if missing, unless read-only) the ledger in `dir`. If `report` is
  // given it is filled even when Open fails: a damaged tail that stopped it is described
  // there (damaged = true, cut = false), so a caller can tell the operator what
  // truncate_damaged_tail would cut.
  static Result<std::unique_ptr<EmbeddedLog>> Open(const std::string& dir, EmbeddedLogOptions opts = {},
                                                   RecoveryReport* report = nullptr);
  ~EmbeddedLog() override;
  EmbeddedLog(const EmbeddedLog&) = delete;
  EmbeddedLog& operator=(const EmbeddedLog&) = delete;

  // One partition: a Position is the event's number, a Cursor has one offset.
  std::uint32_t Partitions() const override { return 1; }
  Result<Position> Append(AppendBatch batch) override;
  void AppendAsync(AppendBatch batch, AppendDone done) override;
  Status Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) override;
  Cursor Heads() const override;
  std::uint64_t AccountSeq(const std::string& account_id) const override;
  Cursor WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) override;
  void WakeAll() override;

  // The same, in positions: events from `from` on; the last event; wait for Head() > after.
  Status ReadFrom(Position from, std::size_t max, std::vector<StoredEvent>* out);
  Position Head() const;
  Position WaitForHead(Position after, std::chrono::milliseconds timeout);

  RecoveryReport recovery() const { return recovery_; }
  const std::string& dir() const { return dir_; }
  // Number of segment files (for tests and metrics).
  std::size_t SegmentCount() const;

 private:
  struct Segment {
    std::uint32_t number = 0;
    int fd = -1;             // O_RDWR for the active segment, O_RDONLY otherwise
    std::uint64_t size = 0;  // published (durable) bytes, header included
  };
  // Sparse index: first record of each segment, then one per ~4 KiB.
  struct IndexEntry {
    Position first_position;
    std::uint32_t segment;  // index into segments_
    std::uint32_t offset;
  };
  struct Writer;   // one pending Append
  struct Pending;  // one encoded record of a group

  EmbeddedLog(std::string dir, EmbeddedLogOptions opts);
  // Checks `w`'s batch and queues it for the writer thread; false (w->status set,
  // nothing queued) if the batch is refused before any I/O.
  bool Enqueue(Writer* w);
  void WriterLoop();
  Status Recover();
  Status ScanSegment(std::size_t seg_index, bool is_last);
  // `no_space` (optional) is set when it failed for lack of space (ENOSPC, EDQUOT).
  Status CreateSegment(std::uint32_t number, bool* no_space = nullptr);
  void WriteGroup(std::vector<Writer*>& group);
  void Publish(const std::vector<Pending>& recs, std::size_t begin, std::size_t end, std::uint64_t new_size);
  void AddIndexEntryLocked(Position first, std::uint32_t segment, std::uint64_t offset);
  std::string SegmentPath(std::uint32_t number) const;

  const std::string dir_;
  const EmbeddedLogOptions opts_;
  int lock_fd_ = -1;
  int dir_fd_ = -1;
  RecoveryReport recovery_;

  // Group commit queue, emptied a group at a time by the writer thread.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // the writer thread waits for work
  std::deque<Writer*> writers_;
  bool stopping_ = false;  // guarded by queue_mu_
  std::once_flag writer_started_;
  std::thread writer_thread_;

  // Writer-thread-only state.
  std::uint64_t active_size_ = 0;  // bytes in the active segment incl. unsynced
  Status failed_;                  // sticky I/O error

  // Published state: what readers may see.
  mutable std::shared_mutex state_mu_;
  std::vector<Segment> segments_;
  std::vector<IndexEntry> index_;
  std::uint64_t last_indexed_offset_ = 0;  // in the last segment
  struct IdHash {                          // lets the recovery scan look ids up by string_view, without copies
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  std::unordered_map<std::string, std::uint64_t, IdHash, std::equal_to<>> account_seqs_;
  std::atomic<Position> head_{0};

  // WaitForAppend.
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  std::uint64_t wake_generation_ = 0;
};

}  // namespace authledger
