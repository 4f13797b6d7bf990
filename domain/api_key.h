// The API key format.
//
//   <brand>_<env>_<key id><secret><checksum>
//   al_live_7f3aQ9cXb2Lm  4kP...(33)...  0aZ9Xc
//
//  - brand:    configurable, [a-z][a-z0-9]{1,9} ("al" by default)
//  - env:      "live" or "test"
//  - key id:   12 base62 characters, public: shown in lists, logs and events
//  - secret:   33 base62 characters from OpenSSL's CSPRNG (196 bits)
//  - checksum: 6 base62 characters of CRC-32 over everything before it, so typos
//              and truncations are rejected before any lookup and secret
//              scanners can match the pattern exactly.
//
// Only HashSecret(pepper, key id, secret) is ever stored or put in an event.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/crypto.h"
#include "domain/status.h"

namespace authledger {

enum class KeyEnvironment { kLive, kTest };
std::string_view EnvironmentName(KeyEnvironment e);
std::optional<KeyEnvironment> ParseEnvironment(std::string_view s);

constexpr std::size_t kKeyIdLength = 12;
constexpr std::size_t kSecretLength = 33;
constexpr std::size_t kChecksumLength = 6;

// A key split into its parts. Views point into the string that was parsed.
struct ParsedKey {
  std::string_view brand;
  KeyEnvironment environment;
  std::string_view key_id;
  std::string_view secret;
};

bool IsValidBrand(std::string_view brand);
bool IsKeyId(std::string_view s);

// Checks shape and checksum only (no lookup). InvalidArgument explains what is wrong
// without echoing the secret.
Result<ParsedKey> ParseApiKey(std::string_view key);

// Freshly generated key material: the full key (shown to the user once), its id
// and the keyed hash that is stored.
struct NewKeyMaterial {
  std::string full_key;
  std::string key_id;
  Digest secret_hash;
};
NewKeyMaterial GenerateApiKey(std::string_view brand, KeyEnvironment env, std::string_view pepper);

// Assembles a key from parts (used by GenerateApiKey and by tests).
std::string FormatApiKey(std::string_view brand, KeyEnvironment env, std::string_view key_id, std::string_view secret);

// HMAC-SHA256(pepper, key_id ":" secret).
Digest HashSecret(std::string_view pepper, std::string_view key_id, std::string_view secret);
// The same with a pre-keyed pepper (the hot path).
Digest HashSecret(const HmacSha256Key& pepper, std::string_view key_id, std::string_view secret);

}  // namespace authledger
