#include "domain/client_secret.h"

#include "domain/api_key.h"

namespace authledger {

NewClientSecret GenerateClientSecret(std::string_view brand, std::string_view client_id, std::string_view pepper) {
  NewClientSecret s;
  s.secret.reserve(brand.size() + 4 + kClientSecretRandomLength);
  std::string random = RandomBase62(kClientSecretRandomLength);
  s.secret.append(brand).append("_cs_").append(random);
  SecureWipe(random);
  s.hash = HashSecret(pepper, client_id, s.secret);
  return s;
}

}  // namespace authledger
