#include "ledger/embedded_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#include "domain/crypto.h"
#include "domain/decimal.h"
#include "ledger/log_format.h"

namespace authledger {

namespace lf = logformat;

namespace {

constexpr std::uint64_t kIndexIntervalBytes = 4096;
constexpr std::size_t kMaxGroupBytes = 32u << 20;
constexpr std::uint64_t kMinSegmentBytes = 128;
constexpr std::uint64_t kMaxSegmentBytes = 1ull << 30;
constexpr std::size_t kReadChunk = 64u << 10;
// The unit in which file data reaches the disk (page cache pages are aligned to file offsets).
constexpr std::uint64_t kPageBytes = 4096;

std::string ErrnoText(int err) { return std::strerror(err); }

std::string SegmentName(std::uint32_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06u.log", number);
  return buf;
}

// True if `name` is exactly SegmentName(n) for some n >= 1.
bool ParseSegmentName(const std::string& name, std::uint32_t* number) {
  constexpr std::string_view kExt = ".log";
  if (name.size() < 6 + kExt.size() || name.size() > 10 + kExt.size()) return false;
  if (name.compare(name.size() - kExt.size(), kExt.size(), kExt) != 0) return false;
  const auto n = ParseDecimal(std::string_view(name).substr(0, name.size() - kExt.size()), UINT32_MAX);
  if (!n || *n == 0 || SegmentName(static_cast<std::uint32_t>(*n)) != name) return false;
  *number = static_cast<std::uint32_t>(*n);
  return true;
}

std::string Where(const std::string& path, std::uint64_t offset) {
  return "ledger segment " + path + " at byte offset " + std::to_string(offset);
}

bool IsNoSpace(int err) { return err == ENOSPC || err == EDQUOT; }

// `err` (optional) gets the errno of a failure.
Status PwriteAll(int fd, std::string_view data, std::uint64_t offset, int* err = nullptr) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (err) *err = errno;
      return Status::IOError("write failed: " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Status::Ok();
}

// Reads exactly n bytes at offset; a short file is an IOError (the file shrank under us).
Status PreadExact(int fd, char* buf, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    ssize_t got = ::pread(fd, buf, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::IOError("read failed: " + ErrnoText(errno));
    }
    if (got == 0) return Status::IOError("read failed: unexpected end of file");
    buf += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return Status::Ok();
}

Status SyncData(int fd) {
  while (::fdatasync(fd) != 0) {
    if (errno == EINTR) continue;
    return Status::IOError("fdatasync failed: " + ErrnoText(errno));
  }
  return Status::Ok();
}

Status SyncAll(int fd) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    return Status::IOError("fsync failed: " + ErrnoText(errno));
  }
  return Status::Ok();
}

std::uint64_t LoadU64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// A read buffer over [0, end) of one file: Get(off, n) returns a view of the n bytes at
// off, reading at least kReadChunk bytes at a time. Views stay valid until the next Get.
class Window {
 public:
  Window(int fd, std::uint64_t end) : fd_(fd), end_(end) {}

  Status Get(std::uint64_t off, std::size_t n, std::string_view* v) {
    if (off < start_ || off + n > start_ + len_) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, kReadChunk), end_ - off));
      if (buf_.size() < want) buf_.resize(want);
      len_ = 0;
      Status s = PreadExact(fd_, buf_.data(), want, off);
      if (!s.ok()) return s;
      start_ = off;
      len_ = want;
    }
    *v = std::string_view(buf_.data() + (off - start_), n);
    return Status::Ok();
  }

 private:
  int fd_;
  std::uint64_t end_;
  std::string buf_;
  std::uint64_t start_ = 0;
  std::size_t len_ = 0;
};

// Reads the records of one segment sequentially, from `start` up to `end`.
class RecordReader {
 public:
  enum class Outcome { kRecord, kEnd, kTorn, kBad, kIOError };

  RecordReader(int fd, std::uint64_t start, std::uint64_t end) : win_(fd, end), off_(start), end_(end) {}

