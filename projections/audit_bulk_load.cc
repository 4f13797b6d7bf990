#include "projections/audit_bulk_load.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <queue>
#include <system_error>
#include <thread>

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>

#include "projections/audit_entry.h"
#include "projections/byte_codec.h"

namespace authledger {

namespace {

constexpr std::size_t kRecordHeader = 6;    // u16 key size, u32 value size
constexpr std::size_t kIoChunk = 1u << 20;  // run files are written and read in pieces this big

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

// Creates `dir` if it is missing.
Status MakeDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  return ec ? Status::IOError("cannot create " + dir + ": " + ec.message()) : Status::Ok();
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write", path);
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

// Sorted rows, one at a time; key() and value() stay valid until Next().
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual bool Valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status Next() = 0;
};

class BufferSource : public RowSource {
 public:
  // The rows from the first whose key is >= lo.
  BufferSource(const AuditBulkLoad::Buffer& b, std::string_view lo) : b_(b) {
    i_ = static_cast<std::size_t>(
        std::partition_point(b.rows.begin(), b.rows.end(), [&](const auto& r) { return b.key(r) < lo; }) -
        b.rows.begin());
  }
  bool Valid() const override { return i_ < b_.rows.size(); }
  std::string_view key() const override { return b_.key(b_.rows[i_]); }
  std::string_view value() const override { return b_.value(b_.rows[i_]); }
  Status Next() override {
    ++i_;
    return Status::Ok();
  }

 private:
  const AuditBulkLoad::Buffer& b_;
  std::size_t i_ = 0;
};

class RunReader : public RowSource {
 public:
  ~RunReader() override {
    if (fd_ >= 0) ::close(fd_);
  }
  // Positions at the first record at or after byte `offset` whose key is >= lo.
  Status Open(const std::string& path, std::uint64_t offset, std::string_view lo) {
    path_ = path;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Errno("cannot open", path);
    if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) return Errno("cannot seek in", path);
    buf_.resize(kIoChunk);
    Status s = Next();
    while (s.ok() && valid_ && key_ < lo) s = Next();
    return s;
  }
  bool Valid() const override { return valid_; }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status Next() override {
    valid_ = false;
    if (Status s = Fill(kRecordHeader); !s.ok()) return s;
    if (end_ == pos_) return Status::Ok();  // the end
    if (end_ - pos_ < kRecordHeader) return Truncated();
    ByteReader header(std::string_view(&buf_[pos_], kRecordHeader));
    const std::size_t key_size = header.U16();
    const std::size_t value_size = header.U32();
    const std::size_t record = kRecordHeader + key_size + value_size;
    if (Status s = Fill(record); !s.ok()) return s;
    if (end_ - pos_ < record) return Truncated();
    key_ = {&buf_[pos_ + kRecordHeader], key_size};
    value_ = {&buf_[pos_ + kRecordHeader + key_size], value_size};
    pos_ += record;
    valid_ = true;
    return Status::Ok();
  }

 private:
  // Makes at least `need` unread bytes available, unless the file ends first.
  Status Fill(std::size_t need) {
    if (end_ - pos_ >= need || eof_) return Status::Ok();
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
    if (buf_.size() < need) buf_.resize(need);
    while (end_ < need && !eof_) {
      ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", path_);
      if (n == 0) eof_ = true;
      end_ += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }
  Status Truncated() const { return Status::Corruption("audit bulk load: run file " + path_ + " is truncated"); }

  std::string path_;
  int fd_ = -1;
  std::string buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool valid_ = false;
  std::string_view key_, value_;
};

// SST files for the audit column family, rolled over at kFileBytes.
class SstOutput {
 public:
  // Files are named <dir>/audit-<part>-<n>.sst.
  SstOutput(ProjectionStore& store, std::string dir, std::size_t part)
      : store_(store), dir_(std::move(dir)), part_(part), options_(store.db()->GetOptions(store.cf(Cf::kAudit))) {}
  Status Put(std::string_view key, std::string_view value) {
    if (!writer_) {
      // Keep what was written in the page cache: the first queries read it.
      writer_ = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options_, store_.cf(Cf::kAudit),
                                                         /*invalidate_page_cache=*/false);
      files_.push_back(dir_ + "/audit-" + std::to_string(part_) + "-" + std::to_string(files_.size()) + ".sst");
      if (Status s = FromRocks(writer_->Open(files_.back())); !s.ok()) return s;
    }
    if (Status s =
            FromRocks(writer_->Put(rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())));
        !s.ok())
      return s;
    return writer_->FileSize() >= AuditBulkLoad::kFileBytes ? Close() : Status::Ok();
  }
  Status Close() {
    if (!writer_) return Status::Ok();
    Status s = FromRocks(writer_->Finish());
    writer_.reset();
    return s;
  }
  const std::vector<std::string>& files() const { return files_; }

 private:
  ProjectionStore& store_;
  const std::string dir_;
  const std::size_t part_;
  const rocksdb::Options options_;
  std::unique_ptr<rocksdb::SstFileWriter> writer_;
  std::vector<std::string> files_;
};

