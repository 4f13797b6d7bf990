#include "domain/api_key.h"

namespace authledger {

std::string_view EnvironmentName(KeyEnvironment e) { return e == KeyEnvironment::kLive ? "live" : "test"; }

std::optional<KeyEnvironment> ParseEnvironment(std::string_view s) {
  if (s == "live") return KeyEnvironment::kLive;
  if (s == "test") return KeyEnvironment::kTest;
  return std::nullopt;
}

bool IsValidBrand(std::string_view b) {
  if (b.size() < 2 || b.size() > 10 || b[0] < 'a' || b[0] > 'z') return false;
  for (char c : b)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

bool IsKeyId(std::string_view s) { return s.size() == kKeyIdLength && IsBase62(s); }

std::string FormatApiKey(std::string_view brand, KeyEnvironment env, std::string_view key_id, std::string_view secret) {
  std::string key;
  key.reserve(brand.size() + 6 + key_id.size() + secret.size() + kChecksumLength);
  key.append(brand).append("_").append(EnvironmentName(env)).append("_").append(key_id).append(secret);
  key += Base62Fixed(Crc32(key), static_cast<int>(kChecksumLength));
  return key;
}

Result<ParsedKey> ParseApiKey(std::string_view key) {
  constexpr std::size_t kTail = kKeyIdLength + kSecretLength + kChecksumLength;
  auto first = key.find('_');
  if (first == std::string_view::npos || key.size() > 10 + 6 + kTail)  // longest brand + "_test_" + tail
    return Status::InvalidArgument("not an API key: expected <brand>_<live|test>_<id><secret><checksum>");
  std::string_view brand = key.substr(0, first);
  if (!IsValidBrand(brand)) return Status::InvalidArgument("not an API key: bad brand prefix");
  auto second = key.find('_', first + 1);
  if (second == std::string_view::npos) return Status::InvalidArgument("not an API key: missing environment");
  auto env = ParseEnvironment(key.substr(first + 1, second - first - 1));
  if (!env) return Status::InvalidArgument("not an API key: environment must be live or test");
  std::string_view tail = key.substr(second + 1);
  if (tail.size() != kTail) return Status::InvalidArgument("not an API key: wrong length");
  if (!IsBase62(tail)) return Status::InvalidArgument("not an API key: invalid character");
  std::string_view body = key.substr(0, key.size() - kChecksumLength);
  std::uint64_t want = 0;
  ParseBase62(tail.substr(kKeyIdLength + kSecretLength), &want);
  if (want != Crc32(body)) return Status::InvalidArgument("API key checksum mismatch (typo or truncated key?)");
  return ParsedKey{brand, *env, tail.substr(0, kKeyIdLength), tail.substr(kKeyIdLength, kSecretLength)};
}

Digest HashSecret(const HmacSha256Key& pepper, std::string_view key_id, std::string_view secret) {
  return pepper.Mac({key_id, ":", secret});
}

Digest HashSecret(std::string_view pepper, std::string_view key_id, std::string_view secret) {
  return HashSecret(HmacSha256Key(pepper), key_id, secret);
}

NewKeyMaterial GenerateApiKey(std::string_view brand, KeyEnvironment env, std::string_view pepper) {
  std::string key_id = RandomBase62(kKeyIdLength);
  std::string secret = RandomBase62(kSecretLength);
  NewKeyMaterial m{FormatApiKey(brand, env, key_id, secret), key_id, HashSecret(pepper, key_id, secret)};
  SecureWipe(secret);
  return m;
}

}  // namespace authledger