  // kRecord: *rec is the record at *offset (views valid until the next call).
  // kTorn: the bytes from *offset to the end cannot hold the record that starts there.
  // kBad: the record at *offset is damaged. *why says more for kTorn/kBad/kIOError.
  Outcome Next(lf::RecordView* rec, std::uint64_t* offset, Status* why) {
    if (off_ >= end_) return Outcome::kEnd;
    *offset = off_;
    const std::uint64_t avail = end_ - off_;
    if (avail < lf::kRecordHeaderSize) {
      *why = Status::Corruption("incomplete record header (" + std::to_string(avail) + " bytes before end of file)");
      return Outcome::kTorn;
    }
    std::string_view v;
    *why = win_.Get(off_, lf::kRecordHeaderSize, &v);
    if (!why->ok()) return Outcome::kIOError;
    std::size_t size = 0;
    *why = lf::DecodeRecordSize(v, &size);
    if (!why->ok()) return Outcome::kBad;
    if (size > avail) {
      *why = Status::Corruption("record of " + std::to_string(size) + " bytes runs past end of file (" +
                                std::to_string(avail) + " bytes left)");
      return Outcome::kTorn;
    }
    *why = win_.Get(off_, size, &v);
    if (!why->ok()) return Outcome::kIOError;
    *why = lf::DecodeRecord(v, rec);
    if (!why->ok()) return Outcome::kBad;
    off_ += size;
    return Outcome::kRecord;
  }

 private:
  Window win_;
  std::uint64_t off_;
  std::uint64_t end_;
};

