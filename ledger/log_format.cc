#include "ledger/log_format.h"

#include <limits>

#include "domain/crypto.h"

namespace authledger::logformat {
namespace {

void PutU16(std::string* dst, std::uint16_t v) {
  char b[2] = {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  dst->append(b, 2);
}

void PutU32(std::string* dst, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  dst->append(b, 4);
}

void PutU64(std::string* dst, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  dst->append(b, 8);
}

void StoreU32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

std::uint64_t LoadLE(const char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// A bounds-checked little-endian reader over a byte view.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  bool U16(std::uint16_t* v) { return Fixed(2, v); }
  bool U32(std::uint32_t* v) { return Fixed(4, v); }
  bool U64(std::uint64_t* v) { return Fixed(8, v); }
  bool Bytes(std::size_t n, std::string_view* v) {
    if (in_.size() - pos_ < n) return false;
    *v = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  template <typename T>
  bool Fixed(int n, T* v) {
    if (in_.size() - pos_ < static_cast<std::size_t>(n)) return false;
    *v = static_cast<T>(LoadLE(in_.data() + pos_, n));
    pos_ += n;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string EncodeSegmentHeader() {
  std::string h(kSegmentMagic);
  PutU32(&h, kFormatVersion);
  PutU32(&h, Crc32(h));
  return h;
}

Status DecodeSegmentHeader(std::string_view in) {
  if (in.size() < kSegmentHeaderSize) {
    return Status::Corruption("segment header is " + std::to_string(in.size()) + " bytes, expected " +
                              std::to_string(kSegmentHeaderSize));
  }
  if (in.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return Status::Corruption("not a ledger segment (bad magic)");
  }
  const auto crc = static_cast<std::uint32_t>(LoadLE(in.data() + 12, 4));
  if (crc != Crc32(in.substr(0, 12))) {
    return Status::Corruption("segment header checksum mismatch");
  }
  const auto version = static_cast<std::uint32_t>(LoadLE(in.data() + 8, 4));
  if (version != kFormatVersion) {
    return Status::FailedPrecondition("segment format version " + std::to_string(version) +
                                      " is not supported (this build reads version " + std::to_string(kFormatVersion) +
                                      ")");
  }
  return Status::Ok();
}

Status CheckRecord(std::string_view account_id, const std::vector<std::string_view>& events, std::size_t* record_size) {
  if (account_id.empty()) return Status::InvalidArgument("ledger batch has an empty account id");
  if (account_id.size() > kMaxAccountIdSize) {
    return Status::InvalidArgument("ledger batch account id is " + std::to_string(account_id.size()) +
                                   " bytes, limit " + std::to_string(kMaxAccountIdSize));
  }
  if (events.empty()) return Status::InvalidArgument("ledger batch has no events");
  if (events.size() > kMaxEventsPerRecord) {
    return Status::InvalidArgument("ledger batch has " + std::to_string(events.size()) + " events, limit " +
                                   std::to_string(kMaxEventsPerRecord));
  }
  std::size_t size = kRecordHeaderSize + kBodyFixedSize + account_id.size();
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].empty()) {
      return Status::InvalidArgument("ledger batch event " + std::to_string(i) + " is empty");
    }
    // Each term is < 2^32 and there are <= 10'000 of them: no overflow of size_t.
    size += 4 + events[i].size();
    if (events[i].size() > kMaxRecordSize || size > kMaxRecordSize) {
      return Status::InvalidArgument("ledger batch exceeds " + std::to_string(kMaxRecordSize) + " bytes");
    }
  }
  *record_size = size;
  return Status::Ok();
}

Status EncodeRecord(std::uint64_t first_position, std::uint64_t account_seq_first, std::string_view account_id,
                    const std::vector<std::string_view>& events, std::string* dst) {
  std::size_t size = 0;
  Status s = CheckRecord(account_id, events, &size);
  if (!s.ok()) return s;
  if (first_position == 0 || account_seq_first == 0) {
    return Status::InvalidArgument("record position and account sequence start at 1");
  }
  const std::uint64_t n = events.size();
  if (first_position > std::numeric_limits<std::uint64_t>::max() - n ||
      account_seq_first > std::numeric_limits<std::uint64_t>::max() - n) {
    return Status::InvalidArgument("record position or account sequence overflows");
  }
  const std::size_t start = dst->size();
  dst->reserve(start + size);
  PutU32(dst, 0);  // crc, patched below
  PutU32(dst, static_cast<std::uint32_t>(size - kRecordHeaderSize));
  PutU64(dst, first_position);
  PutU64(dst, account_seq_first);
  PutU16(dst, static_cast<std::uint16_t>(account_id.size()));
  dst->append(account_id);
  PutU32(dst, static_cast<std::uint32_t>(events.size()));
  for (std::string_view e : events) {
    PutU32(dst, static_cast<std::uint32_t>(e.size()));
    dst->append(e);
  }
  const std::uint32_t crc = Crc32(std::string_view(*dst).substr(start + 4, size - 4));
  StoreU32(dst->data() + start, crc);
  return Status::Ok();
}

Status DecodeRecordSize(std::string_view header, std::size_t* record_size) {
  if (header.size() < kRecordHeaderSize) {
    return Status::InvalidArgument("record header needs " + std::to_string(kRecordHeaderSize) + " bytes");
  }
  const std::uint64_t length = LoadLE(header.data() + 4, 4);
  if (length < kMinRecordBodySize || length > kMaxRecordSize - kRecordHeaderSize) {
    return Status::Corruption("record length " + std::to_string(length) + " is out of bounds");
  }
  *record_size = kRecordHeaderSize + static_cast<std::size_t>(length);
  return Status::Ok();
}

Status DecodeRecord(std::string_view in, RecordView* out) {
  std::size_t size = 0;
  if (in.size() < kRecordHeaderSize) return Status::Corruption("record is truncated");
  Status s = DecodeRecordSize(in, &size);
  if (!s.ok()) return s;
  if (size != in.size()) {
    return Status::Corruption("record length " + std::to_string(size) + " does not match " + std::to_string(in.size()) +
                              " available bytes");
  }
  const auto crc = static_cast<std::uint32_t>(LoadLE(in.data(), 4));
  if (crc != Crc32(in.substr(4))) return Status::Corruption("record checksum mismatch");

  Cursor c(in.substr(kRecordHeaderSize));
  std::uint16_t id_len = 0;
  std::uint32_t count = 0;
  if (!c.U64(&out->first_position) || !c.U64(&out->account_seq_first) || !c.U16(&id_len)) {
    return Status::Corruption("record body is truncated");
  }
  if (out->first_position == 0) return Status::Corruption("record position is 0");
  if (out->account_seq_first == 0) return Status::Corruption("record account sequence is 0");
  if (id_len == 0 || id_len > kMaxAccountIdSize) {
    return Status::Corruption("record account id length " + std::to_string(id_len) + " is out of bounds");
  }
  if (!c.Bytes(id_len, &out->account_id) || !c.U32(&count)) {
    return Status::Corruption("record body is truncated");
  }
  if (count == 0 || count > kMaxEventsPerRecord) {
    return Status::Corruption("record event count " + std::to_string(count) + " is out of bounds");
  }
  if (out->first_position > std::numeric_limits<std::uint64_t>::max() - count ||
      out->account_seq_first > std::numeric_limits<std::uint64_t>::max() - count) {
    return Status::Corruption("record position or account sequence overflows");
  }
  out->events.clear();
  out->events.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t len = 0;
    std::string_view e;
    if (!c.U32(&len) || len == 0 || !c.Bytes(len, &e)) {
      return Status::Corruption("record event " + std::to_string(i) + " is malformed");
    }
    out->events.push_back(e);
  }
  if (c.remaining() != 0) {
    return Status::Corruption("record has " + std::to_string(c.remaining()) + " trailing bytes");
  }
  return Status::Ok();
}

}  // namespace authledger::logformat
