#include "gateway/responses.h"

#include <cctype>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace authledger {

HttpResponse JsonResponse(const HttpRequest& req, http::status status, std::string body) {
  HttpResponse res{status, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

namespace {
// True if `seg` is a path segment as RFC 3986 writes it: pchar = unreserved /
// pct-encoded / sub-delims / ":" / "@".
bool IsPathSegment(std::string_view seg) {
  static constexpr std::string_view kAllowed = "-._~!$&'()*+,;=:@";
  const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = 0; i < seg.size(); ++i) {
    const char c = seg[i];
    if (c == '%') {
      if (i + 2 >= seg.size() || !hex(seg[i + 1]) || !hex(seg[i + 2])) return false;
      i += 2;
    } else if (!std::isalnum(static_cast<unsigned char>(c)) && kAllowed.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}
}  // namespace

std::string RedactedPath(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() != '/') return "/";
  std::string out;
  std::size_t i = 0;
  while (i < path.size() && out.size() < 200) {
    std::size_t j = path.find('/', i + 1);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);  // includes its leading '/'
    out.append(seg.size() > 33 || !IsPathSegment(seg.substr(1)) ? std::string_view("/_redacted_") : seg);
    i = j;
  }
  return out;
}

HttpResponse Problem(const HttpRequest& req, http::status status, std::string_view slug, std::string_view title,
                     std::string_view detail) {
  std::string_view target(req.target().data(), req.target().size());
  nlohmann::json j = {{"type", "/problems/" + std::string(slug)},
                      {"title", title},
                      {"status", static_cast<int>(status)},
                      {"detail", detail},
                      {"instance", RedactedPath(target)}};
  HttpResponse res{status, req.version()};
  res.set(http::field::content_type, "application/problem+json");
  res.set(http::field::cache_control, "no-store");
  res.body() = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

HttpResponse ProblemFromStatus(const HttpRequest& req, const Status& s) {
  using C = Status::Code;
  switch (s.code()) {
    case C::kInvalidArgument:
      return Problem(req, http::status::bad_request, "invalid-request", "Invalid request", s.message());
    case C::kNotFound: return Problem(req, http::status::not_found, "not-found", "Not found", s.message());
    case C::kAlreadyExists:
      return Problem(req, http::status::conflict, "already-exists", "Already exists", s.message());
    case C::kConflict: return Problem(req, http::status::conflict, "conflict", "Conflict", s.message());
    case C::kFailedPrecondition:
      return Problem(req, http::status::unprocessable_entity, "not-allowed-now", "Not allowed in the current state",
                     s.message());
    case C::kPermissionDenied: return Problem(req, http::status::forbidden, "forbidden", "Forbidden", s.message());
    case C::kUnauthenticated:
      return Problem(req, http::status::unauthorized, "unauthenticated", "Unauthenticated", s.message());
    case C::kResourceExhausted:
      return Problem(req, http::status::too_many_requests, "rate-limited", "Too many requests", s.message());
    case C::kUnavailable: {
      auto res = Problem(req, http::status::service_unavailable, "unavailable", "Temporarily unavailable", s.message());
      res.set(http::field::retry_after, "1");
      return res;
    }
    case C::kOutcomeUnknown: {
      // Still 503 + Retry-After (the write did not complete; repeating a revoke or a scope
      // change is safe), but its own problem type: the client can tell, without reading
      // the detail, that the write may have happened and a create must be looked up first.
      auto res = Problem(req, http::status::service_unavailable, "outcome-unknown", "Outcome unknown", s.message());
      res.set(http::field::retry_after, "1");
      return res;
    }
    default:
      // Path only (a query string could carry anything); Status messages never carry secrets.
      spdlog::error("{} {}: {}", std::string(req.method_string()),
                    RedactedPath(std::string_view(req.target().data(), req.target().size())), s.ToString());
      // Corruption, I/O and internal errors: no internals in the response.
      return Problem(req, http::status::internal_server_error, "internal", "Internal error",
                     "the server could not complete the request; see the server log");
  }
}

}  // namespace authledger