// Looks at every byte offset in [from, end) for a complete, valid record whose first
// position is in [1, max_position]. Sets *found to its offset and returns true if any.
Status FindValidRecord(int fd, std::uint64_t from, std::uint64_t end, std::uint64_t max_position, bool* any,
                       std::uint64_t* found) {
  *any = false;
  Window win(fd, end);
  lf::RecordView rec;
  for (std::uint64_t p = from; p + lf::kMinRecordSize <= end; ++p) {
    std::string_view v;
    Status s = win.Get(p, lf::kRecordHeaderSize + 8, &v);
    if (!s.ok()) return s;
    std::size_t size = 0;
    if (!lf::DecodeRecordSize(v, &size).ok() || size > end - p) continue;
    const std::uint64_t first = LoadU64(v.data() + lf::kRecordHeaderSize);
    if (first == 0 || first > max_position) continue;
    s = win.Get(p, size, &v);
    if (!s.ok()) return s;
    if (lf::DecodeRecord(v, &rec).ok()) {
      *any = true;
      *found = p;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// Sets *start to where the run of zero bytes that ends [from, end) begins (end if the
// last byte is not zero, from if every byte is).
Status ZeroSuffixStart(int fd, std::uint64_t from, std::uint64_t end, std::uint64_t* start) {
  std::string buf;
  for (std::uint64_t hi = end; hi > from;) {
    const std::uint64_t lo = hi - std::min<std::uint64_t>(hi - from, kReadChunk);
    buf.resize(static_cast<std::size_t>(hi - lo));
    Status s = PreadExact(fd, buf.data(), buf.size(), lo);
    if (!s.ok()) return s;
    std::size_t i = buf.size();
    while (i > 0 && buf[i - 1] == '\0') --i;
    if (i > 0) {
      *start = lo + i;
      return Status::Ok();
    }
    hi = lo;
  }
  *start = from;
  return Status::Ok();
}

// True if [off, end) is one whole record whose length field alone is wrong: with the
// length set to what the file holds, its checksum matches.
Status IsWholeRecordWithBadLength(int fd, std::uint64_t off, std::uint64_t end, bool* yes) {
  *yes = false;
  const std::uint64_t avail = end - off;
  if (avail < lf::kMinRecordSize || avail > lf::kMaxRecordSize) return Status::Ok();
  std::string rec(static_cast<std::size_t>(avail), '\0');
  Status s = PreadExact(fd, rec.data(), rec.size(), off);
  if (!s.ok()) return s;
  const auto body = static_cast<std::uint32_t>(avail - lf::kRecordHeaderSize);
  for (int i = 0; i < 4; ++i) rec[4 + i] = static_cast<char>((body >> (8 * i)) & 0xff);
  std::uint32_t stored = 0;
  for (int i = 3; i >= 0; --i) stored = (stored << 8) | static_cast<unsigned char>(rec[i]);
  *yes = stored == Crc32(std::string_view(rec).substr(4));
  return Status::Ok();
}

// Whether the bytes [off, end) at the end of the last segment, where valid records stop
// and after which no valid record starts, are provably a write that never finished (and
// so was never acknowledged), and what they are. docs/ledger-format.md, "Torn tail vs.
// damage", is the rule; anything it does not call a partial write is damage.
struct TailVerdict {
  bool partial_write = false;
  std::string what;
};

Status ClassifyTail(int fd, std::uint64_t off, std::uint64_t end, TailVerdict* v) {
  const std::uint64_t avail = end - off;
  v->partial_write = true;
  if (avail < lf::kRecordHeaderSize) {
    v->what = "an incomplete record header (" + std::to_string(avail) + " bytes before the end of the file)";
    return Status::Ok();
  }
  std::uint64_t zeros_from = end;
  Status s = ZeroSuffixStart(fd, off, end, &zeros_from);
  if (!s.ok()) return s;
  if (zeros_from == off) {
    v->what = std::to_string(avail) + " zero bytes (the file was extended but the data never reached the disk)";
    return Status::Ok();
  }
  char header[lf::kRecordHeaderSize];
  s = PreadExact(fd, header, sizeof header, off);
  if (!s.ok()) return s;
  std::size_t size = 0;
  const bool length_ok = lf::DecodeRecordSize(std::string_view(header, sizeof header), &size).ok();
  if (length_ok && size > avail) {
    bool whole = false;
    s = IsWholeRecordWithBadLength(fd, off, end, &whole);
    if (!s.ok()) return s;
    if (!whole) {
      v->what = "an incomplete record (its header claims " + std::to_string(size) + " bytes, the file ends after " +
                std::to_string(avail) + ")";
      return Status::Ok();
    }
    v->partial_write = false;
    v->what = "a whole record whose length field is damaged (with the length corrected its checksum matches)";
    return Status::Ok();
  }
  // Pages that never reached the disk read as zeros: a zero-filled end of the file from a
  // page boundary inside the first bad record (inside its header if the length is bad).
  const std::uint64_t page = (zeros_from + kPageBytes - 1) / kPageBytes * kPageBytes;
  if (page < end && page < off + (length_ok ? size : lf::kRecordHeaderSize)) {
    v->what = "a record whose bytes from offset " + std::to_string(page) +
              " to the end of the file are zero (pages that never reached the disk)";
    return Status::Ok();
  }
  v->partial_write = false;
  v->what = length_ok ? "a complete record that does not verify" : "a record header with an impossible length";
  return Status::Ok();
}

// The number of records in [off, end) as far as their length fields tell: at least one.
Status CountRecords(int fd, std::uint64_t off, std::uint64_t end, std::uint64_t* n) {
  *n = 0;
  for (std::uint64_t p = off; p < end;) {
    ++*n;
    if (end - p < lf::kRecordHeaderSize) break;
    char header[lf::kRecordHeaderSize];
    Status s = PreadExact(fd, header, sizeof header, p);
    if (!s.ok()) return s;
    std::size_t size = 0;
    if (!lf::DecodeRecordSize(std::string_view(header, sizeof header), &size).ok() || size > end - p) break;
    p += size;
  }
  return Status::Ok();
}

}  // namespace

struct EmbeddedLog::Writer {
  AppendBatch owned;  // the batch (batch points here)
  AppendBatch* batch = &owned;
  std::vector<std::string_view> events;  // the batch's envelopes
  std::size_t size = 0;                  // encoded record size
  Status status = Status::Internal("ledger append was not attempted");
  Position position = 0;
  AppendDone callback;  // AppendAsync; Append waits on `cv` instead
  bool done = false;    // guarded by queue_mu_ (Append)
  std::condition_variable cv;
};

struct EmbeddedLog::Pending {
  Writer* w;
  Position first;
  std::uint64_t seq_last;
  std::size_t buf_off;  // in the group's buffer
  std::size_t len;
  std::uint64_t file_off = 0;
};

EmbeddedLog::EmbeddedLog(std::string dir, EmbeddedLogOptions opts) : dir_(std::move(dir)), opts_(opts) {}

EmbeddedLog::~EmbeddedLog() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();  // after writing what is queued
  WakeAll();
  for (Segment& s : segments_) {
    if (s.fd >= 0) ::close(s.fd);
  }
  if (dir_fd_ >= 0) ::close(dir_fd_);
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
  }
}

std::string EmbeddedLog::SegmentPath(std::uint32_t number) const { return dir_ + "/" + SegmentName(number); }

