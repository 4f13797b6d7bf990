// ByteWriter / ByteReader: the primitives of the read models' binary values.
//
// Integers are little-endian (fixed width) or LEB128 varints; a string is its
// length (u16 LE for Str16, varint for Str) followed by its bytes. A reader
// never reads past its input: the first short or malformed read clears ok()
// and every later read returns zero values, so a decoder checks ok() (and,
// usually, done()) once at the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace authledger {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}
  void U8(std::uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void U16(std::uint16_t v) { Fixed(v, 2); }
  void U32(std::uint32_t v) { Fixed(v, 4); }
  void U64(std::uint64_t v) { Fixed(v, 8); }
  void I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>((v & 0x7F) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void Bytes(std::string_view b) { out_->append(b); }
  // Callers keep Str16 strings below 64 KiB (ids, scopes, CIDRs).
  void Str16(std::string_view s) {
    U16(static_cast<std::uint16_t>(s.size()));
    Bytes(s);
  }
  void Str(std::string_view s) {
    Varint(s.size());
    Bytes(s);
  }

 private:
  void Fixed(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  std::string* out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }

  std::string_view Take(std::size_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    std::string_view b = in_.substr(0, n);
    in_.remove_prefix(n);
    return b;
  }
  std::uint8_t U8() { return static_cast<std::uint8_t>(Fixed(1)); }
  std::uint16_t U16() { return static_cast<std::uint16_t>(Fixed(2)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Fixed(4)); }
  std::uint64_t U64() { return Fixed(8); }
  std::int64_t I64() { return static_cast<std::int64_t>(U64()); }
  std::uint64_t Varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::string_view b = Take(1);
      if (!ok_) return 0;
      const auto c = static_cast<unsigned char>(b[0]);
      v |= static_cast<std::uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    ok_ = false;  // more than 10 bytes
    return 0;
  }
  std::string_view Str16View() { return Take(U16()); }
  std::string_view StrView() {
    const std::uint64_t n = Varint();
    return n > in_.size() ? Fail() : Take(static_cast<std::size_t>(n));
  }
  std::string Str16() { return std::string(Str16View()); }
  std::string Str() { return std::string(StrView()); }
  // A count of items that each take at least one byte: more than remain is damage.
  std::size_t Count() {
    const std::uint64_t n = Varint();
    if (n <= in_.size()) return static_cast<std::size_t>(n);
    Fail();
    return 0;
  }

 private:
  std::string_view Fail() {
    ok_ = false;
    return {};
  }
  std::uint64_t Fixed(int n) {
    std::string_view b = Take(static_cast<std::size_t>(n));
    if (!ok_) return 0;
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<std::size_t>(i)]);
    return v;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace authledger
