#include "domain/canonical_json.h"

#include <array>
#include <cstring>
#include <limits>

namespace authledger {

namespace {

int HexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code point of the 4 hex digits at p (p + 4 <= end checked by the caller), or -1.
int HexQuad(const unsigned char* p) {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    int h = HexValue(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Nonzero iff one of the 8 bytes at p is '"', '\\', a control character or non-ASCII
// (the bit tricks of "Bit Twiddling Hacks": determine if a word has a byte less than n).
std::uint64_t SpecialBytes(const unsigned char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  auto has_zero = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  return has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) | ((w - kOnes * 0x20) & ~w & kHigh) | (w & kHigh);
}

// Bytes a string holds as they are: 0x20..0x7F but '"' and '\\'.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

bool InRange(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

// Length of the well-formed multi-byte UTF-8 sequence at p (lead byte >= 0x80), or 0.
// The table of RFC 3629 section 4, as nlohmann's lexer applies it.
std::size_t Utf8Length(const unsigned char* p, const unsigned char* end) {
  const std::size_t avail = static_cast<std::size_t>(end - p);
  const unsigned char c = p[0];
  if (InRange(c, 0xC2, 0xDF)) return avail >= 2 && InRange(p[1], 0x80, 0xBF) ? 2 : 0;
  if (InRange(c, 0xE0, 0xEF)) {
    if (avail < 3 || !InRange(p[2], 0x80, 0xBF)) return 0;
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return InRange(p[1], lo, hi) ? 3 : 0;
  }
  if (InRange(c, 0xF0, 0xF4)) {
    if (avail < 4 || !InRange(p[2], 0x80, 0xBF) || !InRange(p[3], 0x80, 0xBF)) return 0;
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return InRange(p[1], lo, hi) ? 4 : 0;
  }
  return 0;  // 0x80..0xC1, 0xF5..0xFF
}

// The byte a one-character escape stands for, or 0 if `c` is not one.
char SimpleEscape(unsigned char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
  }
}

// Unescapes a body ScanString() validated.
void Unescape(std::string_view body, std::string* out) {
  out->clear();
  out->reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\') {
      out->push_back(body[i]);
      continue;
    }
    const auto e = static_cast<unsigned char>(body[++i]);
    if (e == 'u') {
      out->push_back(static_cast<char>(HexQuad(reinterpret_cast<const unsigned char*>(body.data()) + i + 1)));
      i += 4;
    } else {
      out->push_back(SimpleEscape(e));
    }
  }
}

}  // namespace

CanonicalJsonReader::Step CanonicalJsonReader::NextItem(char open, char close) {
  if (Consume(close)) return Step::kEnd;
  // Right after the opening bracket the previous byte is that bracket; no value ends with one.
  const bool first = pos_ > 0 && in_[pos_ - 1] == open;
  if (!first && !Consume(',')) return Step::kError;
  return Step::kItem;
}

bool CanonicalJsonReader::ReadKey(std::string_view* key) {
  bool escaped = false;
  return ScanString(key, &escaped) && !escaped && Consume(':');
}

bool CanonicalJsonReader::ConsumeKey(std::string_view key) {
  const std::size_t n = key.size();
  if (in_.size() - pos_ < n + 3 || in_[pos_] != '"' || in_[pos_ + n + 1] != '"' || in_[pos_ + n + 2] != ':')
    return false;
  // Keys are short: a plain loop beats a call to memcmp.
  for (std::size_t i = 0; i < n; ++i) {
    if (in_[pos_ + 1 + i] != key[i]) return false;
  }
  pos_ += n + 3;
  return true;
}

bool CanonicalJsonReader::ScanString(std::string_view* body, bool* escaped) {
  if (!Consume('"')) return false;
  const auto* const base = reinterpret_cast<const unsigned char*>(in_.data());
  const unsigned char* p = base + pos_;
  const unsigned char* const end = base + in_.size();
  *escaped = false;
  for (;;) {
    while (end - p >= 8 && SpecialBytes(p) == 0) p += 8;
    while (p < end && kPlain[*p]) ++p;
    if (p == end) return false;  // no closing quote
    const unsigned char c = *p;
    if (c == '"') {
      *body = in_.substr(pos_, static_cast<std::size_t>(p - base) - pos_);
      pos_ = static_cast<std::size_t>(p - base) + 1;
      return true;
    } else if (c == '\\') {
      *escaped = true;
      if (end - p < 2) return false;
      if (p[1] == 'u') {
        // \uXXXX below U+0080 only: anything else is valid JSON this reader declines.
        if (end - p < 6) return false;
        int cp = HexQuad(p + 2);
        if (cp < 0 || cp >= 0x80) return false;
        p += 6;
      } else {
        if (SimpleEscape(p[1]) == 0) return false;
        p += 2;
      }
    } else if (c < 0x20) {
      return false;
    } else {
      std::size_t n = Utf8Length(p, end);
      if (n == 0) return false;
      p += n;
    }
  }
}