Result<std::unique_ptr<EmbeddedLog>> EmbeddedLog::Open(const std::string& dir, EmbeddedLogOptions opts,
                                                       RecoveryReport* report) {
  if (report) *report = RecoveryReport{};
  if (dir.empty()) return Status::InvalidArgument("ledger directory is empty");
  if (opts.segment_bytes < kMinSegmentBytes || opts.segment_bytes > kMaxSegmentBytes) {
    return Status::InvalidArgument("ledger segment_bytes must be between " + std::to_string(kMinSegmentBytes) +
                                   " and " + std::to_string(kMaxSegmentBytes));
  }
  if (opts.read_only) opts.truncate_damaged_tail = false;
  std::unique_ptr<EmbeddedLog> log(new EmbeddedLog(dir, opts));
  const std::string lock_path = dir + "/LOCK";
  std::error_code ec;
  if (opts.read_only) {
    if (!std::filesystem::is_directory(dir, ec)) return Status::NotFound("there is no ledger directory " + dir);
    // A missing LOCK file: no process ever opened this ledger for writing (a copy).
    log->lock_fd_ = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (log->lock_fd_ < 0 && errno != ENOENT) {
      return Status::IOError("cannot open " + lock_path + ": " + ErrnoText(errno));
    }
  } else {
    if (std::filesystem::create_directories(dir, ec) && !ec) {
      std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    }
    if (ec) return Status::IOError("cannot create ledger directory " + dir + ": " + ec.message());
    log->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (log->lock_fd_ < 0) {
      return Status::IOError("cannot open " + lock_path + ": " + ErrnoText(errno));
    }
  }
  while (log->lock_fd_ >= 0 && ::flock(log->lock_fd_, (opts.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      return Status::Unavailable("ledger " + dir + " is locked by another authledger process");
    }
    return Status::IOError("cannot lock " + lock_path + ": " + ErrnoText(errno));
  }
  if (!opts.read_only) {
    log->dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->dir_fd_ < 0) return Status::IOError("cannot open " + dir + ": " + ErrnoText(errno));
  }

  Status s = log->Recover();
  if (report) *report = log->recovery_;
  if (!s.ok()) return s;
  return log;
}

Status EmbeddedLog::Recover() {
  std::vector<std::uint32_t> numbers;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::uint32_t n = 0;
    if (name.size() > 8 && name.compare(name.size() - 8, 8, ".log.tmp") == 0) {
      if (opts_.read_only) continue;
      // A segment whose creation did not finish: it never held a record.
      if (::unlink(it->path().c_str()) != 0 && errno != ENOENT) {
        return Status::IOError("cannot remove " + it->path().string() + ": " + ErrnoText(errno));
      }
    } else if (ParseSegmentName(name, &n)) {
      numbers.push_back(n);
    }
  }
  if (ec) return Status::IOError("cannot list ledger directory " + dir_ + ": " + ec.message());
  std::sort(numbers.begin(), numbers.end());
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    if (numbers[i] != i + 1) {
      return Status::Corruption("ledger " + dir_ + ": segment " + SegmentName(static_cast<std::uint32_t>(i + 1)) +
                                " is missing (found " + SegmentName(numbers[i]) + ")");
    }
  }
  if (numbers.empty()) {
    if (opts_.read_only) return Status::Ok();  // an empty ledger
    recovery_.segments = 1;
    return CreateSegment(1);
  }

  for (std::size_t i = 0; i < numbers.size(); ++i) {
    Status s = ScanSegment(i, i + 1 == numbers.size());
    if (!s.ok()) return s;
  }
  active_size_ = segments_.back().size;
  recovery_.segments = segments_.size();
  return Status::Ok();
}

