// Wiping what a request presented, once it has been checked: the API key in
// `Authorization: Bearer` (the management and operations endpoints) and the body
// of POST /v1/keys/verify (the key being verified). The bytes are overwritten in
// place (SecureWipe) in the request the server owns: no allocation, a pass over a
// few hundred bytes. Afterwards the header value or body reads as that many NUL
// bytes, so call it only once nothing reads them again.
//
// Not reached from here (decisions.md 49): the raw bytes in the connection's read
// buffer (Beast's flat_buffer, overwritten by the next request on the connection),
// and an event stream's header, which stays readable for the stream's life because
// the stream verifies its key again as it goes.
#pragma once

#include "gateway/http_types.h"

namespace authledger {

// Overwrites the value of every Authorization field of `req`.
void WipeAuthorization(const HttpRequest& req);
// Overwrites the body of `req`.
void WipeBody(const HttpRequest& req);

}  // namespace authledger
