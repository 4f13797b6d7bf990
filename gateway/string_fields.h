// StringFields: a request body whose fields are all strings, read without a
// JSON DOM. It exists for the verify hot path ({key, scope?, ip?}).
//
// Contract: Read(req, specs) answers exactly what JsonInput::Parse(req, names)
// followed by JsonInput::String(name, &value, required, max_len) for each spec,
// in order, answers — the same Status (code and message) on every input, and on
// success the same values:
//  - Content-Type, if present, must contain "json"; a body of only whitespace is
//    not an object; then the body must be one JSON value (RFC 8259, as nlohmann
//    reads it: an optional UTF-8 BOM first, strings of well-formed UTF-8, paired
//    surrogate escapes, numbers that are finite as doubles, any nesting; a NUL
//    byte where the next token would start ends the input), and an object; fields other than the specs' are refused,
//    the byte-wise smallest one named in the message; a field given twice counts with its last value.
//  - Per spec: absent or null is an error only if required; any other non-string
//    is an error; a decoded value longer than max_len bytes is an error.
// tests/unit/string_fields_test.cc holds it to this against JsonInput on
// generated and mutated bodies.
//
// Cost: on success, no allocation and one pass over the body. A value without
// escapes is a view into the body; one with escapes is decoded into storage
// inside this object, which is wiped when it is destroyed or read again (a value
// may be a secret). Views are valid while both the request and this object are.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "domain/status.h"
#include "gateway/http_types.h"

namespace authledger {

struct StringFieldSpec {
  std::string_view name;
  bool required = false;
  std::size_t max_len = 0;  // bytes of the decoded value
};

class StringFields {
 public:
  static constexpr std::size_t kMaxFields = 4;
  static constexpr std::size_t kScratchBytes = 512;  // the specs' max_len together must fit

  StringFields() = default;
  ~StringFields();
  StringFields(const StringFields&) = delete;
  StringFields& operator=(const StringFields&) = delete;

  // At most kMaxFields specs, with names free of '"' and '\'.
  Status Read(const HttpRequest& req, std::initializer_list<StringFieldSpec> specs);
  // The same, for a body and the value of its Content-Type field ("" if none).
  Status Read(std::string_view content_type, std::string_view body, std::initializer_list<StringFieldSpec> specs);

  // The value of the i-th spec after a successful Read; "" if absent or null.
  std::string_view operator[](std::size_t i) const { return values_[i]; }

 private:
  void Wipe();

  std::array<std::string_view, kMaxFields> values_{};
  std::size_t scratch_used_ = 0;
  std::array<char, kScratchBytes> scratch_;
};

}  // namespace authledger
