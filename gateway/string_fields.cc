#include "gateway/string_fields.h"

#include <string.h>  // explicit_bzero

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace authledger {

namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
std::uint8_t Byte(char c) { return static_cast<std::uint8_t>(c); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits of a \u escape at `p` (which has at least 4 bytes), or -1.
int Hex4(const char* p) {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    int d = HexValue(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Calls sink(byte) for each byte of the string body `raw` (between the quotes,
// already validated by Scanner::String) with its escapes decoded.
template <typename Sink>
void Decode(std::string_view raw, Sink&& sink) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') {
      sink(c);
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'b': sink('\b'); break;
      case 'f': sink('\f'); break;
      case 'n': sink('\n'); break;
      case 'r': sink('\r'); break;
      case 't': sink('\t'); break;
      case 'u': {
        std::uint32_t cp = static_cast<std::uint32_t>(Hex4(raw.data() + i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate; validation saw its low half
          std::uint32_t low = static_cast<std::uint32_t>(Hex4(raw.data() + i + 3));
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (cp < 0x80) {
          sink(static_cast<char>(cp));
        } else if (cp < 0x800) {
          sink(static_cast<char>(0xC0 | (cp >> 6)));
          sink(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          sink(static_cast<char>(0xE0 | (cp >> 12)));
          sink(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          sink(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          sink(static_cast<char>(0xF0 | (cp >> 18)));
          sink(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          sink(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          sink(static_cast<char>(0x80 | (cp & 0x3F)));
        }
        break;
      }
      default: sink(e); break;  // '"', '\\', '/'
    }
  }
}

std::size_t DecodedSize(std::string_view raw, bool escaped) {
  if (!escaped) return raw.size();
  std::size_t n = 0;
  Decode(raw, [&](char) { ++n; });
  return n;
}

std::string DecodeToString(std::string_view raw, bool escaped) {
  if (!escaped) return std::string(raw);
  std::string out;
  Decode(raw, [&](char c) { out.push_back(c); });
  return out;
}

// Validating scanner over the body: each method consumes one token or value and
// returns false where nlohmann's parser reports a parse error.
class Scanner {
 public:
  explicit Scanner(std::string_view in) : in_(in) {}

  void SkipWs() {
    while (pos_ < in_.size() && IsWs(in_[pos_])) ++pos_;
  }
  // The next byte, or '\0' at the end.
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  // Where a token could start, nlohmann reads a NUL byte as the end of the input
  // (what follows it is never looked at); anywhere else a NUL is an error.
  bool AtEnd() const { return Peek() == '\0'; }
  bool Consume(char c) {
    if (pos_ >= in_.size() || in_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // nlohmann skips a UTF-8 byte order mark at the very start, and rejects a
  // partial one.
  bool SkipBom() {
    if (Peek() != '\xEF') return true;
    if (in_.size() < 3 || in_[1] != '\xBB' || in_[2] != '\xBF') return false;
    pos_ = 3;
    return true;
  }

  // A string at '"'. *raw: the bytes between the quotes; *escaped: whether they
  // hold a backslash.
  bool String(std::string_view* raw, bool* escaped) {
    if (!Consume('"')) return false;
    const std::size_t start = pos_;
    bool esc = false;
    for (;;) {
      if (pos_ >= in_.size()) return false;
      const std::uint8_t c = Byte(in_[pos_]);
      if (c == '"') break;
      if (c == '\\') {
        esc = true;
        if (!Escape()) return false;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++pos_;
      } else if (!Utf8()) {
        return false;
      }
    }
    *raw = in_.substr(start, pos_ - start);
    *escaped = esc;
    ++pos_;  // the closing quote
    return true;
  }

  // A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? whose value as a
  // double is finite (nlohmann refuses what overflows).
  bool Number() {
    const std::size_t start = pos_;
    Consume('-');
    std::size_t int_digits = 0;
    if (Consume('0')) {
      int_digits = 1;
    } else {
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++pos_, ++int_digits;
    }
    if (Consume('.')) {
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++pos_;
    }
    bool exponent = false;
    if (Peek() == 'e' || Peek() == 'E') {
      exponent = true;
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!IsDigit(Peek())) return false;
      while (IsDigit(Peek())) ++pos_;
    }
    // Below 10^308 without an exponent: finite. Otherwise ask strtod, as nlohmann
    // does (the process never changes the C locale).
    if (!exponent && int_digits <= 308) return true;
    const std::string text(in_.substr(start, pos_ - start));
    return std::isfinite(std::strtod(text.c_str(), nullptr));
  }

  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Any one value, nested to any depth (nlohmann sets no limit; the body limit
  // bounds it), without recursion.
  bool SkipValue() {
    std::vector<bool> open;  // true: an object; allocated only for nested values
    for (;;) {
      // A value.
      SkipWs();
      switch (Peek()) {
        case '{':
          ++pos_;
          SkipWs();
          if (Consume('}')) break;
          open.push_back(true);
          if (!MemberKey()) return false;
          continue;
        case '[':
          ++pos_;
          SkipWs();
          if (Consume(']')) break;
          open.push_back(false);
          continue;
        case '"': {
          std::string_view raw;
          bool escaped;
          if (!String(&raw, &escaped)) return false;
          break;
        }
        case 't':
          if (!Literal("true")) return false;
          break;
        case 'f':
          if (!Literal("false")) return false;
          break;
        case 'n':
          if (!Literal("null")) return false;
          break;
        default:
          if (Peek() != '-' && !IsDigit(Peek())) return false;
          if (!Number()) return false;
      }
      // After a value: close containers until one continues.
      for (;;) {
        if (open.empty()) return true;
        SkipWs();
        if (Consume(',')) {
          if (open.back() && !MemberKey()) return false;
          break;
        }
        if (!Consume(open.back() ? '}' : ']')) return false;
        open.pop_back();
      }
    }
  }

 private:
  // `"key" :` of an object member, before its value.
  bool MemberKey() {
    SkipWs();
    std::string_view raw;
    bool escaped;
    if (!String(&raw, &escaped)) return false;
    SkipWs();
    return Consume(':');
  }

  // An escape at '\'.
  bool Escape() {
    ++pos_;
    if (pos_ >= in_.size()) return false;
    switch (in_[pos_]) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't': ++pos_; return true;
      case 'u': break;
      default: return false;
    }
    ++pos_;
    const int cp = HexAt(pos_);
    if (cp < 0) return false;
    pos_ += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
    if (cp < 0xD800 || cp > 0xDBFF) return true;
    // A high surrogate: a low one must follow.
    if (!Consume('\\') || !Consume('u')) return false;
    const int low = HexAt(pos_);
    if (low < 0xDC00 || low > 0xDFFF) return false;
    pos_ += 4;
    return true;
  }

  int HexAt(std::size_t at) const { return at + 4 <= in_.size() ? Hex4(in_.data() + at) : -1; }

  // One well-formed UTF-8 sequence of 2 to 4 bytes (RFC 3629, as nlohmann checks).
  bool Utf8() {
    const std::uint8_t c = Byte(in_[pos_]);
    std::uint8_t lo = 0x80, hi = 0xBF;  // the range of the second byte
    std::size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (pos_ + n > in_.size()) return false;
    const std::uint8_t second = Byte(in_[pos_ + 1]);
    if (second < lo || second > hi) return false;
    for (std::size_t i = 2; i < n; ++i) {
      const std::uint8_t b = Byte(in_[pos_ + i]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    pos_ += n;
    return true;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

Status NotJson() { return Status::InvalidArgument("request body is not valid JSON"); }
Status NotAnObject() { return Status::InvalidArgument("request body must be a JSON object"); }

}  // namespace

StringFields::~StringFields() { Wipe(); }

void StringFields::Wipe() {
  if (scratch_used_ > 0) explicit_bzero(scratch_.data(), scratch_used_);
  scratch_used_ = 0;
  values_ = {};
}

Status StringFields::Read(const HttpRequest& req, std::initializer_list<StringFieldSpec> specs) {
  auto ct = req[http::field::content_type];
  return Read(std::string_view(ct.data(), ct.size()), req.body(), specs);
}

Status StringFields::Read(std::string_view content_type, std::string_view body,
                          std::initializer_list<StringFieldSpec> specs) {
  Wipe();
  std::size_t scratch_needed = 0;
  for (const auto& spec : specs) scratch_needed += spec.max_len;
  if (specs.size() > kMaxFields || scratch_needed > kScratchBytes)
    return Status::Internal("StringFields: too many fields, or too long");

  if (!content_type.empty() && content_type.find("json") == std::string_view::npos)
    return Status::InvalidArgument("Content-Type must be application/json");
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return NotAnObject();
  Scanner in(body);
  if (!in.SkipBom()) return NotJson();
  in.SkipWs();
  if (in.Peek() != '{') {
    if (!in.SkipValue()) return NotJson();
    in.SkipWs();
    return in.AtEnd() ? NotAnObject() : NotJson();
  }
  in.Consume('{');

  // The last occurrence of each wanted field.
  enum class Kind { kAbsent, kNull, kString, kOther };
  struct Seen {
    Kind kind = Kind::kAbsent;
    std::string_view raw;
    bool escaped = false;
  };
  std::array<Seen, kMaxFields> seen{};
  bool unknown = false;
  std::string first_unknown;  // the byte-wise smallest unknown name, as the DOM's map orders them

  in.SkipWs();
  if (!in.Consume('}')) {
    for (;;) {
      std::string_view key;
      bool key_escaped;
      in.SkipWs();
      if (!in.String(&key, &key_escaped)) return NotJson();
      // Which spec it names, comparing decoded names.
      std::size_t field = kMaxFields;
      std::size_t i = 0;
      for (const auto& spec : specs) {
        bool same;
        if (!key_escaped) {
          same = key == spec.name;
        } else {
          std::size_t n = 0;
          same = true;
          Decode(key, [&](char c) {
            same = same && n < spec.name.size() && spec.name[n] == c;
            ++n;
          });
          same = same && n == spec.name.size();
        }
        if (same) {
          field = i;
          break;
        }
        ++i;
      }
      in.SkipWs();
      if (!in.Consume(':')) return NotJson();
      in.SkipWs();
      if (field < kMaxFields) {
        Seen& s = seen[field];
        s = Seen{};
        if (in.Peek() == '"') {
          if (!in.String(&s.raw, &s.escaped)) return NotJson();
          s.kind = Kind::kString;
        } else if (in.Peek() == 'n') {
          if (!in.Literal("null")) return NotJson();
          s.kind = Kind::kNull;
        } else {
          if (!in.SkipValue()) return NotJson();
          s.kind = Kind::kOther;
        }
      } else {
        std::string name = DecodeToString(key, key_escaped);
        if (!unknown || name < first_unknown) first_unknown = std::move(name);
        unknown = true;
        if (!in.SkipValue()) return NotJson();
      }
      in.SkipWs();
      if (in.Consume(',')) continue;
      if (in.Consume('}')) break;
      return NotJson();
    }
  }
  in.SkipWs();
  if (!in.AtEnd()) return NotJson();

  if (unknown) {
    std::string shown = first_unknown.size() > 64 ? first_unknown.substr(0, 64) + "..." : first_unknown;
    return Status::InvalidArgument("unknown field '" + shown + "'");
  }
  std::size_t i = 0;
  for (const auto& spec : specs) {
    const Seen& s = seen[i];
    auto problem = [&](std::string_view what) {
      return Status::InvalidArgument("field '" + std::string(spec.name) + "' " + std::string(what));
    };
    if (s.kind == Kind::kAbsent || s.kind == Kind::kNull) {
      if (spec.required) return problem("is required");
    } else if (s.kind == Kind::kOther) {
      return problem("must be a string");
    } else if (DecodedSize(s.raw, s.escaped) > spec.max_len) {
      return problem("is longer than " + std::to_string(spec.max_len) + " characters");
    } else if (!s.escaped) {
      values_[i] = s.raw;
    } else {
      char* out = scratch_.data() + scratch_used_;
      std::size_t n = 0;
      Decode(s.raw, [&](char c) { out[n++] = c; });
      scratch_used_ += n;
      values_[i] = std::string_view(out, n);
    }
    ++i;
  }
  return Status::Ok();
}

}  // namespace authledger
