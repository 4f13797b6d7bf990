// An OAuth client's secret:  <brand>_cs_<43 base62 characters>  (256 bits from
// OpenSSL's CSPRNG). It is shown once, when it is created; only
// HashSecret(pepper, client id, secret) is stored or put in an event, exactly as
// for API keys (api_key.h).
#pragma once

#include <string>
#include <string_view>

#include "domain/crypto.h"

namespace authledger {

constexpr std::size_t kClientSecretRandomLength = 43;

struct NewClientSecret {
  std::string secret;  // the full text handed to the caller; wipe it when done
  Digest hash;         // HashSecret(pepper, client_id, secret)
};
NewClientSecret GenerateClientSecret(std::string_view brand, std::string_view client_id, std::string_view pepper);

}  // namespace authledger
