#include "domain/ids.h"

#include "domain/crypto.h"

namespace authledger {

std::string NewUuidV7(TimeMs now) {
  std::string b = RandomBytes(16);
  auto ms = static_cast<std::uint64_t>(now);
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<char>((ms >> (8 * (5 - i))) & 0xFF);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x70);  // version 7
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // variant 10
  std::string hex = ToHex(reinterpret_cast<const unsigned char*>(b.data()), b.size());
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  // No early exit: a branch-free loop is cheaper on the event-decoding hot path.
  bool ok = true;
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    ok &= dash ? c == '-' : ((c >= '0' && c <= '9') | (c >= 'a' && c <= 'f'));
  }
  return ok;
}

std::string NewAccountId() { return "acct_" + RandomBase62(12); }

bool IsAccountId(std::string_view s) { return s.size() == 17 && s.substr(0, 5) == "acct_" && IsBase62(s.substr(5)); }

std::string NewClientId() { return "clnt_" + RandomBase62(12); }

bool IsClientId(std::string_view s) { return s.size() == 17 && s.substr(0, 5) == "clnt_" && IsBase62(s.substr(5)); }

}  // namespace authledger