// Writes the union of the sorted sources, in order, to `out`, up to the first
// key >= hi (all of them if hi is empty).
Status MergeSources(std::vector<std::unique_ptr<RowSource>>& sources, std::string_view hi, SstOutput& out) {
  auto wanted = [&](std::size_t i) { return sources[i]->Valid() && (hi.empty() || sources[i]->key() < hi); };
  auto later = [&](std::size_t a, std::size_t b) { return sources[a]->key() > sources[b]->key(); };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (wanted(i)) heap.push(i);
  while (!heap.empty()) {
    const std::size_t i = heap.top();
    heap.pop();
    if (Status s = out.Put(sources[i]->key(), sources[i]->value()); !s.ok()) return s;
    if (Status s = sources[i]->Next(); !s.ok()) return s;
    if (wanted(i)) heap.push(i);
  }
  return out.Close();
}

// Runs `jobs` on threads of their own (on this one if none can be had); the first failure.
Status RunAll(std::vector<std::function<Status()>>& jobs) {
  std::vector<std::future<Status>> running;
  for (auto& job : jobs) {
    try {
      running.push_back(std::async(std::launch::async, job));
    } catch (const std::system_error&) {
      running.push_back(std::async(std::launch::deferred, job));
    }
  }
  Status first;
  for (auto& f : running)
    if (Status s = f.get(); !s.ok() && first.ok()) first = s;
  return first;
}

}  // namespace

void AuditBulkLoad::Buffer::Sort() {
  std::sort(rows.begin(), rows.end(), [this](const Row& a, const Row& b) {
    if (int c = std::memcmp(a.head.data(), b.head.data(), kInlineKey); c != 0) return c < 0;
    if (a.key_size <= kInlineKey && b.key_size <= kInlineKey) return a.key_size < b.key_size;  // one is a prefix
    return key(a) < key(b);
  });
}

Status AuditBulkLoad::WriteRun(const Buffer& b, Run* run) {
  const std::string& path = run->path;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", path);
  std::string chunk;
  chunk.reserve(kIoChunk + 64 * 1024);
  std::uint64_t written = 0;
  Status s;
  for (std::size_t i = 0; i < b.rows.size(); ++i) {
    const Buffer::Row& r = b.rows[i];
    if (i % kIndexEvery == 0) run->index.emplace_back(b.key(r), written + chunk.size());
    ByteWriter w(&chunk);
    w.U16(r.key_size);
    w.U32(r.value_size);
    w.Bytes(b.key(r));
    w.Bytes(b.value(r));
    if (chunk.size() >= kIoChunk) {
      if (s = WriteAll(fd, chunk, path); !s.ok()) break;
      written += chunk.size();
      chunk.clear();
    }
  }
  if (s.ok()) s = WriteAll(fd, chunk, path);
  if (::close(fd) != 0 && s.ok()) s = Errno("cannot write", path);
  return s;
}

AuditBulkLoad::AuditBulkLoad(ProjectionStore& store, std::string work_dir, std::size_t run_bytes)
    : store_(store), work_dir_(std::move(work_dir)), run_bytes_(run_bytes), buffer_(std::make_unique<Buffer>()) {
  buffer_->bytes.reserve(run_bytes_ + 64 * 1024);
}

AuditBulkLoad::~AuditBulkLoad() {
  if (run_in_flight_.valid()) run_in_flight_.wait();
  std::error_code ec;
  std::filesystem::remove_all(work_dir_, ec);
}

Status AuditBulkLoad::Add(std::string_view account_id, TimeMs time, Position position, std::string_view bytes) {
  if (!failed_.ok()) return failed_;
  if (bytes.size() > UINT32_MAX) return failed_ = Status::InvalidArgument("audit bulk load: an event over 4 GiB");
  if (account_id.size() > 1024) return failed_ = Status::InvalidArgument("audit bulk load: an account id over 1 KiB");
  Buffer& b = *buffer_;
  Buffer::Row r{};
  r.offset = b.bytes.size();
  AppendAuditKey(&b.bytes, account_id, time, position);
  r.key_size = static_cast<std::uint16_t>(b.bytes.size() - r.offset);
  std::memcpy(r.head.data(), b.bytes.data() + r.offset, std::min<std::size_t>(r.key_size, Buffer::kInlineKey));
  r.value_size = static_cast<std::uint32_t>(bytes.size());
  b.bytes.append(bytes);
  b.rows.push_back(r);
  return b.bytes.size() >= run_bytes_ ? StartRun() : Status::Ok();
}