Status EmbeddedLog::ScanSegment(std::size_t seg_index, bool is_last) {
  const auto number = static_cast<std::uint32_t>(seg_index + 1);
  const std::string path = SegmentPath(number);
  const int fd = ::open(path.c_str(), (is_last && !opts_.read_only ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open " + path + ": " + ErrnoText(errno));
  segments_.push_back(Segment{number, fd, 0});
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::IOError("cannot stat " + path + ": " + ErrnoText(errno));
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (size > std::numeric_limits<std::uint32_t>::max()) {
    return Status::FailedPrecondition("ledger segment " + path + " is larger than 4 GiB");
  }

  std::string header(std::min<std::uint64_t>(size, lf::kSegmentHeaderSize), '\0');
  Status s = PreadExact(fd, header.data(), header.size(), 0);
  if (!s.ok()) return Status::IOError(path + ": " + s.message());
  s = lf::DecodeSegmentHeader(header);
  if (s.code() == Status::Code::kCorruption) return Status::Corruption(Where(path, 0) + ": " + s.message());
  if (!s.ok()) return Status::FailedPrecondition("ledger segment " + path + ": " + s.message());

  RecordReader reader(fd, lf::kSegmentHeaderSize, size);
  lf::RecordView rec;
  std::uint64_t off = 0;
  Position head = head_.load(std::memory_order_relaxed);
  for (;;) {
    Status why;
    const auto outcome = reader.Next(&rec, &off, &why);
    if (outcome == RecordReader::Outcome::kEnd) break;
    if (outcome == RecordReader::Outcome::kIOError) {
      return Status::IOError(path + ": " + why.message());
    }
    if (outcome == RecordReader::Outcome::kRecord) {
      if (rec.first_position != head + 1) {
        return Status::Corruption(Where(path, off) + ": position gap: expected first position " +
                                  std::to_string(head + 1) + ", found " + std::to_string(rec.first_position));
      }
      auto it = account_seqs_.find(rec.account_id);
      const std::uint64_t prev = it == account_seqs_.end() ? 0 : it->second;
      if (rec.account_seq_first != prev + 1) {
        return Status::Corruption(Where(path, off) + ": account " + std::string(rec.account_id) +
                                  " sequence gap: expected " + std::to_string(prev + 1) + ", found " +
                                  std::to_string(rec.account_seq_first));
      }
      AddIndexEntryLocked(rec.first_position, static_cast<std::uint32_t>(seg_index), off);
      if (it == account_seqs_.end()) {
        account_seqs_.emplace(std::string(rec.account_id), rec.account_seq_last());
      } else {
        it->second = rec.account_seq_last();
      }
      head = rec.last_position();
      ++recovery_.records;
      continue;
    }
    // kTorn or kBad at `off`.
    const std::string place =
        Where(path, off) + " (ledger position " + std::to_string(head + 1) + ", right after the last intact event)";
    if (!is_last) return Status::Corruption(place + ": " + why.message());
    bool any = false;
    std::uint64_t found = 0;
    const std::uint64_t max_position =
        head + 1 + std::min<std::uint64_t>(size - off, std::numeric_limits<std::uint64_t>::max() - head - 1);
    Status fs = FindValidRecord(fd, off + 1, size, max_position, &any, &found);
    if (!fs.ok()) return Status::IOError(path + ": " + fs.message());
    if (any) {
      return Status::Corruption(place + ": " + why.message() + "; a valid record follows at byte offset " +
                                std::to_string(found));
    }
    // Valid records stop at `off` and none follows: a partial write, or a damaged tail.
    TailVerdict verdict;
    s = ClassifyTail(fd, off, size, &verdict);
    if (!s.ok()) return Status::IOError(path + ": " + s.message());
    recovery_.truncated_bytes = size - off;
    recovery_.truncated_segment = SegmentName(number);
    recovery_.truncated_at = off;
    recovery_.reason = verdict.what;
    if (!verdict.partial_write) {
      recovery_.damaged = true;
      s = CountRecords(fd, off, size, &recovery_.damaged_records);
      if (!s.ok()) return Status::IOError(path + ": " + s.message());
      if (!opts_.truncate_damaged_tail) {
        return Status::Corruption(place + ": " + why.message() + ": " + verdict.what +
                                  ". This is damage, not a write that never finished, so nothing was cut (" +
                                  std::to_string(size - off) + " bytes, " + std::to_string(recovery_.damaged_records) +
                                  " record(s), to the end of the file)");
      }
    }
    if (!opts_.read_only) {
      if (::ftruncate(fd, static_cast<off_t>(off)) != 0) {
        return Status::IOError("cannot truncate the tail of " + path + ": " + ErrnoText(errno));
      }
      s = SyncAll(fd);
      if (!s.ok()) return Status::IOError(path + ": " + s.message());
      recovery_.cut = true;
    }
    size = off;  // read-only: the partial write stays in the file, unread
    break;
  }
  segments_.back().size = size;
  head_.store(head, std::memory_order_release);
  return Status::Ok();
}

Status EmbeddedLog::CreateSegment(std::uint32_t number, bool* no_space) {
  const std::string path = SegmentPath(number);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (no_space) *no_space = IsNoSpace(errno);
    return Status::IOError("cannot create " + tmp + ": " + ErrnoText(errno));
  }
  int err = 0;
  Status s = PwriteAll(fd, lf::EncodeSegmentHeader(), 0, &err);
  if (no_space) *no_space = !s.ok() && IsNoSpace(err);
  if (s.ok()) s = SyncAll(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = Status::IOError("rename failed: " + ErrnoText(errno));
  }
  if (s.ok()) s = SyncAll(dir_fd_);
  if (!s.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::IOError("cannot create ledger segment " + path + ": " + s.message());
  }
  {
    std::unique_lock lock(state_mu_);
    segments_.push_back(Segment{number, fd, lf::kSegmentHeaderSize});
  }
  active_size_ = lf::kSegmentHeaderSize;
  return Status::Ok();
}

void EmbeddedLog::AddIndexEntryLocked(Position first, std::uint32_t segment, std::uint64_t offset) {
  if (index_.empty() || index_.back().segment != segment || offset >= last_indexed_offset_ + kIndexIntervalBytes) {
    index_.push_back(IndexEntry{first, segment, static_cast<std::uint32_t>(offset)});
    last_indexed_offset_ = offset;
  }
}

bool EmbeddedLog::Enqueue(Writer* w) {
  w->events.reserve(w->batch->events.size());
  for (const AppendEvent& e : w->batch->events) w->events.push_back(e.bytes);
  w->status = lf::CheckRecord(w->batch->account_id, w->events, &w->size);
  if (w->status.ok()) w->status = CheckBatchAttributes(*w->batch);
  if (w->status.ok() && w->batch->expected_seq > std::numeric_limits<std::uint64_t>::max() - w->events.size())
    w->status = Status::InvalidArgument("ledger batch expected_seq is out of range");
  if (w->status.ok() && opts_.read_only)
    w->status = Status::FailedPrecondition("the ledger in " + dir_ + " was opened read-only");
  if (!w->status.ok()) return false;
  std::call_once(writer_started_, [this] { writer_thread_ = std::thread([this] { WriterLoop(); }); });
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) {
      w->status = Status::Unavailable("the ledger is closing");
      return false;
    }
    writers_.push_back(w);
  }
  queue_cv_.notify_one();
  return true;
}

