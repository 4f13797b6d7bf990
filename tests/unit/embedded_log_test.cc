// EmbeddedLog and the segment format, on real files in a private temp directory.
#include "ledger/embedded_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/crypto.h"
#include "ledger/log_format.h"

namespace authledger {
namespace {

namespace fs = std::filesystem;
namespace lf = logformat;
using namespace std::chrono_literals;

// A batch of `events` (any bytes: the embedded log never parses them) with the
// attributes the contract checks, partitionkey and accountseq, set.
AppendBatch Batch(const std::string& account, std::uint64_t expected, std::vector<std::string> events) {
  AppendBatch b;
  b.account_id = account;
  b.expected_seq = expected;
  for (std::string& bytes : events) {
    AppendEvent& e = b.events.emplace_back();
    e.bytes = std::move(bytes);
    e.attributes.partitionkey = account;
    e.attributes.accountseq = expected + b.events.size();
  }
  return b;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

std::size_t RecordSize(const std::string& account, const std::vector<std::string_view>& events) {
  std::size_t n = 0;
  EXPECT_TRUE(lf::CheckRecord(account, events, &n).ok());
  return n;
}

class EmbeddedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/embedded_log_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = (root_ / "ledger").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::unique_ptr<EmbeddedLog> OpenOk(EmbeddedLogOptions opts = {}) {
    auto r = EmbeddedLog::Open(dir_, opts);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return nullptr;
    return std::move(r).value();
  }

  std::vector<StoredEvent> ReadAll(EmbeddedLog& log, Position from = 1, std::size_t max = 1'000'000) {
    std::vector<StoredEvent> out;
    Status s = log.ReadFrom(from, max, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  fs::path Segment(int n) const {
    char name[32];
    std::snprintf(name, sizeof name, "%06d.log", n);
    return fs::path(dir_) / name;
  }

  fs::path root_;
  std::string dir_;
};

// ---------------------------------------------------------------- log_format

TEST(LogFormatTest, SegmentHeaderRoundTrip) {
  const std::string h = lf::EncodeSegmentHeader();
  ASSERT_EQ(h.size(), lf::kSegmentHeaderSize);
  EXPECT_EQ(h.substr(0, 8), "ALEDGER1");
  EXPECT_TRUE(lf::DecodeSegmentHeader(h).ok());
  EXPECT_EQ(lf::DecodeSegmentHeader(h.substr(0, 10)).code(), Status::Code::kCorruption);
  std::string bad = h;
  bad[0] = 'X';
  EXPECT_EQ(lf::DecodeSegmentHeader(bad).code(), Status::Code::kCorruption);
  bad = h;
  bad[13] ^= 1;
  EXPECT_EQ(lf::DecodeSegmentHeader(bad).code(), Status::Code::kCorruption);
}

TEST(LogFormatTest, OtherVersionIsRefusedNotCorrupt) {
  std::string h = "ALEDGER1";
  h += std::string("\x02\x00\x00\x00", 4);
  const std::uint32_t crc = Crc32(h);
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  EXPECT_EQ(lf::DecodeSegmentHeader(h).code(), Status::Code::kFailedPrecondition);
}

TEST(LogFormatTest, RecordRoundTripAndLayout) {
  std::string buf = "prefix";
  ASSERT_TRUE(lf::EncodeRecord(7, 3, "acct-1", {"a", "bb", "{\"x\":1}"}, &buf).ok());
  const std::string rec = buf.substr(6);
  EXPECT_EQ(rec.size(), RecordSize("acct-1", {"a", "bb", "{\"x\":1}"}));
  EXPECT_EQ(rec.size(), 8u + 8 + 8 + 2 + 6 + 4 + (4 + 1) + (4 + 2) + (4 + 7));
  std::size_t size = 0;
  ASSERT_TRUE(lf::DecodeRecordSize(rec, &size).ok());
  EXPECT_EQ(size, rec.size());
  // first_position is little-endian at offset 8.
  EXPECT_EQ(static_cast<unsigned char>(rec[8]), 7);
  EXPECT_EQ(rec[9], 0);

  lf::RecordView v;
  ASSERT_TRUE(lf::DecodeRecord(rec, &v).ok());
  EXPECT_EQ(v.first_position, 7u);
  EXPECT_EQ(v.account_seq_first, 3u);
  EXPECT_EQ(v.account_id, "acct-1");
  ASSERT_EQ(v.events.size(), 3u);
  EXPECT_EQ(v.events[2], "{\"x\":1}");
  EXPECT_EQ(v.last_position(), 9u);
  EXPECT_EQ(v.account_seq_last(), 5u);
}

TEST(LogFormatTest, DamagedRecordsAreCorruption) {
  std::string rec;
  ASSERT_TRUE(lf::EncodeRecord(1, 1, "a", {"hello", "world"}, &rec).ok());
  lf::RecordView v;
  for (std::size_t i = 0; i < rec.size(); ++i) {
    std::string bad = rec;
    bad[i] ^= 0x40;
    EXPECT_FALSE(lf::DecodeRecord(bad, &v).ok()) << "flipped byte " << i;
  }
  EXPECT_EQ(lf::DecodeRecord(rec.substr(0, rec.size() - 1), &v).code(), Status::Code::kCorruption);
  EXPECT_EQ(lf::DecodeRecord(rec + "x", &v).code(), Status::Code::kCorruption);
  std::size_t size = 0;
  EXPECT_EQ(lf::DecodeRecordSize(std::string(8, '\0'), &size).code(), Status::Code::kCorruption);
  EXPECT_EQ(lf::DecodeRecordSize("short", &size).code(), Status::Code::kInvalidArgument);
}

TEST(LogFormatTest, LimitsAreEnforced) {
  std::string buf;
  EXPECT_EQ(lf::EncodeRecord(1, 1, "", {"e"}, &buf).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(lf::EncodeRecord(1, 1, std::string(129, 'a'), {"e"}, &buf).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(lf::EncodeRecord(1, 1, "a", {}, &buf).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(lf::EncodeRecord(1, 1, "a", {""}, &buf).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(lf::EncodeRecord(0, 1, "a", {"e"}, &buf).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(buf.empty());
  EXPECT_TRUE(lf::EncodeRecord(1, 1, std::string(128, 'a'), {"e"}, &buf).ok());
}

// ---------------------------------------------------------------- EmbeddedLog

TEST_F(EmbeddedLogTest, AppendReadRoundTrip) {
  auto log = OpenOk();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Head(), 0u);
  EXPECT_TRUE(ReadAll(*log).empty());
  EXPECT_TRUE(fs::exists(Segment(1)));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "LOCK"));

  std::string binary("bin\0ary\xff", 8);
  auto r = log->Append(Batch("acct-a", 0, {"{\"e\":1}", "{\"e\":2}", binary}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value(), 3u);
  EXPECT_EQ(log->Head(), 3u);
  EXPECT_EQ(log->AccountSeq("acct-a"), 3u);
  EXPECT_EQ(log->AccountSeq("nobody"), 0u);

  auto events = ReadAll(*log);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].position, 1u);
  EXPECT_EQ(events[0].bytes, "{\"e\":1}");
  EXPECT_EQ(events[1].bytes, "{\"e\":2}");
  EXPECT_EQ(events[2].position, 3u);
  EXPECT_EQ(events[2].bytes, binary);

  // Read from the middle of a record, with max, from 0, past the head, max 0.
  auto mid = ReadAll(*log, 2, 1);
  ASSERT_EQ(mid.size(), 1u);
  EXPECT_EQ(mid[0].position, 2u);
  EXPECT_EQ(ReadAll(*log, 0).size(), 3u);
  EXPECT_TRUE(ReadAll(*log, 4).empty());
  EXPECT_TRUE(ReadAll(*log, 1, 0).empty());
}

TEST_F(EmbeddedLogTest, PositionsAreContiguousAcrossAccounts) {
  auto log = OpenOk();
  ASSERT_TRUE(log);
  std::map<std::string, std::uint64_t> seq;
  Position expect_head = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string acct = "acct-" + std::to_string(i % 3);
    std::vector<std::string> evs;
    for (int k = 0; k <= i % 4; ++k) evs.push_back("ev-" + std::to_string(i) + "-" + std::to_string(k));
    auto r = log->Append(Batch(acct, seq[acct], evs));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    expect_head += evs.size();
    seq[acct] += evs.size();
    EXPECT_EQ(r.value(), expect_head);
  }
  auto all = ReadAll(*log);
  ASSERT_EQ(all.size(), expect_head);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].position, i + 1);
  for (auto& [acct, s] : seq) EXPECT_EQ(log->AccountSeq(acct), s);
  // Every starting point reads the right suffix.
  for (Position from = 1; from <= expect_head; ++from) {
    auto part = ReadAll(*log, from, 5);
    ASSERT_FALSE(part.empty());
    EXPECT_EQ(part.front().position, from);
    EXPECT_EQ(part.front().bytes, all[from - 1].bytes);
  }
}

TEST_F(EmbeddedLogTest, ReopenPreservesEverything) {
  std::vector<StoredEvent> before;
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->Append(Batch("a", 0, {"a1", "a2"})).ok());
    ASSERT_TRUE(log->Append(Batch("b", 0, {"b1"})).ok());
    ASSERT_TRUE(log->Append(Batch("a", 2, {"a3"})).ok());
    before = ReadAll(*log);
  }
  auto log = OpenOk();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->recovery().truncated_bytes, 0u);
  EXPECT_EQ(log->recovery().records, 3u);
  EXPECT_EQ(log->Head(), 4u);
  EXPECT_EQ(log->AccountSeq("a"), 3u);
  EXPECT_EQ(log->AccountSeq("b"), 1u);
  auto after = ReadAll(*log);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].position, before[i].position);
    EXPECT_EQ(after[i].bytes, before[i].bytes);
  }
  // Optimistic concurrency state survived too.
  EXPECT_EQ(log->Append(Batch("a", 2, {"stale"})).status().code(), Status::Code::kConflict);
  auto r = log->Append(Batch("a", 3, {"a4"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 5u);
}

TEST_F(EmbeddedLogTest, ConflictWritesNothing) {
  auto log = OpenOk();
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Append(Batch("a", 0, {"a1"})).ok());
  const auto size = fs::file_size(Segment(1));
  auto r = log->Append(Batch("a", 0, {"lost race"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kConflict);
  EXPECT_NE(r.status().message().find("a"), std::string::npos);
  r = log->Append(Batch("a", 5, {"from the future"}));
  EXPECT_EQ(r.status().code(), Status::Code::kConflict);
  EXPECT_EQ(fs::file_size(Segment(1)), size);
  EXPECT_EQ(log->Head(), 1u);
  EXPECT_EQ(log->AccountSeq("a"), 1u);
  EXPECT_EQ(ReadAll(*log).size(), 1u);
}

TEST_F(EmbeddedLogTest, ConcurrentAppendsLandExactlyOnce) {
  EmbeddedLogOptions opts;
  opts.segment_bytes = 16 << 10;  // groups also cross segment boundaries
  auto log = OpenOk(opts);
  ASSERT_TRUE(log);
  constexpr int kThreads = 8;
  constexpr int kBatches = 200;
  const std::vector<std::string> accounts = {"acct-0", "acct-1", "acct-2", "acct-3"};
  std::atomic<int> conflicts{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> writers_done{false};
  // A reader follows the log while it grows: it must only ever see whole, contiguous
  // batches (every event it gets is at the position it expects, never past Head()).
  std::thread reader([&] {
    Position next = 1;
    std::vector<StoredEvent> page;
    while (!writers_done.load() || next <= log->Head()) {
      log->WaitForHead(next - 1, 20ms);
      Status s = log->ReadFrom(next, 97, &page);
      if (!s.ok()) {
        ADD_FAILURE() << s.ToString();
        return;
      }
      for (const auto& e : page) {
        if (e.position != next || e.bytes.find('|') == std::string::npos) {
          ADD_FAILURE() << "reader saw position " << e.position << " expecting " << next;
          return;
        }
        ++next;
      }
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        // Threads share accounts, so they race; the loser retries with the new seq.
        const std::string& acct = accounts[(t + b) % accounts.size()];
        const int n = 1 + (b % 3);
        for (;;) {
          const std::uint64_t seq = log->AccountSeq(acct);
          std::vector<std::string> evs;
          for (int k = 0; k < n; ++k) {
            evs.push_back(acct + "|" + std::to_string(seq + k + 1) + "|t" + std::to_string(t) + "b" +
                          std::to_string(b) + "e" + std::to_string(k));
          }
          auto r = log->Append(Batch(acct, seq, evs));
          if (r.ok()) break;
          if (r.status().code() != Status::Code::kConflict) {
            failed = true;
            ADD_FAILURE() << r.status().ToString();
            return;
          }
          ++conflicts;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  writers_done = true;
  reader.join();
  ASSERT_FALSE(failed);

  auto check = [&](EmbeddedLog& l) {
    std::size_t expected_events = 0;
    for (int b = 0; b < kBatches; ++b) expected_events += kThreads * (1 + b % 3);
    auto all = ReadAll(l);
    ASSERT_EQ(all.size(), expected_events);
    EXPECT_EQ(l.Head(), expected_events);
    std::set<std::string> tags;
    std::map<std::string, std::uint64_t> last_seq;
    for (std::size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].position, i + 1);
      const std::string& e = all[i].bytes;
      const auto p1 = e.find('|');
      const auto p2 = e.find('|', p1 + 1);
      const std::string acct = e.substr(0, p1);
      const std::uint64_t seq = std::stoull(e.substr(p1 + 1, p2 - p1 - 1));
      EXPECT_EQ(seq, last_seq[acct] + 1) << "at position " << i + 1;
      last_seq[acct] = seq;
      EXPECT_TRUE(tags.insert(e.substr(p2 + 1)).second) << "duplicate " << e;
    }
    for (const auto& a : accounts) EXPECT_EQ(l.AccountSeq(a), last_seq[a]);
  };
  check(*log);
  EXPECT_GT(log->SegmentCount(), 3u);
  log.reset();
  auto reopened = OpenOk(opts);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->recovery().truncated_bytes, 0u);
  check(*reopened);
}

TEST_F(EmbeddedLogTest, SegmentsRollAndReadAcross) {
  EmbeddedLogOptions opts;
  opts.segment_bytes = 512;
  std::vector<std::string> expected;
  {
    auto log = OpenOk(opts);
    ASSERT_TRUE(log);
    std::uint64_t seq = 0;
    for (int i = 0; i < 60; ++i) {
      std::vector<std::string> evs;
      for (int k = 0; k <= i % 3; ++k) {
        evs.push_back("event-" + std::to_string(i) + "-" + std::to_string(k) + std::string(20, 'x'));
      }
      auto r = log->Append(Batch("acct", seq, evs));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      seq += evs.size();
      expected.insert(expected.end(), evs.begin(), evs.end());
    }
    // One record larger than a segment gets a segment of its own.
    std::vector<std::string> big = {std::string(2000, 'B')};
    ASSERT_TRUE(log->Append(Batch("acct", seq, big)).ok());
    expected.push_back(big[0]);
    EXPECT_GT(log->SegmentCount(), 5u);

    for (std::size_t n = 1; n <= log->SegmentCount(); ++n) {
      const auto size = fs::file_size(Segment(static_cast<int>(n)));
      if (n + 1 < log->SegmentCount()) {
        EXPECT_LE(size, 512u) << n;
      }
    }
    auto all = ReadAll(*log);
    ASSERT_EQ(all.size(), expected.size());
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].bytes, expected[i]);
  }
  auto log = OpenOk(opts);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Head(), expected.size());
  // Small pages from every start position cross segment boundaries.
  for (Position from = 1; from <= expected.size(); from += 3) {
    auto page = ReadAll(*log, from, 7);
    ASSERT_EQ(page.size(), std::min<std::size_t>(7, expected.size() - from + 1));
    for (std::size_t k = 0; k < page.size(); ++k) {
      EXPECT_EQ(page[k].position, from + k);
      EXPECT_EQ(page[k].bytes, expected[from + k - 1]);
    }
  }
  const auto segs = log->SegmentCount();
  ASSERT_TRUE(log->Append(Batch("acct", log->AccountSeq("acct"), {"after reopen"})).ok());
  EXPECT_GE(log->SegmentCount(), segs);
  EXPECT_EQ(ReadAll(*log, expected.size() + 1).at(0).bytes, "after reopen");
}

// Writes three batches and returns the size of the last record.
std::size_t WriteThree(const std::string& dir) {
  auto r = EmbeddedLog::Open(dir);
  EXPECT_TRUE(r.ok());
  auto& log = *r.value();
  EXPECT_TRUE(log.Append(Batch("a", 0, {"one", "two"})).ok());
  EXPECT_TRUE(log.Append(Batch("b", 0, {"three"})).ok());
  EXPECT_TRUE(log.Append(Batch("a", 2, {"four", "five"})).ok());
  return RecordSize("a", {"four", "five"});
}

TEST_F(EmbeddedLogTest, TornTailIsTruncatedAtEveryCutPoint) {
  const std::size_t last = WriteThree(dir_);
  const std::string full = Slurp(Segment(1));
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{4}, std::size_t{7}, std::size_t{8}, std::size_t{9}, std::size_t{20}, last - 1}) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    Spit(Segment(1), full.substr(0, full.size() - cut));
    {
      auto log = OpenOk();
      ASSERT_TRUE(log);
      EXPECT_EQ(log->recovery().truncated_bytes, last - cut);
      EXPECT_EQ(log->recovery().truncated_segment, "000001.log");
      EXPECT_EQ(log->recovery().truncated_at, full.size() - last);
      EXPECT_EQ(fs::file_size(Segment(1)), full.size() - last);
      EXPECT_EQ(log->Head(), 3u);
      EXPECT_EQ(log->AccountSeq("a"), 2u);
      auto all = ReadAll(*log);
      ASSERT_EQ(all.size(), 3u);
      EXPECT_EQ(all[2].bytes, "three");
      auto r = log->Append(Batch("a", 2, {"four again"}));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r.value(), 4u);
    }
    auto log = OpenOk();
    ASSERT_TRUE(log);
    EXPECT_EQ(log->recovery().truncated_bytes, 0u);
    EXPECT_EQ(ReadAll(*log, 4).at(0).bytes, "four again");
  }
}

