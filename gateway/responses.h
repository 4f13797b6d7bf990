// Response builders. JSON bodies, the ledger position of writes, and RFC 9457
// problem details: every error the gateway returns is
// application/problem+json with "type" (/problems/<slug>), "title", "status",
// "detail" (a useful sentence, never a secret) and "instance" (the request path,
// with the query dropped and any segment long enough to be a key redacted).
#pragma once

#include <string>
#include <string_view>

#include "domain/status.h"
#include "gateway/http_types.h"

namespace authledger {

HttpResponse Problem(const HttpRequest& req, http::status status, std::string_view slug, std::string_view title,
                     std::string_view detail);
// The request path for problems and logs: no query string, and every segment
// longer than 32 characters (long enough to be a pasted key) or not a valid URI
// path segment (RFC 3986: a bad %-escape, a space, a quote...) as "_redacted_",
// so the result is always a URI reference; "/" for a target that is not a path
// (absolute-form, "*").
std::string RedactedPath(std::string_view target);
// Maps a Status from the layers below to its HTTP problem.
HttpResponse ProblemFromStatus(const HttpRequest& req, const Status& s);
// A JSON response with the given status (application/json).
HttpResponse JsonResponse(const HttpRequest& req, http::status status, std::string body);
// Header carrying the ledger position of a write's last event; a later read may
// send it back as X-Min-Position to be answered as of at least that position.
inline constexpr const char* kPositionHeader = "X-Ledger-Position";
inline constexpr const char* kMinPositionHeader = "X-Min-Position";
inline constexpr const char* kActorEmailHeader = "X-Actor-Email";  // the person a key acts for

}  // namespace authledger
