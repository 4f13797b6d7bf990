// Fuzz target: redirect-URI validation (domain/redirect_uri.h). Any bytes: ValidateRedirectUri never
// crashes, answers OK or InvalidArgument, and whatever it accepts keeps the documented rules that can be
// checked from outside (length, scheme, no fragment, no whitespace or control characters, no wildcard).
// (That its message never quotes the URI holds by construction: it is made of literals only.)
#include <string>

#include "domain/redirect_uri.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace authledger;
  const std::string uri(fuzz::AsText(data, size));
  const Status s = ValidateRedirectUri(uri);
  if (!s.ok()) {
    FUZZ_CHECK(s.code() == Status::Code::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(uri.size() <= kMaxRedirectUriLength);
  FUZZ_CHECK(uri.rfind("https://", 0) == 0 || uri.rfind("http://", 0) == 0);
  FUZZ_CHECK(uri.find('#') == std::string::npos);
  FUZZ_CHECK(uri.find('*') == std::string::npos);
  for (unsigned char c : uri) FUZZ_CHECK(c > 0x20 && c != 0x7f);
  return 0;
}