Result<Position> EmbeddedLog::Append(AppendBatch batch) {
  Writer w;
  w.owned = std::move(batch);
  if (!Enqueue(&w)) return w.status;
  std::unique_lock lock(queue_mu_);
  w.cv.wait(lock, [&] { return w.done; });
  if (!w.status.ok()) return w.status;
  return w.position;
}

void EmbeddedLog::AppendAsync(AppendBatch batch, AppendDone done) {
  auto w = std::make_unique<Writer>();
  w->owned = std::move(batch);
  w->callback = std::move(done);
  if (!Enqueue(w.get())) return w->callback(w->status);
  w.release();  // owned by the queue until WriterLoop calls back
}

void EmbeddedLog::WriterLoop() {
  std::vector<Writer*> group;
  for (;;) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return !writers_.empty() || stopping_; });
      if (writers_.empty()) return;  // stopping, and everything queued is written
      // One group: as much of the queue as fits (at least one batch).
      std::size_t bytes = 0;
      group.clear();
      for (Writer* x : writers_) {
        if (!group.empty() && bytes + x->size > kMaxGroupBytes) break;
        group.push_back(x);
        bytes += x->size;
      }
      writers_.erase(writers_.begin(), writers_.begin() + static_cast<std::ptrdiff_t>(group.size()));
    }
    WriteGroup(group);
    for (Writer* x : group) {
      if (x->callback) {
        std::unique_ptr<Writer> owned(x);
        if (x->status.ok()) x->callback(x->position);
        else x->callback(x->status);
        continue;
      }
      std::lock_guard lock(queue_mu_);
      x->done = true;
      x->cv.notify_one();
    }
  }
}