TEST_F(EmbeddedLogTest, PartialWriteAfterLastRecordIsTruncated) {
  WriteThree(dir_);
  const std::string full = Slurp(Segment(1));
  const std::vector<std::string> tails = {
      std::string(1, '\x7f'), std::string(4096, '\0'),     // extended but never written
      std::string("\x12\x34\x56\x78\x40\x00\x00\x00", 8),  // header claiming 64 more bytes
      std::string("\x12\x34\x56\x78\x40\x00\x00\x00", 8) +
          std::string("\x05\0\0\0\0\0\0\0\x01", 9)};  // ... and a few of them
  for (const auto& tail : tails) {
    SCOPED_TRACE("tail of " + std::to_string(tail.size()));
    Spit(Segment(1), full + tail);
    auto log = OpenOk();
    ASSERT_TRUE(log);
    EXPECT_EQ(log->recovery().truncated_bytes, tail.size());
    EXPECT_TRUE(log->recovery().cut);
    EXPECT_FALSE(log->recovery().damaged);
    EXPECT_EQ(log->Head(), 5u);
    EXPECT_EQ(ReadAll(*log).size(), 5u);
    EXPECT_EQ(fs::file_size(Segment(1)), full.size());
  }
  auto log = OpenOk();
  ASSERT_TRUE(log);
  ASSERT_TRUE(log->Append(Batch("b", 1, {"six"})).ok());
  EXPECT_EQ(ReadAll(*log, 6).at(0).bytes, "six");
}

