// Fuzz target: the API key parser (domain/api_key.h). Any bytes: ParseApiKey never crashes, and a key
// it accepts is made of valid parts and is exactly what FormatApiKey writes for them (so the checksum
// really covers the key).
#include <string>

#include "domain/api_key.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace authledger;
  const std::string input(fuzz::AsText(data, size));
  (void)ParseEnvironment(input);
  (void)IsValidBrand(input);
  (void)IsKeyId(input);
  auto parsed = ParseApiKey(input);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == Status::Code::kInvalidArgument);
    return 0;
  }
  const ParsedKey& k = parsed.value();
  FUZZ_CHECK(IsValidBrand(k.brand));
  FUZZ_CHECK(IsKeyId(k.key_id));
  FUZZ_CHECK(k.secret.size() == kSecretLength);
  FUZZ_CHECK(FormatApiKey(k.brand, k.environment, k.key_id, k.secret) == input);
  return 0;
}
