#include "ledger/position.h"

namespace authledger {

std::string PositionToString(Position p) {
  if (PartitionOf(p) == 0) return std::to_string(OffsetOf(p));
  return std::to_string(PartitionOf(p)) + ":" + std::to_string(OffsetOf(p));
}

bool Cursor::CoversAll(const Cursor& other) const {
  if (other.offsets_.size() > offsets_.size()) return false;
  for (std::size_t i = 0; i < other.offsets_.size(); ++i)
    if (offsets_[i] < other.offsets_[i]) return false;
  return true;
}

std::uint64_t Cursor::Total() const {
  std::uint64_t n = 0;
  for (auto o : offsets_) n += o;
  return n;
}

std::string Cursor::Encode() const {
  std::string out;
  out.reserve(offsets_.size() * 8);
  for (std::uint64_t o : offsets_)
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((o >> shift) & 0xff));
  return out;
}

bool Cursor::Decode(std::string_view bytes, std::uint32_t partitions, Cursor* out) {
  if (partitions == 0 || bytes.size() != std::size_t{partitions} * 8) return false;
  Cursor c(partitions);
  for (std::uint32_t p = 0; p < partitions; ++p) {
    std::uint64_t o = 0;
    for (int i = 0; i < 8; ++i) o = (o << 8) | static_cast<unsigned char>(bytes[p * 8 + i]);
    if (o >> kOffsetBits) return false;
    c.offsets_[p] = o;
  }
  *out = std::move(c);
  return true;
}

std::string Cursor::ToString() const {
  if (offsets_.size() == 1) return std::to_string(offsets_[0]);
  std::string s;
  for (std::size_t i = 0; i < offsets_.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(i) + ":" + std::to_string(offsets_[i]);
  }
  return s;
}

}  // namespace authledger