// Bytes after the last record that cannot be the start of a record this log wrote are
// damage (issue 13, defect 2): refused, left in place, cut only with truncate_damaged_tail.
TEST_F(EmbeddedLogTest, GarbageAfterLastRecordIsDamage) {
  WriteThree(dir_);
  const std::string full = Slurp(Segment(1));
  const std::string tail = "this is not a record at all, just bytes left behind by a crash......";
  Spit(Segment(1), full + tail);
  RecoveryReport report;
  auto r = EmbeddedLog::Open(dir_, {}, &report);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("000001.log at byte offset " + std::to_string(full.size())), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(report.damaged);
  EXPECT_FALSE(report.cut);
  EXPECT_EQ(report.truncated_bytes, tail.size());
  EXPECT_EQ(report.damaged_records, 1u);
  EXPECT_EQ(Slurp(Segment(1)), full + tail);

  EmbeddedLogOptions cut;
  cut.truncate_damaged_tail = true;
  auto log = OpenOk(cut);
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->recovery().damaged);
  EXPECT_TRUE(log->recovery().cut);
  EXPECT_EQ(log->recovery().truncated_bytes, tail.size());
  EXPECT_EQ(log->Head(), 5u);
  EXPECT_EQ(Slurp(Segment(1)), full);
}

// Issue 13, defect 2: a byte flipped inside the last, acknowledged record is damage, not
// a torn write. Nothing opens over it (read-write or read-only) and nothing is cut,
// unless the operator asks (truncate_damaged_tail), and then the report says so.
TEST_F(EmbeddedLogTest, FlippedByteInLastRecordIsDamageNotTornTail) {
  const std::size_t last = WriteThree(dir_);
  const std::string full = Slurp(Segment(1));
  const std::size_t at = full.size() - last;
  // In the body, in the checksum, and in the length field (one more, one less).
  for (std::size_t flip : {at + last / 2, at + 1, full.size() - 1}) {
    SCOPED_TRACE("flip at " + std::to_string(flip));
    std::string bad = full;
    bad[flip] ^= 0x04;
    Spit(Segment(1), bad);
    for (bool read_only : {false, true}) {
      EmbeddedLogOptions o;
      o.read_only = read_only;
      RecoveryReport report;
      auto r = EmbeddedLog::Open(dir_, o, &report);
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
      const std::string& m = r.status().message();
      EXPECT_NE(m.find("000001.log at byte offset " + std::to_string(at)), std::string::npos) << m;
      EXPECT_NE(m.find("ledger position 4"), std::string::npos) << m;
      EXPECT_NE(m.find("nothing was cut"), std::string::npos) << m;
      EXPECT_TRUE(report.damaged);
      EXPECT_EQ(report.damaged_records, 1u);
      EXPECT_EQ(report.truncated_bytes, last);
      EXPECT_EQ(Slurp(Segment(1)), bad);
    }
  }
  for (int delta : {+1, -1}) {
    SCOPED_TRACE("length " + std::to_string(delta));
    std::string bad = full;
    bad[at + 4] = static_cast<char>(static_cast<unsigned char>(bad[at + 4]) + delta);
    Spit(Segment(1), bad);
    auto r = EmbeddedLog::Open(dir_);
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
    EXPECT_EQ(Slurp(Segment(1)), bad);
  }

  std::string bad = full;
  bad[at + last / 2] ^= 0x04;
  Spit(Segment(1), bad);
  EmbeddedLogOptions cut;
  cut.truncate_damaged_tail = true;
  auto log = OpenOk(cut);
  ASSERT_TRUE(log);
  EXPECT_TRUE(log->recovery().damaged);
  EXPECT_TRUE(log->recovery().cut);
  EXPECT_EQ(log->recovery().truncated_at, at);
  EXPECT_EQ(log->recovery().truncated_bytes, last);
  EXPECT_EQ(log->Head(), 3u);
  EXPECT_EQ(Slurp(Segment(1)), full.substr(0, at));
}

