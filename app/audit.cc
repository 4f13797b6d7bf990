#include "app/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "app/ledger.h"
#include "domain/envelope.h"
#include "ledger/batch_reader.h"
#include "ledger/partitioner.h"
#include "ledger/scan.h"

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
  auto ledger = OpenLedger(config, LedgerAccess::kReadOnly);
  if (!ledger.ok()) return ledger.status();
  std::string tmp = out_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  std::uint64_t count = 0;
  std::string chunk;
  Status s = ScanLedger(*ledger->log, [&](const StoredEvent& e) {
    if (e.bytes.find('\n') != std::string::npos)
      return Status::Corruption("event at position " + PositionToString(e.position) + " contains a newline");
    chunk.append(e.bytes).push_back('\n');
    ++count;
    if (chunk.size() < (1u << 20)) return Status::Ok();
    Status w = WriteAll(fd, chunk);
    chunk.clear();
    return w;
  });
  if (s.ok()) s = WriteAll(fd, chunk);
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

Result<AuditVerification> VerifyLedger(const Config& config, const std::string& trusted_public_key,
                                       std::vector<SignedTreeHead> since) {
  auto ledger = OpenLedger(config, LedgerAccess::kReadOnly);
  if (!ledger.ok()) return ledger.status();
  ChainVerifier v(trusted_public_key, ledger->log->Partitions());
  if (Status e = v.ExpectHeads(std::move(since)); !e.ok()) return e;
  // Decoding and hashing (a BatchReader's second thread) overlap the chain checks.
  BatchReader reader(*ledger->log, Cursor(ledger->log->Partitions()), ledger->log->Heads(), 4096, /*decode=*/true);
  DecodedBatch batch;
  Status s;
  while (s.ok() && !reader.done()) {
    s = reader.Next(&batch);
    for (std::size_t i = 0; s.ok() && i < batch.events.size(); ++i)
      s = v.Add(batch.events[i].position, batch.decoded[i], batch.hashes[i]);
  }
  if (!v.status().ok()) return AuditVerification{v.status(), v.report()};
  if (!s.ok()) return s;
  if (!v.Finish().ok()) return AuditVerification{v.status(), v.report()};
  return AuditVerification{Status::Ok(), v.report()};
}

Result<AuditVerification> VerifyExportFile(const std::string& path, const std::string& trusted_public_key,
                                           std::uint32_t partitions, std::vector<SignedTreeHead> since) {
  if (partitions < 1 || partitions > kMaxPartitions)
    return Status::InvalidArgument("--partitions must be 1.." + std::to_string(kMaxPartitions));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  // A usage error must not read as tampering: checkpoint chains name their
  // partition, so an export of a bigger ledger is recognised before verifying.
  {
    constexpr std::string_view kChainKey = "\"partitionkey\":\"acct_0000000000";
    std::string line;
    std::uint32_t needed = 1;
    while (std::getline(in, line)) {
      auto at = line.find(kChainKey);
      if (at == std::string::npos || at + kChainKey.size() + 3 > line.size()) continue;
      if (auto p = LedgerChainPartition(line.substr(at + kChainKey.size() - 15, 17))) needed = std::max(needed, *p + 1);
    }
    if (needed > partitions)
      return Status::InvalidArgument(path + " comes from a ledger with at least " + std::to_string(needed) +
                                     " partitions (it holds the checkpoint chain of partition " +
                                     std::to_string(needed - 1) + "): pass --partitions with the topic's count");
    in.clear();
    in.seekg(0);
  }
  ChainVerifier v(trusted_public_key, partitions);
  if (Status e = v.ExpectHeads(std::move(since)); !e.ok()) return e;
  std::string line;
  std::vector<std::uint64_t> offsets(partitions, 0);
  while (std::getline(in, line)) {
    if (line.empty() && in.peek() == std::char_traits<char>::eof()) break;  // trailing newline
    // Each event's partition follows from its account (the envelope's partitionkey);
    // an undecodable line is handed to the verifier in partition 0, which reports it.
    std::uint32_t partition = 0;
    if (partitions > 1) {
      auto e = DecodeEvent(line);
      if (e.ok()) partition = PartitionFor(e->account_id, partitions);
    }
    if (!v.Add(MakePosition(partition, ++offsets[partition]), line).ok())
      return AuditVerification{v.status(), v.report()};
  }
  if (in.bad()) return Status::IOError("error reading " + path);
  if (!v.Finish().ok()) return AuditVerification{v.status(), v.report()};
  return AuditVerification{Status::Ok(), v.report()};
}

Result<std::vector<SignedTreeHead>> ReadTreeHeadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (1u << 20)) return Status::InvalidArgument(path + " is larger than 1 MiB: not a tree head file");
  auto heads = TreeHeadsFromJson(text);
  if (!heads.ok()) return Status::InvalidArgument(path + ": " + heads.status().message());
  return heads;
}

}  // namespace authledger
