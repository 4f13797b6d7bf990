// Fuzz target: the ledger record reader (ledger/log_format.h, and EmbeddedLog's recovery and reading
// of segment files, docs/ledger-format.md). The first byte picks what the rest is:
//   0: one record's bytes. DecodeRecordSize/DecodeRecord never crash or read outside the input, fail
//      only with Corruption (or InvalidArgument for a short header), and a record they accept encodes
//      back to exactly the same bytes.
//   1: a segment header followed by anything, written as 000001.log of a fresh ledger directory.
//   2: the same, but the rest is cut into records whose checksums this target fixes up (a u16 length
//      then that many bytes of body, repeatedly), so mutations get past the CRC into the fields.
// For 1 and 2 EmbeddedLog::Open either fails (Corruption, naming the segment) or opens, and then every
// event it returns can be read and decoded (decoding may fail; it must not crash).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "domain/crypto.h"
#include "domain/envelope.h"
#include "fuzz_check.h"
#include "ledger/embedded_log.h"
#include "ledger/log_format.h"
#include "ledger/scan.h"

namespace {

namespace fs = std::filesystem;
using namespace authledger;

void CheckRecord(std::string_view in) {
  std::size_t size = 0;
  const Status s = logformat::DecodeRecordSize(in, &size);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == Status::Code::kCorruption || s.code() == Status::Code::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(size >= logformat::kRecordHeaderSize);
  if (size > in.size()) return;
  const std::string_view record = in.substr(0, size);
  logformat::RecordView view;
  const Status d = logformat::DecodeRecord(record, &view);
  if (!d.ok()) {
    FUZZ_CHECK(d.code() == Status::Code::kCorruption);
    return;
  }
  std::string again;
  const Status e =
      logformat::EncodeRecord(view.first_position, view.account_seq_first, view.account_id, view.events, &again);
  FUZZ_CHECK(e.ok());
  FUZZ_CHECK(again == record);
}

// Records from `in`: [u16 little-endian length][body], the checksum computed here.
std::string FramedRecords(std::string_view in) {
  std::string out;
  while (in.size() >= 2) {
    const std::size_t n = static_cast<unsigned char>(in[0]) | (static_cast<std::size_t>(in[1]) & 0xff) << 8;
    in.remove_prefix(2);
    const std::string_view body = in.substr(0, n);
    in.remove_prefix(body.size());
    std::string rec(8, '\0');
    const auto len = static_cast<std::uint32_t>(body.size());
    for (int i = 0; i < 4; ++i) rec[4 + i] = static_cast<char>(len >> (8 * i));
    rec.append(body);
    const std::uint32_t crc = Crc32(std::string_view(rec).substr(4));
    for (int i = 0; i < 4; ++i) rec[i] = static_cast<char>(crc >> (8 * i));
    out += rec;
  }
  return out;
}

// Never destroyed (the exit handler that removes it runs after static destructors).
const std::string& ScratchDir() {
  static const std::string* dir = [] {
    // On tmpfs when there is one: opening a log syncs files and directories, which disks make slow.
    std::error_code ec;
    const fs::path base = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string templ = (base / "authledger-fuzz-ledger.XXXXXX").string();
    FUZZ_CHECK(mkdtemp(templ.data()) != nullptr);
    auto* made = new std::string(templ);
    std::atexit([] { fs::remove_all(ScratchDir()); });
    return made;
  }();
  return *dir;
}

void CheckSegment(const std::string& segment) {
  const std::string& dir = ScratchDir();
  for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
  {
    std::ofstream f(dir + "/000001.log", std::ios::binary);
    f << segment;
  }
  auto log = EmbeddedLog::Open(dir);
  if (!log.ok()) {
    FUZZ_CHECK(log.status().code() != Status::Code::kOk);
    return;
  }
  const Status scanned = ScanLedger(*log.value(), [](const StoredEvent& e) {
    (void)DecodeEvent(e.bytes);
    return Status::Ok();
  });
  FUZZ_CHECK(scanned.ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = fuzz::AsText(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: CheckRecord(rest); break;
    case 1: CheckSegment(logformat::EncodeSegmentHeader() + std::string(rest)); break;
    default: CheckSegment(logformat::EncodeSegmentHeader() + FramedRecords(rest)); break;
  }
  return 0;
}