// A write whose later pages never reached the disk reads as zeros from a page boundary
// on: a partial write. Zeros that stop before the end of the file are damage.
TEST_F(EmbeddedLogTest, ZeroPagesAtTheEndArePartialWriteZerosInsideAreDamage) {
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->Append(Batch("a", 0, {std::string(3000, 'a')})).ok());
    ASSERT_TRUE(log->Append(Batch("a", 1, {std::string(9000, 'b')})).ok());
  }
  const std::string full = Slurp(Segment(1));
  const std::size_t at = full.size() - RecordSize("a", {std::string(9000, 'b')});
  ASSERT_LT(at, 4096u);
  std::string lost = full;
  std::fill(lost.begin() + 8192, lost.end(), '\0');
  Spit(Segment(1), lost);
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    EXPECT_TRUE(log->recovery().cut);
    EXPECT_FALSE(log->recovery().damaged);
    EXPECT_EQ(log->recovery().truncated_at, at);
    EXPECT_EQ(log->Head(), 1u);
  }
  std::string hole = full;
  std::fill(hole.begin() + 4096, hole.begin() + 8192, '\0');
  Spit(Segment(1), hole);
  auto r = EmbeddedLog::Open(dir_);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
  EXPECT_EQ(Slurp(Segment(1)), hole);
}

