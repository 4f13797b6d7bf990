// Pure encode/decode of the embedded ledger's segment files (docs/ledger-format.md).
//
// Contract: no I/O, no allocation beyond the output strings, no global state.
// Encoders refuse inputs that break the documented limits with InvalidArgument and
// never produce bytes the decoders would reject. Decoders never read outside the
// given view and report damaged bytes as Corruption with a short reason (callers
// add the file name and offset). A decoded RecordView points into the input bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"

namespace authledger::logformat {

// Segment header: magic(8) | version u32 | crc32 of the 12 bytes before it u32.
inline constexpr std::string_view kSegmentMagic = "ALEDGER1";
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 16;

// Record: crc32 u32 | length u32 | body (length bytes). The crc covers [4, 8+length).
inline constexpr std::size_t kRecordHeaderSize = 8;
// first_position + account_seq_first + account_id_len + event_count.
inline constexpr std::size_t kBodyFixedSize = 8 + 8 + 2 + 4;
// One-byte account id, one one-byte event.
inline constexpr std::size_t kMinRecordBodySize = kBodyFixedSize + 1 + 4 + 1;
inline constexpr std::size_t kMinRecordSize = kRecordHeaderSize + kMinRecordBodySize;

// Limits of one record (= one appended batch).
inline constexpr std::size_t kMaxRecordSize = 16u << 20;  // whole record, header included
inline constexpr std::size_t kMaxEventsPerRecord = 10'000;
inline constexpr std::size_t kMaxAccountIdSize = 128;

std::string EncodeSegmentHeader();
// OK for a valid header of kFormatVersion; Corruption for a short input, bad magic or
// bad checksum; FailedPrecondition for a well-formed header of another version.
Status DecodeSegmentHeader(std::string_view in);

// Checks a batch against the limits above; on success sets *record_size to the number
// of bytes EncodeRecord will append.
Status CheckRecord(std::string_view account_id, const std::vector<std::string_view>& events, std::size_t* record_size);

// Appends one encoded record to *dst. first_position and account_seq_first must be >= 1.
Status EncodeRecord(std::uint64_t first_position, std::uint64_t account_seq_first, std::string_view account_id,
                    const std::vector<std::string_view>& events, std::string* dst);

// Reads the length field of the record starting at `header` (at least
// kRecordHeaderSize bytes, else InvalidArgument) and sets *record_size to the size of
// the whole record, header included. Corruption if the length is out of bounds. Does
// not verify the checksum: the body may not have been read yet.
Status DecodeRecordSize(std::string_view header, std::size_t* record_size);

struct RecordView {
  std::uint64_t first_position = 0;
  std::uint64_t account_seq_first = 0;
  std::string_view account_id;
  std::vector<std::string_view> events;

  std::uint64_t last_position() const { return first_position + events.size() - 1; }
  std::uint64_t account_seq_last() const { return account_seq_first + events.size() - 1; }
};

// Decodes one whole record: `in` must be exactly the record's bytes (its size as given
// by DecodeRecordSize). Verifies checksum, bounds and that the fields consume the body
// exactly. On Corruption *out is unspecified.
Status DecodeRecord(std::string_view in, RecordView* out);

}  // namespace authledger::logformat
