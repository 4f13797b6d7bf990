// CanonicalJsonReader: a pull parser for the canonical JSON that nlohmann's dump()
// writes (no whitespace, integers as plain digits, strings UTF-8 with the minimal
// escapes). It exists to decode stored events without building a DOM.
//
// Contract:
//  - Everything it accepts is valid JSON (RFC 8259) and means what nlohmann's
//    parser would make of it; it rejects a lot of valid JSON (whitespace, floats,
//    exponents, integers that do not fit, \u escapes of non-ASCII code points).
//    A caller that gets `false` falls back to a full JSON parser.
//  - Any byte sequence is safe input: no read outside the view, no exception, no
//    allocation beyond the caller's outputs, recursion bounded by kMaxDepth.
//  - A call that returns false (or Step::kError) may have consumed input, and the
//    reader is then only good for being discarded; ConsumeKey() is the exception.
//  - Strings: raw bytes 0x20..0x7F except '"' and '\', well-formed UTF-8 (the same
//    rules as nlohmann's lexer), and the escapes \" \\ \/ \b \f \n \r \t and
//    \uXXXX for code points below U+0080.
//  - Integers: -?(0|[1-9][0-9]*) followed by neither '.', 'e', 'E' nor a digit.
//
// The reader does not own the bytes; they must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace authledger {

class CanonicalJsonReader {
 public:
  // Nesting SkipValue() follows; deeper input is rejected.
  static constexpr int kMaxDepth = 32;

  explicit CanonicalJsonReader(std::string_view in) : in_(in) {}

  // Result of stepping through an object or array.
  enum class Step { kItem, kEnd, kError };

  // Consumes '{'.
  bool BeginObject() { return Consume('{'); }
  // Call right after BeginObject() and after each member's value. Consumes the '}'
  // (kEnd) or the ',' before a further member (kItem: the caller reads its key).
  Step NextMember() { return NextItem('{', '}'); }
  // A member's `"key":`; escape-free keys only.
  bool ReadKey(std::string_view* key);
  // Consumes `"<key>":` if that comes next, else nothing. `key` holds no '"' or '\'.
  bool ConsumeKey(std::string_view key);
  // Consumes '['.
  bool BeginArray() { return Consume('['); }
  // Call right after BeginArray() and after each element. Consumes the ']' (kEnd)
  // or the ',' before a further element (kItem: the caller reads the element).
  Step NextElement() { return NextItem('[', ']'); }

  // A string value, unescaped, replaces *out.
  bool ReadString(std::string* out);
  // A string value without any escape, as a view into the input.
  bool ReadStringView(std::string_view* out);
  // An integer in [0, UINT64_MAX].
  bool ReadUint64(std::uint64_t* out);
  // An integer in [INT64_MIN, INT64_MAX].
  bool ReadInt64(std::int64_t* out);
  // An array of strings, appended to *out.
  bool ReadStringArray(std::vector<std::string>* out);
  // Any one value (object, array, string, integer, true, false, null), validated
  // as above; *raw (if not null) is set to its bytes.
  bool SkipValue(std::string_view* raw = nullptr);

  // True when every byte has been consumed.
  bool AtEnd() const { return pos_ == in_.size(); }

 private:
  bool Consume(char c) {
    if (pos_ >= in_.size() || in_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  Step NextItem(char open, char close);
  // Validates the string starting at the opening quote and consumes it; *body is
  // the text between the quotes, *escaped whether it holds a backslash.
  bool ScanString(std::string_view* body, bool* escaped);
  // Magnitude digits of an integer: false on overflow past `max` or a non-canonical form.
  bool ReadMagnitude(std::uint64_t max, std::uint64_t* out);
  bool Skip(int depth);

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace authledger