// Sorted names and contents of every file under `dir`: what "nothing was written" compares.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out[e.path().string()] = Slurp(e.path());
  return out;
}

// Auditing never writes (issue 13): a read-only open creates nothing, cuts nothing,
// deletes nothing, and refuses appends; it excludes a writer but not other readers.
TEST_F(EmbeddedLogTest, ReadOnlyOpenWritesNothing) {
  EmbeddedLogOptions ro;
  ro.read_only = true;
  auto missing = EmbeddedLog::Open(dir_, ro);
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound) << missing.status().ToString();
  EXPECT_FALSE(fs::exists(dir_));
  fs::create_directories(dir_);
  {
    auto empty = OpenOk(ro);
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->Head(), 0u);
    EXPECT_TRUE(ReadAll(*empty).empty());
    EXPECT_TRUE(fs::is_empty(dir_));
  }
  const std::size_t last = WriteThree(dir_);
  const std::string full = Slurp(Segment(1));
  // A partial write at the end and a stray temporary segment stay as they are.
  Spit(Segment(1), full.substr(0, full.size() - last / 2));
  Spit(fs::path(dir_) / "000002.log.tmp", "ALEDG");
  const auto before = Snapshot(dir_);
  {
    auto log = OpenOk(ro);
    ASSERT_TRUE(log);
    EXPECT_EQ(log->Head(), 3u);
    EXPECT_EQ(ReadAll(*log).size(), 3u);
    EXPECT_EQ(log->recovery().truncated_bytes, last - last / 2);
    EXPECT_FALSE(log->recovery().cut);
    EXPECT_FALSE(log->recovery().damaged);
    auto a = log->Append(Batch("b", 1, {"no"}));
    EXPECT_EQ(a.status().code(), Status::Code::kFailedPrecondition) << a.status().ToString();
    auto second_reader = OpenOk(ro);
    EXPECT_TRUE(second_reader);
    auto writer = EmbeddedLog::Open(dir_);
    EXPECT_EQ(writer.status().code(), Status::Code::kUnavailable) << writer.status().ToString();
  }
  EXPECT_EQ(Snapshot(dir_), before);
  {
    auto writer = OpenOk();
    ASSERT_TRUE(writer);
    EXPECT_TRUE(writer->recovery().cut);
    auto reader = EmbeddedLog::Open(dir_, ro);
    EXPECT_EQ(reader.status().code(), Status::Code::kUnavailable) << reader.status().ToString();
  }
  EXPECT_EQ(Slurp(Segment(1)), full.substr(0, full.size() - last));
}