bool CanonicalJsonReader::ReadString(std::string* out) {
  std::string_view body;
  bool escaped = false;
  if (!ScanString(&body, &escaped)) return false;
  if (escaped) {
    Unescape(body, out);
  } else {
    out->assign(body);
  }
  return true;
}

bool CanonicalJsonReader::ReadStringView(std::string_view* out) {
  bool escaped = false;
  return ScanString(out, &escaped) && !escaped;
}

bool CanonicalJsonReader::ReadMagnitude(std::uint64_t max, std::uint64_t* out) {
  const std::size_t start = pos_;
  while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
  const std::size_t n = pos_ - start;
  // 20 digits may overflow 64 bits; 19 never do.
  if (n == 0 || n > 20 || (n > 1 && in_[start] == '0')) return false;
  // A fraction or an exponent would make it a float.
  if (pos_ < in_.size() && (in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E')) return false;
  std::uint64_t v = 0;
  for (std::size_t i = start; i < pos_; ++i) {
    const auto d = static_cast<std::uint64_t>(in_[i] - '0');
    if (i - start == 19 && v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  if (v > max) return false;
  *out = v;
  return true;
}

bool CanonicalJsonReader::ReadUint64(std::uint64_t* out) {
  return ReadMagnitude(std::numeric_limits<std::uint64_t>::max(), out);
}

bool CanonicalJsonReader::ReadInt64(std::int64_t* out) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t m = 0;
  if (Consume('-')) {
    if (!ReadMagnitude(kMax + 1, &m)) return false;
    *out = m == kMax + 1 ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(m);
    return true;
  }
  if (!ReadMagnitude(kMax, &m)) return false;
  *out = static_cast<std::int64_t>(m);
  return true;
}

bool CanonicalJsonReader::ReadStringArray(std::vector<std::string>* out) {
  if (!BeginArray()) return false;
  for (;;) {
    switch (NextElement()) {
      case Step::kEnd: return true;
      case Step::kError: return false;
      case Step::kItem:
        if (!ReadString(&out->emplace_back())) return false;
    }
  }
}

bool CanonicalJsonReader::SkipValue(std::string_view* raw) {
  const std::size_t start = pos_;
  if (!Skip(0)) return false;
  if (raw != nullptr) *raw = in_.substr(start, pos_ - start);
  return true;
}

bool CanonicalJsonReader::Skip(int depth) {
  if (pos_ >= in_.size() || depth >= kMaxDepth) return false;
  switch (in_[pos_]) {
    case '"': {
      std::string_view body;
      bool escaped = false;
      return ScanString(&body, &escaped);
    }
    case '{': {
      ++pos_;
      std::string_view key;
      for (;;) {
        switch (NextMember()) {
          case Step::kEnd: return true;
          case Step::kError: return false;
          case Step::kItem:
            if (!ReadKey(&key) || !Skip(depth + 1)) return false;
        }
      }
    }
    case '[': {
      ++pos_;
      for (;;) {
        switch (NextElement()) {
          case Step::kEnd: return true;
          case Step::kError: return false;
          case Step::kItem:
            if (!Skip(depth + 1)) return false;
        }
      }
    }
    case 't':
    case 'f':
    case 'n':
      for (std::string_view word : {"true", "false", "null"}) {
        if (in_.substr(pos_).starts_with(word)) {
          pos_ += word.size();
          return true;
        }
      }
      return false;
    default: {
      std::int64_t i = 0;
      std::uint64_t u = 0;
      const std::size_t start = pos_;
      if (ReadInt64(&i)) return true;
      pos_ = start;
      return ReadUint64(&u);
    }
  }
}

}  // namespace authledger