void EmbeddedLog::WriteGroup(std::vector<Writer*>& group) {
  if (!failed_.ok()) {
    for (Writer* w : group) w->status = failed_;
    return;
  }
  // Decide and encode, in queue order. Only the leader mutates account_seqs_ and head_,
  // so reading them here needs no lock against other writers.
  std::string buf;
  std::vector<Pending> recs;
  recs.reserve(group.size());
  std::unordered_map<std::string_view, std::uint64_t> in_group;
  Position next = head_.load(std::memory_order_acquire) + 1;
  {
    std::shared_lock lock(state_mu_);
    for (Writer* w : group) {
      const AppendBatch& b = *w->batch;
      std::uint64_t cur = 0;
      if (auto it = in_group.find(b.account_id); it != in_group.end()) {
        cur = it->second;
      } else if (auto jt = account_seqs_.find(b.account_id); jt != account_seqs_.end()) {
        cur = jt->second;
      }
      if (b.expected_head && *b.expected_head != next - 1) {
        w->status = Status::Conflict("ledger append expected head " + std::to_string(*b.expected_head) +
                                     " but the ledger is at " + std::to_string(next - 1));
        continue;
      }
      if (b.expected_seq != cur) {
        w->status = Status::Conflict("ledger append for account " + b.account_id + " expected sequence " +
                                     std::to_string(b.expected_seq) + " but the account is at " + std::to_string(cur));
        continue;
      }
      Pending p{w, next, cur + b.events.size(), buf.size(), 0};
      Status s = lf::EncodeRecord(next, cur + 1, b.account_id, w->events, &buf);
      if (!s.ok()) {
        buf.resize(p.buf_off);
        w->status = s;
        continue;
      }
      p.len = buf.size() - p.buf_off;
      next += b.events.size();
      in_group[b.account_id] = p.seq_last;
      recs.push_back(p);
    }
  }

  // Records [i, recs.size()) fail; those in [i, unknown_end) were written but could not
  // be taken back, so they may be stored (reopening the log would find them).
  auto fail_from = [&](std::size_t i, std::size_t unknown_end, const Status& s) {
    failed_ = Status::IOError(s.message() + "; the ledger refuses appends until it is reopened");
    for (std::size_t k = i; k < recs.size(); ++k) {
      recs[k].w->status = k < unknown_end
                              ? Status::OutcomeUnknown(s.message() + "; the batch could not be taken "
                                                                     "back and may be stored: reopen the ledger "
                                                                     "to see")
                              : failed_;
    }
  };

  // A full disk while writing segment `number`: records [i, recs.size()) fail, nothing of
  // them is stored, and the log stays usable (the next group tries again). The message
  // reaches clients (503): it names the file, not the directory.
  auto refuse_from = [&](std::size_t i, std::uint32_t number) {
    for (std::size_t k = i; k < recs.size(); ++k) {
      recs[k].w->status =
          Status::Unavailable("the ledger's disk is full (no space left writing " + SegmentName(number) +
                              "): nothing of the batch was stored; appends succeed again once space "
                              "is freed");
    }
  };

  // Write in chunks that fit the active segment, rolling between them.
  std::size_t i = 0;
  while (i < recs.size()) {
    if (active_size_ > lf::kSegmentHeaderSize && active_size_ + recs[i].len > opts_.segment_bytes) {
      // The full segment must be durable before the next one exists, even without
      // opts_.sync: on open, damage in a segment that is not the last is corruption.
      Status s = opts_.sync ? Status::Ok() : SyncData(segments_.back().fd);
      bool no_space = false;
      if (s.ok()) s = CreateSegment(segments_.back().number + 1, &no_space);
      if (!s.ok()) return no_space ? refuse_from(i, segments_.back().number + 1) : fail_from(i, i, s);
    }
    std::size_t j = i;
    std::uint64_t bytes = 0;
    while (j < recs.size() && (j == i || active_size_ + bytes + recs[j].len <= opts_.segment_bytes)) {
      recs[j].file_off = active_size_ + bytes;
      bytes += recs[j].len;
      ++j;
    }
    const Segment& seg = segments_.back();
    int err = 0;
    Status s = PwriteAll(seg.fd, std::string_view(buf).substr(recs[i].buf_off, bytes), active_size_, &err);
    const bool write_failed = !s.ok();
    if (s.ok() && opts_.sync) s = SyncData(seg.fd);
    if (!s.ok()) {
      // Take back what may have reached the file (never past durable data). Only once
      // the shorter size is itself durable is it certain that none of it is stored.
      const bool taken_back = ::ftruncate(seg.fd, static_cast<off_t>(active_size_)) == 0 && SyncData(seg.fd).ok();
      const std::string what = "ledger segment " + SegmentPath(seg.number) + ": " + s.message();
      // A write refused for lack of space changed nothing durable: unlike a failed
      // fdatasync, it leaves no doubt about the page cache, so the log goes on.
      if (taken_back && write_failed && IsNoSpace(err)) return refuse_from(i, seg.number);
      return fail_from(i, taken_back ? i : j, Status::IOError(what));
    }
    active_size_ += bytes;
    Publish(recs, i, j, active_size_);
    for (std::size_t k = i; k < j; ++k) {
      recs[k].w->status = Status::Ok();
      recs[k].w->position = recs[k].first + recs[k].w->batch->events.size() - 1;
    }
    i = j;
  }
}