TEST_F(EmbeddedLogTest, FilesAreOwnerOnly) {
  const mode_t old = ::umask(0);  // whatever the process umask, the log's own modes hold
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->Append(Batch("a", 0, {"x"})).ok());
  }
  ::umask(old);
  auto mode = [](const fs::path& p) { return fs::status(p).permissions() & fs::perms::all; };
  EXPECT_EQ(mode(dir_), fs::perms::owner_all);
  EXPECT_EQ(mode(fs::path(dir_) / "LOCK"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(mode(Segment(1)), fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(EmbeddedLogTest, DamageBeforeValidRecordsIsCorruption) {
  WriteThree(dir_);
  const std::string full = Slurp(Segment(1));
  const std::size_t second = lf::kSegmentHeaderSize + RecordSize("a", {"one", "two"});
  // Flip a byte in the body of the second record (the third is valid and follows it).
  std::string bad = full;
  bad[second + 30] ^= 0x01;
  Spit(Segment(1), bad);
  auto r = EmbeddedLog::Open(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("000001.log"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("offset " + std::to_string(second)), std::string::npos) << r.status().message();
  // Nothing was truncated.
  EXPECT_EQ(Slurp(Segment(1)), bad);

  // A damaged length field is no different.
  bad = full;
  bad[second + 5] = 0x7f;
  Spit(Segment(1), bad);
  r = EmbeddedLog::Open(dir_);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
  EXPECT_EQ(Slurp(Segment(1)), bad);
}

TEST_F(EmbeddedLogTest, DamageInEarlierSegmentIsCorruption) {
  EmbeddedLogOptions opts;
  opts.segment_bytes = 256;
  {
    auto log = OpenOk(opts);
    ASSERT_TRUE(log);
    for (std::uint64_t i = 0; i < 20; ++i) {
      ASSERT_TRUE(log->Append(Batch("a", i, {"event-" + std::to_string(i) + std::string(40, '.')})).ok());
    }
    ASSERT_GT(log->SegmentCount(), 2u);
  }
  const std::string seg1 = Slurp(Segment(1));
  // The last record of segment 1 is torn: still corruption, segment 2 exists.
  Spit(Segment(1), seg1.substr(0, seg1.size() - 3));
  auto r = EmbeddedLog::Open(dir_, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("000001.log"), std::string::npos) << r.status().message();
  // Flip a byte of its last record instead.
  std::string flipped = seg1;
  flipped[flipped.size() - 2] ^= 0x20;
  Spit(Segment(1), flipped);
  r = EmbeddedLog::Open(dir_, opts);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
  Spit(Segment(1), seg1);
  // A missing segment in the middle.
  const std::string seg2 = Slurp(Segment(2));
  fs::remove(Segment(2));
  r = EmbeddedLog::Open(dir_, opts);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find("000002.log"), std::string::npos);
  Spit(Segment(2), seg2);
  auto log = OpenOk(opts);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Head(), 20u);
}

TEST_F(EmbeddedLogTest, PositionGapIsCorruption) {
  fs::create_directories(dir_);
  std::string seg = lf::EncodeSegmentHeader();
  ASSERT_TRUE(lf::EncodeRecord(1, 1, "a", {"x", "y"}, &seg).ok());
  const std::size_t gap_at = seg.size();
  ASSERT_TRUE(lf::EncodeRecord(5, 3, "a", {"z"}, &seg).ok());
  Spit(Segment(1), seg);
  auto r = EmbeddedLog::Open(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("offset " + std::to_string(gap_at)), std::string::npos) << r.status().message();

  // Account sequence gap.
  seg = lf::EncodeSegmentHeader();
  ASSERT_TRUE(lf::EncodeRecord(1, 1, "a", {"x"}, &seg).ok());
  ASSERT_TRUE(lf::EncodeRecord(2, 3, "a", {"z"}, &seg).ok());
  Spit(Segment(1), seg);
  EXPECT_EQ(EmbeddedLog::Open(dir_).status().code(), Status::Code::kCorruption);

  // A bad segment header.
  seg = lf::EncodeSegmentHeader();
  seg[3] = 'x';
  Spit(Segment(1), seg);
  EXPECT_EQ(EmbeddedLog::Open(dir_).status().code(), Status::Code::kCorruption);
}

TEST_F(EmbeddedLogTest, SecondOpenOfSameDirFails) {
  auto first = OpenOk();
  ASSERT_TRUE(first);
  auto second = EmbeddedLog::Open(dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(second.status().message().find(dir_), std::string::npos);
  EXPECT_NE(second.status().message().find("locked by another authledger process"), std::string::npos);
  first.reset();
  auto third = OpenOk();
  EXPECT_TRUE(third);
}

TEST_F(EmbeddedLogTest, OpenFromAnotherProcessFailsWhileLocked) {
  auto first = OpenOk();
  ASSERT_TRUE(first);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto r = EmbeddedLog::Open(dir_);
    ::_exit(!r.ok() && r.status().code() == Status::Code::kUnavailable ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(EmbeddedLogTest, WaitForAppendWakesAndTimesOut) {
  auto log = OpenOk();
  ASSERT_TRUE(log);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(log->WaitForHead(0, 50ms), 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);

  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(log->Append(Batch("a", 0, {"x", "y"})).ok());
  });
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(log->WaitForHead(0, 10s), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  writer.join();
  // Already past: returns at once.
  EXPECT_EQ(log->WaitForHead(1, 10s), 2u);

  std::thread waker([&] {
    std::this_thread::sleep_for(20ms);
    log->WakeAll();
  });
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(log->WaitForHead(2, 10s), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  waker.join();
}

TEST_F(EmbeddedLogTest, OversizeAndMalformedBatchesAreRejected) {
  auto log = OpenOk();
  ASSERT_TRUE(log);
  auto code = [&](AppendBatch b) { return log->Append(std::move(b)).status().code(); };
  EXPECT_EQ(code(Batch("a", 0, {std::string(17u << 20, 'x')})), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Batch("a", 0, std::vector<std::string>(10'001, "e"))), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Batch(std::string(129, 'a'), 0, {"e"})), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Batch("", 0, {"e"})), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Batch("a", 0, {})), Status::Code::kInvalidArgument);
  EXPECT_EQ(code(Batch("a", 0, {"ok", ""})), Status::Code::kInvalidArgument);
  EXPECT_EQ(log->Head(), 0u);
  EXPECT_EQ(fs::file_size(Segment(1)), lf::kSegmentHeaderSize);
  // The limits themselves are fine.
  auto r = log->Append(Batch(std::string(128, 'a'), 0, std::vector<std::string>(10'000, "e")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r.value(), 10'000u);
  EXPECT_EQ(ReadAll(*log, 9'999).size(), 2u);
}

// A segment write that fails (here: at the file size limit, after a short write) and is
// taken back durably stored nothing: IOError, not OutcomeUnknown, and a reopened log
// holds only what was acknowledged.
TEST_F(EmbeddedLogTest, FailedWriteTakenBackIsIOErrorAndStoresNothing) {
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->Append(Batch("a", 0, {"first"})).ok());
    const std::uintmax_t size = fs::file_size(Segment(1));
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit limited = old;
    limited.rlim_cur = size + 10;  // room for 10 bytes of the next record
    auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
    auto r = log->Append(Batch("a", 1, {std::string(100, 'x')}));
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, old_handler);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kIOError) << r.status().ToString();
    EXPECT_EQ(fs::file_size(Segment(1)), size);
    // Sticky until reopened.
    EXPECT_EQ(log->Append(Batch("a", 1, {"later"})).status().code(), Status::Code::kIOError);
    EXPECT_EQ(log->Head(), 1u);
  }
  auto log = OpenOk();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Head(), 1u);
  EXPECT_EQ(log->AccountSeq("a"), 1u);
  ASSERT_TRUE(log->Append(Batch("a", 1, {"second"})).ok());
  EXPECT_EQ(ReadAll(*log).size(), 2u);
}

TEST_F(EmbeddedLogTest, WithoutSyncTheFormatIsTheSame) {
  EmbeddedLogOptions opts;
  opts.sync = false;
  opts.segment_bytes = 200;
  {
    auto log = OpenOk(opts);
    ASSERT_TRUE(log);
    for (std::uint64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(log->Append(Batch("a", i, {"event number " + std::to_string(i)})).ok());
    }
    EXPECT_GT(log->SegmentCount(), 1u);
  }
  auto log = OpenOk();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->Head(), 10u);
  EXPECT_EQ(ReadAll(*log, 10).at(0).bytes, "event number 9");
}

TEST_F(EmbeddedLogTest, BadOptionsAreRejected) {
  EmbeddedLogOptions opts;
  opts.segment_bytes = 10;
  EXPECT_EQ(EmbeddedLog::Open(dir_, opts).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(EmbeddedLogTest, OnlyExactSegmentNamesAreSegments) {
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    ASSERT_TRUE(log->Append(Batch("a", 0, {"x"})).ok());
  }
  // Near misses of a segment name (not what SegmentName writes for any n >= 1)
  // are other files: the log opens as it was and leaves them alone.
  for (const char* stray :
       {"1.log", "0000002.log", "000000.log", "-00002.log", "+00002.log", " 00002.log", "00002a.log", "4294967296.log",
        "99999999999.log", "000002.LOG", "000002.log.bak", "000002", ".log"})
    Spit(fs::path(dir_) / stray, "stray");
  {
    auto log = OpenOk();
    ASSERT_TRUE(log);
    EXPECT_EQ(log->SegmentCount(), 1u);
    EXPECT_EQ(log->Head(), 1u);
  }
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "4294967296.log"));
  // The largest segment number is a segment: here one that does not follow 000001.log.
  Spit(fs::path(dir_) / "4294967295.log", "stray");
  auto r = EmbeddedLog::Open(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("segment 000002.log is missing (found 4294967295.log)"), std::string::npos)
      << r.status().message();
}

TEST_F(EmbeddedLogTest, StrayTempSegmentIsRemoved) {
  { ASSERT_TRUE(OpenOk()); }
  Spit(fs::path(dir_) / "000002.log.tmp", "ALEDG");
  auto log = OpenOk();
  ASSERT_TRUE(log);
  EXPECT_FALSE(fs::exists(fs::path(dir_) / "000002.log.tmp"));
  EXPECT_EQ(log->SegmentCount(), 1u);
}

}  // namespace
}  // namespace authledger
