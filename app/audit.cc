#include "app/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "ledger/embedded_log.h"

namespace authledger {

namespace {
constexpr std::size_t kReadBatch = 4096;

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("write failed: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}
}  // namespace

Result<std::uint64_t> ExportLedger(const Config& config, const std::string& out_path) {
  auto log = EmbeddedLog::Open(config.LedgerDir());
  if (!log.ok()) return log.status();
  std::string tmp = out_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  std::uint64_t count = 0;
  std::vector<StoredEvent> events;
  std::string chunk;
  Status s;
  for (Position next = 1; s.ok();) {
    s = (*log)->Read(next, kReadBatch, &events);
    if (!s.ok() || events.empty()) break;
    chunk.clear();
    for (const auto& e : events) {
      if (e.bytes.find('\n') != std::string::npos) {
        s = Status::Corruption("event at position " + std::to_string(e.position) + " contains a newline");
        break;
      }
      chunk.append(e.bytes).push_back('\n');
      next = e.position + 1;
      ++count;
    }
    if (s.ok()) s = WriteAll(fd, chunk);
  }
  if (s.ok() && ::fsync(fd) != 0) s = Status::IOError(std::string("fsync failed: ") + std::strerror(errno));
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), out_path.c_str()) != 0)
    s = Status::IOError("cannot rename " + tmp + " to " + out_path + ": " + std::strerror(errno));
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return count;
}

Result<AuditVerification> VerifyLedger(const Config& config, const std::string& trusted_public_key) {
  auto log = EmbeddedLog::Open(config.LedgerDir());
  if (!log.ok()) return log.status();
  ChainVerifier v(trusted_public_key);
  std::vector<StoredEvent> events;
  for (Position next = 1;;) {
    Status s = (*log)->Read(next, kReadBatch, &events);
    if (!s.ok()) return s;
    if (events.empty()) break;
    for (const auto& e : events) {
      if (!v.Add(e.position, e.bytes).ok()) return AuditVerification{v.status(), v.report()};
      next = e.position + 1;
    }
  }
  return AuditVerification{Status::Ok(), v.report()};
}

Result<AuditVerification> VerifyExportFile(const std::string& path, const std::string& trusted_public_key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  ChainVerifier v(trusted_public_key);
  std::string line;
  Position position = 0;
  while (std::getline(in, line)) {
    if (line.empty() && in.peek() == std::char_traits<char>::eof()) break;  // trailing newline
    if (!v.Add(++position, line).ok()) return AuditVerification{v.status(), v.report()};
  }
  if (in.bad()) return Status::IOError("error reading " + path);
  return AuditVerification{Status::Ok(), v.report()};
}

}  // namespace authledger
