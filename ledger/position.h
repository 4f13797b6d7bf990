// Positions and cursors: where an event sits in the ledger, and how far a reader
// has got.
//
// The ledger is a set of partitions (the embedded log has one; a Kafka topic has
// its partition count). Every account lives in exactly one partition
// (ledger/partitioner.h), so one account's events are totally ordered; events of
// different partitions have no order between them.
//
// A Position names one event: its partition and its offset in that partition
// (1, 2, 3, ...; Kafka offset + 1). It is one 64-bit number, partition in the
// bits above kOffsetBits, so in a one-partition ledger a position is simply the
// event's number, and any position stays below 2^53 (exact as a JSON number).
// Positions compare meaningfully only within one partition.
//
// A Cursor is a reader's progress: for every partition, the offset of the last
// event it has consumed (0: none). Cursor::Encode is the stored form (8 bytes
// big-endian per partition, so a one-partition cursor is 8 bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace authledger {

using Position = std::uint64_t;

inline constexpr unsigned kOffsetBits = 48;
inline constexpr std::uint32_t kMaxPartitions = 32;  // keeps every Position < 2^53

constexpr Position MakePosition(std::uint32_t partition, std::uint64_t offset) {
  return (static_cast<Position>(partition) << kOffsetBits) | offset;
}
constexpr std::uint32_t PartitionOf(Position p) { return static_cast<std::uint32_t>(p >> kOffsetBits); }
constexpr std::uint64_t OffsetOf(Position p) { return p & ((Position{1} << kOffsetBits) - 1); }

// "12" in partition 0, "3:12" in partition 3 (for messages; the wire form is the number).
std::string PositionToString(Position p);

class Cursor {
 public:
  explicit Cursor(std::uint32_t partitions = 1) : offsets_(partitions, 0) {}

  std::uint32_t partitions() const { return static_cast<std::uint32_t>(offsets_.size()); }
  std::uint64_t offset(std::uint32_t partition) const { return offsets_.at(partition); }
  // The position of the last event consumed in `partition` (offset 0 if none).
  Position at(std::uint32_t partition) const { return MakePosition(partition, offsets_.at(partition)); }

  // Records that the event at `p` was consumed (its partition's offset becomes OffsetOf(p)).
  void Advance(Position p) { offsets_.at(PartitionOf(p)) = OffsetOf(p); }
  // True if the event at `p` has been consumed (false for a partition this cursor lacks).
  bool Covers(Position p) const { return PartitionOf(p) < offsets_.size() && offsets_[PartitionOf(p)] >= OffsetOf(p); }
  // True if every partition is at least as far as in `other`.
  bool CoversAll(const Cursor& other) const;
  // Events consumed in all partitions together (progress reports).
  std::uint64_t Total() const;

  std::string Encode() const;
  // False if `bytes` is not a cursor of `partitions` partitions.
  static bool Decode(std::string_view bytes, std::uint32_t partitions, Cursor* out);
  // "12" for one partition; "0:12,1:7,..." otherwise.
  std::string ToString() const;

  bool operator==(const Cursor&) const = default;

 private:
  std::vector<std::uint64_t> offsets_;
};

}  // namespace authledger
