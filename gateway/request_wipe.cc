#include "gateway/request_wipe.h"

#include "domain/crypto.h"

namespace authledger {

// The request is the server's own (non-const) object, handed to handlers as
// const: writing through the const_cast is defined, and its bytes are the ones to
// wipe (a copy would leave them).
void WipeAuthorization(const HttpRequest& req) {
  for (const auto& field : req) {
    if (field.name() != http::field::authorization) continue;
    const auto value = field.value();
    SecureWipe(const_cast<char*>(value.data()), value.size());
  }
}

void WipeBody(const HttpRequest& req) {
  const std::string& body = req.body();
  SecureWipe(const_cast<char*>(body.data()), body.size());
}

}  // namespace authledger
