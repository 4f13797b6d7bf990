#include "gateway/router.h"

#include <algorithm>
#include <stdexcept>

#include "gateway/responses.h"

namespace authledger {

namespace {
std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(const std::string& seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }
}  // namespace

bool UrlDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+') {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool RequestContext::QueryParam(std::string_view name, std::string* value) const {
  std::string_view q = query;
  while (!q.empty()) {
    std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    std::size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    if (k == name) {
      std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      return UrlDecode(v, value);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return false;
}

void Router::Add(http::verb method, std::string pattern, HandlerKind kind, Handler handler) {
  if (kind == HandlerKind::kStream || kind == HandlerKind::kAsync)
    throw std::invalid_argument("Router::Add: streaming and asynchronous routes use AddStream and AddAsync");
  auto segments = Split(pattern);
  routes_.push_back(
      Route{method, std::move(pattern), std::move(segments), kind, std::move(handler), nullptr, nullptr, nullptr});
}

void Router::AddStream(http::verb method, std::string pattern, StreamHandler handler) {
  auto segments = Split(pattern);
  routes_.push_back(Route{method, std::move(pattern), std::move(segments), HandlerKind::kStream, nullptr,
                          std::move(handler), nullptr, nullptr});
}

void Router::AddAsync(http::verb method, std::string pattern, AsyncHandler handler) {
  auto segments = Split(pattern);
  routes_.push_back(Route{method, std::move(pattern), std::move(segments), HandlerKind::kAsync, nullptr, nullptr,
                          std::move(handler), nullptr});
}

void Router::AddJsonBody(http::verb method, std::string pattern, JsonBodyHandler handler) {
  auto segments = Split(pattern);
  routes_.push_back(Route{method, std::move(pattern), std::move(segments), HandlerKind::kInline, nullptr, nullptr,
                          nullptr, std::move(handler)});
}

Router::Match Router::Find(const HttpRequest& req, std::string_view path) const {
  Match m;
  auto segs = Split(path);
  std::string allow;
  // Literal routes win over parameterised ones: GET /v1/keys/verify is a 405 on
  // the verify route, not a lookup of a key called "verify".
  for (int pass = 0; pass < 2 && allow.empty(); ++pass) {
    for (const Route& r : routes_) {
      bool literal = std::none_of(r.segments.begin(), r.segments.end(), IsParam);
      if (literal != (pass == 0) || r.segments.size() != segs.size()) continue;
      std::vector<std::string> params;
      bool ok = true;
      for (std::size_t i = 0; i < segs.size() && ok; ++i) {
        if (IsParam(r.segments[i])) {
          std::string decoded;
          if (!UrlDecode(segs[i], &decoded) || decoded.empty() || decoded.size() > 256) ok = false;
          else params.push_back(std::move(decoded));
        } else {
          ok = r.segments[i] == segs[i];
        }
      }
      if (!ok) continue;
      if (r.method != req.method()) {
        if (!allow.empty()) allow += ", ";
        allow += std::string(http::to_string(r.method));
        continue;
      }
      if (r.kind == HandlerKind::kStream) m.stream = &r.stream;
      else if (r.kind == HandlerKind::kAsync) m.async = &r.async;
      else if (r.json_body) m.json_body = &r.json_body;
      else m.handler = &r.handler;
      m.kind = r.kind;
      m.params = std::move(params);
      m.endpoint = std::string(http::to_string(r.method)) + " " + r.pattern;
      return m;
    }
  }
  if (!allow.empty()) {
    m.error = Problem(req, http::status::method_not_allowed, "method-not-allowed", "Method not allowed",
                      "this resource supports: " + allow);
    m.error.set(http::field::allow, allow);
  } else {
    m.error = Problem(req, http::status::not_found, "not-found", "Not found", "no endpoint at " + RedactedPath(path));
  }
  return m;
}

}  // namespace authledger