Status AuditBulkLoad::WaitRun() {
  if (!run_in_flight_.valid()) return Status::Ok();
  Status s = run_in_flight_.get();
  if (!s.ok()) failed_ = s;
  return s;
}

Status AuditBulkLoad::StartRun() {
  if (Status s = WaitRun(); !s.ok()) return s;
  if (Status s = MakeDir(work_dir_); !s.ok()) return failed_ = s;
  // No run is being written now (WaitRun), so growing runs_ moves no Run a writer holds.
  runs_.push_back(Run{work_dir_ + "/run-" + std::to_string(runs_.size()), {}});
  if (!writing_) {
    writing_ = std::make_unique<Buffer>();
    writing_->bytes.reserve(run_bytes_ + 64 * 1024);
  }
  writing_->bytes.clear();
  writing_->rows.clear();
  std::swap(buffer_, writing_);
  auto write = [full = writing_.get(), run = &runs_.back()] {
    full->Sort();
    return WriteRun(*full, run);
  };
  try {
    run_in_flight_ = std::async(std::launch::async, write);
  } catch (const std::system_error&) {
    if (Status s = write(); !s.ok()) return failed_ = s;  // no thread to be had: write it here
  }
  return Status::Ok();
}

Status AuditBulkLoad::Merge(const std::string& lo, const std::string& hi, std::size_t part,
                            std::vector<std::string>* files) {
  std::vector<std::unique_ptr<RowSource>> sources;
  for (const Run& run : runs_) {
    // Start at the last indexed key below `lo`.
    auto after = std::partition_point(run.index.begin(), run.index.end(), [&](const auto& e) { return e.first < lo; });
    const std::uint64_t offset = after == run.index.begin() ? 0 : std::prev(after)->second;
    auto reader = std::make_unique<RunReader>();
    if (Status s = reader->Open(run.path, offset, lo); !s.ok()) return s;
    sources.push_back(std::move(reader));
  }
  sources.push_back(std::make_unique<BufferSource>(*buffer_, lo));
  SstOutput out(store_, work_dir_, part);
  Status s = MergeSources(sources, hi, out);
  *files = out.files();
  return s;
}

Status AuditBulkLoad::Finish() {
  if (!failed_.ok()) return failed_;
  if (finished_) return failed_ = Status::FailedPrecondition("audit bulk load: Finish called twice");
  finished_ = true;
  if (Status s = WaitRun(); !s.ok()) return s;
  if (runs_.empty() && buffer_->rows.empty()) return Status::Ok();
  if (Status s = MakeDir(work_dir_); !s.ok()) return failed_ = s;
  buffer_->Sort();
  // Key ranges of about equal size, one per hardware thread, split at quantiles
  // of a sample: the runs' indexed keys and every kIndexEvery-th buffered key.
  std::vector<std::string> sample;
  for (const Run& run : runs_)
    for (const auto& [key, offset] : run.index) sample.push_back(key);
  for (std::size_t i = 0; i < buffer_->rows.size(); i += kIndexEvery)
    sample.emplace_back(buffer_->key(buffer_->rows[i]));
  std::sort(sample.begin(), sample.end());
  const std::size_t parts = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
  std::vector<std::string> bounds{""};  // parts' lower bounds; "" = from the start
  for (std::size_t p = 1; p < parts && sample.size() >= 2 * parts; ++p) {
    const std::string& split = sample[p * sample.size() / parts];
    if (split > bounds.back()) bounds.push_back(split);
  }
  std::vector<std::vector<std::string>> files(bounds.size());
  std::vector<std::function<Status()>> jobs;
  for (std::size_t p = 0; p < bounds.size(); ++p)
    jobs.push_back([&, p] { return Merge(bounds[p], p + 1 < bounds.size() ? bounds[p + 1] : "", p, &files[p]); });
  if (Status s = RunAll(jobs); !s.ok()) return failed_ = s;
  buffer_.reset();
  writing_.reset();
  std::vector<std::string> all;
  for (auto& f : files) all.insert(all.end(), f.begin(), f.end());
  rocksdb::IngestExternalFileOptions o;
  o.move_files = true;
  return failed_ = FromRocks(store_.db()->IngestExternalFile(store_.cf(Cf::kAudit), all, o));
}

}  // namespace authledger
