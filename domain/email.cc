#include "domain/email.h"

#include <cstring>

namespace authledger {

namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool IsAtext(char c) { return IsAlnum(c) || (c != '\0' && std::strchr("!#$%&'*+/=?^_`{|}~-", c) != nullptr); }

Status Bad(const char* why) { return Status::InvalidArgument(std::string("email address ") + why); }

}  // namespace

Result<std::string> NormalizeEmail(std::string_view address) {
  if (address.empty()) return Bad("is empty");
  if (address.size() > 254) return Bad("is longer than 254 bytes");
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos) return Bad("has no '@'");
  const std::string_view local = address.substr(0, at), domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64) return Bad("needs a local part of 1 to 64 characters before '@'");
  char prev = '.';
  for (char c : local) {
    if (c == '.' ? prev == '.' : !IsAtext(c))
      return Bad(
          "has a character its local part may not hold (letters, digits, !#$%&'*+/=?^_`{|}~- and single inner dots)");
    prev = c;
  }
  if (prev == '.') return Bad("has a local part ending with '.'");
  std::string out(local);
  out += '@';
  std::size_t labels = 0, len = 0;
  prev = '.';
  for (char c : domain) {
    if (c == '.') {
      if (len == 0 || prev == '-') return Bad("has an empty domain label or one ending with '-'");
      ++labels;
      len = 0;
    } else {
      if (!IsAlnum(c) && !(c == '-' && len > 0)) return Bad("has a domain that is not letters, digits, '-' and '.'");
      if (++len > 63) return Bad("has a domain label longer than 63 characters");
      c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    out += c;
    prev = c;
  }
  if (len == 0 || prev == '-') return Bad("has an empty domain label or one ending with '-'");
  if (++labels < 2) return Bad("needs a domain with at least two labels (example.com)");
  return out;
}

}  // namespace authledger