void EmbeddedLog::Publish(const std::vector<Pending>& recs, std::size_t begin, std::size_t end,
                          std::uint64_t new_size) {
  {
    std::unique_lock lock(state_mu_);
    const auto seg = static_cast<std::uint32_t>(segments_.size() - 1);
    for (std::size_t k = begin; k < end; ++k) {
      AddIndexEntryLocked(recs[k].first, seg, recs[k].file_off);
      account_seqs_[recs[k].w->batch->account_id] = recs[k].seq_last;
    }
    segments_.back().size = new_size;
    const Pending& last = recs[end - 1];
    head_.store(last.first + last.w->batch->events.size() - 1, std::memory_order_release);
  }
  { std::lock_guard lock(wait_mu_); }
  wait_cv_.notify_all();
}

Status EmbeddedLog::ReadFrom(Position from, std::size_t max, std::vector<StoredEvent>* out) {
  out->clear();
  if (max == 0) return Status::Ok();
  if (from == 0) from = 1;
  Position head = 0;
  std::size_t seg_index = 0;
  std::uint64_t offset = 0;
  Segment seg;
  {
    std::shared_lock lock(state_mu_);
    head = head_.load(std::memory_order_acquire);
    if (from > head || index_.empty()) return Status::Ok();
    auto it = std::upper_bound(index_.begin(), index_.end(), from,
                               [](Position p, const IndexEntry& e) { return p < e.first_position; });
    --it;  // index_[0].first_position == 1 <= from
    seg_index = it->segment;
    offset = it->offset;
    seg = segments_[seg_index];
  }
  for (;;) {
    RecordReader reader(seg.fd, offset, seg.size);
    lf::RecordView rec;
    for (;;) {
      Status why;
      std::uint64_t roff = 0;
      const auto outcome = reader.Next(&rec, &roff, &why);
      if (outcome == RecordReader::Outcome::kEnd) break;
      if (outcome == RecordReader::Outcome::kIOError) {
        return Status::IOError(SegmentPath(seg.number) + ": " + why.message());
      }
      if (outcome != RecordReader::Outcome::kRecord) {
        return Status::Corruption(Where(SegmentPath(seg.number), roff) + ": " + why.message());
      }
      if (rec.last_position() < from) continue;
      for (std::size_t k = 0; k < rec.events.size(); ++k) {
        const Position pos = rec.first_position + k;
        if (pos < from) continue;
        if (pos > head) return Status::Ok();
        out->push_back(StoredEvent{pos, std::string(rec.events[k])});
        if (out->size() >= max) return Status::Ok();
      }
    }
    {
      std::shared_lock lock(state_mu_);
      if (++seg_index >= segments_.size()) return Status::Ok();
      seg = segments_[seg_index];
    }
    offset = lf::kSegmentHeaderSize;
  }
}

Position EmbeddedLog::Head() const { return head_.load(std::memory_order_acquire); }

Status EmbeddedLog::Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) {
  return ReadFrom(after.offset(0) + 1, max, out);
}

Cursor EmbeddedLog::Heads() const {
  Cursor c(1);
  c.Advance(Head());
  return c;
}

Cursor EmbeddedLog::WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) {
  WaitForHead(after.offset(0), timeout);
  return Heads();
}

std::uint64_t EmbeddedLog::AccountSeq(const std::string& account_id) const {
  std::shared_lock lock(state_mu_);
  auto it = account_seqs_.find(account_id);
  return it == account_seqs_.end() ? 0 : it->second;
}

std::size_t EmbeddedLog::SegmentCount() const {
  std::shared_lock lock(state_mu_);
  return segments_.size();
}

Position EmbeddedLog::WaitForHead(Position after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(wait_mu_);
  const std::uint64_t generation = wake_generation_;
  wait_cv_.wait_for(lock, timeout,
                    [&] { return head_.load(std::memory_order_acquire) > after || wake_generation_ != generation; });
  return head_.load(std::memory_order_acquire);
}

void EmbeddedLog::WakeAll() {
  {
    std::lock_guard lock(wait_mu_);
    ++wake_generation_;
  }
  wait_cv_.notify_all();
}

}  // namespace authledger
