// The bad-input catalogue (issue 13): malformed requests on every route — bodies,
// headers, paths, methods, encodings — each answered by its documented 4xx
// problem+json, and the ledger unchanged byte for byte afterwards.
//
// One row per case, with a name, so a failure names the case. A row is sent
// either through the test client (its exchange is dumped for the schema suite,
// which checks the status is documented for the operation) or, when the bytes on
// the wire are the point (duplicate or broken framing headers, encodings), as raw
// bytes on a fresh connection. In the texts {ADMIN}, {RO}, {KID} and {CID} stand
// for the admin key, a key holding only monitors:read, that key's id and an OAuth
// client's id.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "domain/crypto.h"
#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Case {
  std::string name{};
  std::string method{};
  std::string target{};
  std::string body{};
  Headers headers{};     // sent as given; Authorization: Bearer {ADMIN} is added unless one is here or auth is false
  int status = 400;      // the answer
  std::string type{};    // its problem type, /problems/<type>
  std::string detail{};  // a part of its detail ("" = any)
  bool auth = true;      // add the admin key
  bool raw = false;      // send the request as bytes on a fresh connection (Connection: close)
  std::string allow{};   // for 405: the Allow header's methods, sorted, comma-separated
};

std::string Repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

std::string Replace(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [from, to] : vars)
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  return s;
}

// A response read off a raw connection: status, lower-case headers, body.
HttpResult ParseRaw(const std::string& bytes) {
  HttpResult r;
  const std::size_t end = bytes.find("\r\n\r\n");
  if (bytes.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos) return r;
  r.status = std::stoi(bytes.substr(9, 3));
  std::istringstream head(bytes.substr(0, end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  r.body = bytes.substr(end + 4, std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length")));
  return r;
}

// Sends `bytes` on a fresh connection and returns what comes back until the server
// closes it (or 5 s pass). The server may answer and close before it has read
// everything (413, 431): a failed send is not an error, the answer is what counts.
std::string SendRaw(unsigned short port, const std::string& bytes) {
  const int fd = ConnectLoopback(port);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

// SHA-256 of every file under `dir`, by relative path.
std::map<std::string, std::string> HashFiles(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out[std::filesystem::relative(e.path(), dir).string()] = ToHex(Sha256(bytes));
  }
  return out;
}

std::string SortedList(std::string list) {
  std::vector<std::string> items;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    items.push_back(item);
  }
  std::sort(items.begin(), items.end());
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// --- the catalogue

// Wrong methods on every route: 405 and the route's methods in Allow.
void AddMethods(std::vector<Case>& c) {
  const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> routes = {
      {"/v1/keys", "GET,POST", {"PUT", "PATCH", "DELETE"}},
      {"/v1/keys/{KID}", "DELETE,GET", {"POST", "PUT", "PATCH"}},
      {"/v1/keys/{KID}/rotate", "POST", {"GET", "PUT", "DELETE"}},
      {"/v1/keys/{KID}/scopes", "POST", {"GET", "PUT", "DELETE"}},
      {"/v1/keys/{KID}/scopes/monitors:read", "DELETE", {"GET", "POST", "PUT"}},
      {"/v1/keys/verify", "POST", {"GET", "PUT", "DELETE"}},
      {"/v1/oauth/clients", "GET,POST", {"PUT", "PATCH", "DELETE"}},
      {"/v1/oauth/clients/{CID}", "DELETE,GET", {"POST", "PUT", "PATCH"}},
      {"/v1/oauth/clients/{CID}/rotate-secret", "POST", {"GET", "PUT", "DELETE"}},
      {"/v1/audit-log", "GET", {"POST", "PUT", "DELETE"}},
      {"/v1/audit/public-key", "GET", {"POST", "DELETE"}},
      {"/v1/events", "GET", {"POST", "DELETE"}},
      {"/healthz", "GET", {"POST"}},
      {"/readyz", "GET", {"DELETE"}},
      {"/metrics", "GET", {"PUT"}},
  };
  for (const auto& [target, allow, methods] : routes)
    for (const auto& m : methods)
      c.push_back({.name = m + " " + target,
                   .method = m,
                   .target = target,
                   .body = m == "GET" ? "" : "{}",
                   .status = 405,
                   .type = "method-not-allowed",
                   .detail = "this resource supports",
                   .allow = allow});
  c.push_back({.name = "lower-case method",
               .method = "get",
               .target = "/v1/keys",
               .status = 405,
               .type = "method-not-allowed",
               .raw = true,
               .allow = "GET,POST"});
}

// Request bodies: syntax, types, missing and unknown fields, sizes, encodings.
void AddBodies(std::vector<Case>& c) {
  const std::string scopes = R"("scopes":["monitors:read"])";
  const std::string deep = Repeat("[", 30000) + Repeat("]", 30000);
  auto create = [&](std::string name, std::string body, std::string detail = "") {
    c.push_back({.name = "create: " + name,
                 .method = "POST",
                 .target = "/v1/keys",
                 .body = std::move(body),
                 .type = "invalid-request",
                 .detail = std::move(detail)});
  };
  create("invalid JSON", R"({"name":"a",)" + scopes, "not valid JSON");
  create("truncated", R"({"name":)", "not valid JSON");
  create("trailing garbage", R"({"name":"a",)" + scopes + "} x", "not valid JSON");
  create("array, not object", "[1,2]", "must be a JSON object");
  create("string, not object", R"("keys")", "must be a JSON object");
  create("null", "null", "must be a JSON object");
  create("whitespace only", " \r\n\t ", "must be a JSON object");
  create("name a number", R"({"name":5,)" + scopes + "}", "'name' must be a string");
  create("name an object", R"({"name":{"a":1},)" + scopes + "}", "'name' must be a string");
  create("scopes a string", R"({"name":"a","scopes":"monitors:read"})", "'scopes' must be an array");
  create("scopes of numbers", R"({"name":"a","scopes":[1,2]})", "'scopes' must be an array");
  create("scopes of null", R"({"name":"a","scopes":[null]})", "'scopes' must be an array");
  create("missing name", "{" + scopes + "}", "'name' is required");
  create("missing scopes", R"({"name":"a"})", "'scopes' is required");
  create("empty object", "{}", "is required");
  create("unknown field", R"({"name":"a",)" + scopes + R"(,"admin":true})", "unknown field 'admin'");
  create("unknown field, long name", R"({"name":"a",)" + scopes + ",\"" + Repeat("x", 5000) + "\":1}", "unknown field");
  create("unknown scope", R"({"name":"a","scopes":["monitors:delete"]})", "monitors:delete");
  create("empty name", R"({"name":"",)" + scopes + "}");
  create("name of 101 characters", R"({"name":")" + Repeat("n", 101) + "\"," + scopes + "}");
  create("name over the field limit", R"({"name":")" + Repeat("n", 5000) + "\"," + scopes + "}", "longer than");
  create("name with a control character", R"({"name":"a\u0007b",)" + scopes + "}");
  create("name with an escaped NUL", R"({"name":"a\u0000b",)" + scopes + "}");
  create("raw NUL inside a string", std::string(R"({"name":"a)") + '\0' + "b\"," + scopes + "}", "not valid JSON");
  create("raw NUL before the object ends", std::string(R"({"name":"a")") + '\0' + "," + scopes + "}", "not valid JSON");
  create("bad UTF-8", "{\"name\":\"\xff\xfe\"," + scopes + "}", "not valid JSON");
  create("overlong UTF-8 encoding", "{\"name\":\"\xc0\xaf\"," + scopes + "}", "not valid JSON");
  create("lone surrogate escape", R"({"name":"\ud800",)" + scopes + "}", "not valid JSON");
  create("environment unknown", R"({"name":"a",)" + scopes + R"(,"environment":"prod"})");
  create("environment a number", R"({"name":"a",)" + scopes + R"(,"environment":1e400})");
  create("expires_at not a time", R"({"name":"a",)" + scopes + R"(,"expires_at":"tomorrow"})", "RFC 3339");
  create("expires_at a number", R"({"name":"a",)" + scopes + R"(,"expires_at":1767225600})", "must be a string");
  create("CIDR prefix too long", R"({"name":"a",)" + scopes + R"(,"allowed_cidrs":["10.0.0.0/33"]})");
  create("CIDR not an address", R"({"name":"a",)" + scopes + R"(,"allowed_cidrs":["not-a-cidr"]})");
  create("too many CIDRs",
         R"({"name":"a",)" + scopes + R"(,"allowed_cidrs":[)" + Repeat(R"("10.0.0.0/8",)", 32) + R"("10.0.0.0/8"]})",
         "more than 32");
  create("too many scopes", R"({"name":"a","scopes":[)" + Repeat(R"("monitors:read",)", 64) + R"("alerts:read"]})",
         "more than 64");
  create("scope over the field limit", R"({"name":"a","scopes":[")" + Repeat("s", 65) + R"("]})", "longer than");
  create("nesting 30,000 deep", R"({"name":)" + deep + "," + scopes + "}");
  create("nesting deep, no object", deep, "must be a JSON object");
  create("huge number", R"({"name":)" + Repeat("9", 400) + "," + scopes + "}");

  c.push_back({.name = "create: body over max_body_bytes",
               .method = "POST",
               .target = "/v1/keys",
               .body = R"({"name":")" + Repeat("x", 70 * 1024) + "\"," + scopes + "}",
               .status = 413,
               .type = "body-too-large"});
  c.push_back({.name = "create: Content-Type text/plain",
               .method = "POST",
               .target = "/v1/keys",
               .body = R"({"name":"a",)" + scopes + "}",
               .headers = {{"Content-Type", "text/plain"}},
               .type = "invalid-request",
               .detail = "Content-Type"});
  c.push_back({.name = "create: Content-Type form",
               .method = "POST",
               .target = "/v1/keys",
               .body = "name=a&scopes=monitors:read",
               .headers = {{"Content-Type", "application/x-www-form-urlencoded"}},
               .type = "invalid-request",
               .detail = "Content-Type"});

  auto verify = [&](std::string name, std::string body, std::string detail = "", int status = 400,
                    std::string type = "invalid-request") {
    c.push_back({.name = "verify: " + name,
                 .method = "POST",
                 .target = "/v1/keys/verify",
                 .body = std::move(body),
                 .status = status,
                 .type = std::move(type),
                 .detail = std::move(detail),
                 .auth = false});
  };
  verify("invalid JSON", R"({"key":)", "not valid JSON");
  verify("not an object", R"(["al_live_x"])", "must be a JSON object");
  verify("empty body", "", "must be a JSON object");
  verify("missing key", R"({"scope":"monitors:read"})", "'key' is required");
  verify("key a number", R"({"key":12})", "'key' must be a string");
  verify("key null", R"({"key":null})", "'key' is required");
  verify("key over 128 bytes", R"({"key":")" + Repeat("k", 129) + "\"}", "longer than");
  verify("scope an array", R"({"key":"{RO}","scope":["monitors:read"]})", "'scope' must be a string");
  verify("ip not an address", R"({"key":"{RO}","ip":"999.0.0.1"})", "'ip' must be an IPv4 or IPv6");
  verify("ip a CIDR", R"({"key":"{RO}","ip":"10.0.0.0/8"})", "'ip' must be an IPv4 or IPv6");
  verify("unknown field", R"({"key":"{RO}","account":"x"})", "unknown field 'account'");
  verify("bad UTF-8", "{\"key\":\"\xe2\x28\xa1\"}", "not valid JSON");
  verify("nesting 30,000 deep", R"({"key":)" + deep + "}");
  verify("body over max_body_bytes", R"({"key":")" + Repeat("k", 70 * 1024) + "\"}", "", 413, "body-too-large");
  c.push_back({.name = "verify: Content-Type text/plain",
               .method = "POST",
               .target = "/v1/keys/verify",
               .body = R"({"key":"{RO}"})",
               .headers = {{"Content-Type", "text/plain"}},
               .type = "invalid-request",
               .detail = "Content-Type",
               .auth = false});

  auto on = [&](std::string name, std::string method, std::string target, std::string body, std::string detail = "") {
    c.push_back({.name = std::move(name),
                 .method = std::move(method),
                 .target = std::move(target),
                 .body = std::move(body),
                 .type = "invalid-request",
                 .detail = std::move(detail)});
  };
  on("rotate: grace negative", "POST", "/v1/keys/{KID}/rotate", R"({"grace_period_seconds":-1})", "between");
  on("rotate: grace over 30 days", "POST", "/v1/keys/{KID}/rotate", R"({"grace_period_seconds":2592001})", "between");
  on("rotate: grace a string", "POST", "/v1/keys/{KID}/rotate", R"({"grace_period_seconds":"60"})", "integer");
  on("rotate: grace a fraction", "POST", "/v1/keys/{KID}/rotate", R"({"grace_period_seconds":1.5})", "integer");
  on("rotate: grace beyond 2^64", "POST", "/v1/keys/{KID}/rotate",
     R"({"grace_period_seconds":99999999999999999999999})", "integer");
  on("rotate: grace 2^63", "POST", "/v1/keys/{KID}/rotate", R"({"grace_period_seconds":9223372036854775808})",
     "between");
  on("rotate: unknown field", "POST", "/v1/keys/{KID}/rotate", R"({"grace":60})", "unknown field 'grace'");
  on("rotate: invalid JSON", "POST", "/v1/keys/{KID}/rotate", "{", "not valid JSON");
  on("scopes: a string", "POST", "/v1/keys/{KID}/scopes", R"({"scopes":"alerts:read"})", "must be an array");
  on("scopes: missing", "POST", "/v1/keys/{KID}/scopes", "{}", "'scopes' is required");
  on("scopes: empty body", "POST", "/v1/keys/{KID}/scopes", "", "must be a JSON object");
  on("scopes: unknown scope", "POST", "/v1/keys/{KID}/scopes", R"({"scopes":["alerts:delete"]})", "alerts:delete");
  on("scopes: unknown field", "POST", "/v1/keys/{KID}/scopes", R"({"scopes":["alerts:read"],"x":1})",
     "unknown field 'x'");
  on("revoke: reason a number", "DELETE", "/v1/keys/{KID}", R"({"reason":5})", "'reason' must be a string");
  on("revoke: unknown field", "DELETE", "/v1/keys/{KID}", R"({"reason":"x","force":true})", "unknown field 'force'");
  on("revoke: invalid JSON", "DELETE", "/v1/keys/{KID}", R"({"reason":)", "not valid JSON");
  on("revoke: reason over 2000 characters", "DELETE", "/v1/keys/{KID}", R"({"reason":")" + Repeat("r", 2001) + "\"}",
     "longer than");

  const std::string client = R"("name":"c","scopes":["monitors:read"])";
  auto reg = [&](std::string name, std::string body, std::string detail = "") {
    on("register client: " + name, "POST", "/v1/oauth/clients", std::move(body), std::move(detail));
  };
  reg("invalid JSON", "{" + client, "not valid JSON");
  reg("missing name", R"({"scopes":["monitors:read"]})", "'name' is required");
  reg("missing scopes", R"({"name":"c"})", "'scopes' is required");
  reg("unknown field", "{" + client + R"(,"client_secret":"x"})", "unknown field 'client_secret'");
  reg("redirect URI javascript:", "{" + client + R"(,"redirect_uris":["javascript:void"]})", "redirect_uris");
  reg("redirect URI with a fragment", "{" + client + R"(,"redirect_uris":["https://a.example/cb#x"]})",
      "redirect_uris");
  reg("redirect URI plain http", "{" + client + R"(,"redirect_uris":["http://a.example/cb"]})", "redirect_uris");
  reg("redirect URI with a wildcard", "{" + client + R"(,"redirect_uris":["https://*.example/cb"]})", "redirect_uris");
  reg("redirect URI with user info", "{" + client + R"(,"redirect_uris":["https://u@a.example/cb"]})", "redirect_uris");
  reg("redirect URI port 70000", "{" + client + R"(,"redirect_uris":["https://a.example:70000/cb"]})", "redirect_uris");
  reg("redirect URIs repeated", "{" + client + R"(,"redirect_uris":["https://a.example/cb","https://a.example/cb"]})",
      "redirect_uris");
  reg("eleven redirect URIs",
      "{" + client + R"(,"redirect_uris":[)" + Repeat(R"("https://a.example/cb",)", 10) + R"("https://a.example/cb"]})",
      "redirect_uris");
  reg("unknown grant type", "{" + client + R"(,"grant_types":["password"]})", "password");
  reg("unknown auth method", "{" + client + R"(,"token_endpoint_auth_method":"private_key_jwt"})",
      "token_endpoint_auth_method");
  reg("public client with client_credentials",
      "{" + client + R"(,"grant_types":["client_credentials"],"token_endpoint_auth_method":"none"})",
      "client_credentials");
  reg("authorization_code without redirect URIs", "{" + client + R"(,"grant_types":["authorization_code"]})",
      "redirect");
  reg("description over 500 characters", "{" + client + R"(,"description":")" + Repeat("d", 501) + "\"}",
      "description");
  reg("name a boolean", R"({"name":true,"scopes":["monitors:read"]})", "'name' must be a string");
  on("rotate secret: unknown field", "POST", "/v1/oauth/clients/{CID}/rotate-secret", R"({"secret":"x"})",
     "unknown field 'secret'");
  on("rotate secret: invalid JSON", "POST", "/v1/oauth/clients/{CID}/rotate-secret", "{]", "not valid JSON");
  on("delete client: reason a number", "DELETE", "/v1/oauth/clients/{CID}", R"({"reason":[1]})",
     "'reason' must be a string");
}

// Authorization: missing, other schemes, broken tokens, too few scopes.
void AddAuth(std::vector<Case>& c) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/v1/keys"},
      {"GET", "/v1/keys"},
      {"GET", "/v1/keys/{KID}"},
      {"DELETE", "/v1/keys/{KID}"},
      {"POST", "/v1/keys/{KID}/rotate"},
      {"POST", "/v1/keys/{KID}/scopes"},
      {"DELETE", "/v1/keys/{KID}/scopes/monitors:read"},
      {"POST", "/v1/oauth/clients"},
      {"GET", "/v1/oauth/clients"},
      {"GET", "/v1/oauth/clients/{CID}"},
      {"POST", "/v1/oauth/clients/{CID}/rotate-secret"},
      {"DELETE", "/v1/oauth/clients/{CID}"},
      {"GET", "/v1/audit-log"},
      {"GET", "/v1/events"},
  };
  for (const auto& [m, target] : routes)
    c.push_back({.name = "no credential: " + m + " " + target,
                 .method = m,
                 .target = target,
                 .body = m == "GET" ? "" : R"({"name":"a","scopes":["monitors:read"]})",
                 .status = 401,
                 .type = "unauthenticated",
                 .detail = "Authorization: Bearer",
                 .auth = false});
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"Basic scheme", "Basic YWRtaW46YWRtaW4="},
      {"Bearer without a token", "Bearer"},
      {"Bearer and a space", "Bearer "},
      {"token without a scheme", "{ADMIN}"},
      {"garbage token", "Bearer not-a-key"},
      {"key with a character more", "Bearer {ADMIN}x"},
      {"a key id, not a key", "Bearer {KID}"},
      {"key with a space inside", "Bearer al_live_ {ADMIN}"},
      {"key of another brand", "Bearer zz_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
      {"two spaces after Bearer", "Bearer  {ADMIN}"},
      {"a client secret", "Bearer al_cs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
      {"token over 128 bytes", "Bearer " + Repeat("A", 4000)},
  };
  for (const auto& [name, value] : forms)
    c.push_back({.name = "Authorization: " + name,
                 .method = "POST",
                 .target = "/v1/keys",
                 .body = R"({"name":"a","scopes":["monitors:read"]})",
                 .headers = {{"Authorization", value}},
                 .status = 401,
                 .type = "unauthenticated"});
  const std::vector<std::tuple<std::string, std::string, std::string>> scoped = {
      {"POST", "/v1/keys", R"({"name":"a","scopes":["monitors:read"]})"},
      {"DELETE", "/v1/keys/{KID}", ""},
      {"POST", "/v1/oauth/clients", R"({"name":"c","scopes":["monitors:read"]})"},
      {"GET", "/v1/audit-log", ""},
      {"GET", "/v1/events", ""},
  };
  for (const auto& [m, target, body] : scoped)
    c.push_back({.name = "scope missing: " + m + " " + target,
                 .method = m,
                 .target = target,
                 .body = body,
                 .headers = {{"Authorization", "Bearer {RO}"}},
                 .status = 403,
                 .type = "insufficient-scope"});
  auto actor = [&](std::string name, std::string value) {
    c.push_back({.name = "X-Actor-Email: " + name,
                 .method = "POST",
                 .target = "/v1/keys",
                 .body = R"({"name":"a","scopes":["monitors:read"]})",
                 .headers = {{"X-Actor-Email", std::move(value)}},
                 .type = "invalid-request",
                 .detail = "X-Actor-Email"});
  };
  actor("not an address", "alice");
  actor("two @", "a@b@example.com");
  actor("one-label domain", "alice@localhost");
  actor("over 254 bytes",
        Repeat("a", 64) + "@" + Repeat("b", 63) + "." + Repeat("c", 63) + "." + Repeat("d", 63) + ".example");
  actor("non-ASCII", "al\xc3\xaf"
                     "ce@example.com");
  c.push_back({.name = "X-Actor-Email: sent twice",
               .method = "POST",
               .target = "/v1/keys",
               .body = R"({"name":"a","scopes":["monitors:read"]})",
               .headers = {{"X-Actor-Email", "a@example.com"}, {"X-Actor-Email", "b@example.com"}},
               .type = "invalid-request",
               .detail = "at most once",
               .raw = true});
  c.push_back({.name = "X-Min-Position: not a number",
               .method = "GET",
               .target = "/v1/keys",
               .headers = {{"X-Min-Position", "abc"}},
               .type = "invalid-request",
               .detail = "X-Min-Position"});
  c.push_back({.name = "X-Min-Position: negative",
               .method = "POST",
               .target = "/v1/keys/verify",
               .body = R"({"key":"{RO}"})",
               .headers = {{"X-Min-Position", "-5"}},
               .type = "invalid-request",
               .detail = "X-Min-Position",
               .auth = false});
  c.push_back({.name = "X-Min-Position: a partition that does not exist",
               .method = "GET",
               .target = "/v1/oauth/clients",
               .headers = {{"X-Min-Position", "281474976710657"}},
               .type = "invalid-request",
               .detail = "does not exist"});
}

// Paths and query strings: bad ids, traversal, encoded slashes, overlong.
void AddPaths(std::vector<Case>& c) {
  auto notfound = [&](std::string name, std::string method, std::string target, std::string body = "") {
    c.push_back({.name = "path: " + name,
                 .method = std::move(method),
                 .target = std::move(target),
                 .body = std::move(body),
                 .status = 404,
                 .type = "not-found"});
  };
  notfound("key id too short", "GET", "/v1/keys/abc");
  notfound("key id too long", "GET", "/v1/keys/{KID}x");
  notfound("key id with punctuation", "GET", "/v1/keys/abc-def_ghi!");
  notfound("key id unknown", "DELETE", "/v1/keys/AAAAAAAAAAAA");
  notfound("key id percent-encoded NUL", "GET", "/v1/keys/%00AAAAAAAAAAA");
  notfound("key id encoded slash", "GET", "/v1/keys/AAAAA%2FAAAAAA");
  notfound("traversal, encoded", "GET", "/v1/keys/..%2F..%2Fetc%2Fpasswd");
  notfound("traversal, plain", "GET", "/v1/keys/../../etc/passwd");
  notfound("traversal to another route", "GET", "/v1/keys/../oauth/clients");
  notfound("bad percent escape", "GET", "/v1/keys/%zz");
  notfound("truncated percent escape", "GET", "/v1/keys/abc%4");
  notfound("id segment over 256 bytes", "GET", "/v1/keys/" + Repeat("A", 300));
  notfound("path of 8 KiB", "GET", "/v1/" + Repeat("a", 8192));
  notfound("upper-case path", "GET", "/V1/KEYS");
  notfound("unknown route", "GET", "/v1/admin");
  notfound("absolute URL", "GET", "http://127.0.0.1/v1/keys");
  notfound("rotate unknown key", "POST", "/v1/keys/AAAAAAAAAAAA/rotate", "{}");
  notfound("scopes of unknown key", "POST", "/v1/keys/AAAAAAAAAAAA/scopes", R"({"scopes":["alerts:read"]})");
  notfound("scope of unknown key", "DELETE", "/v1/keys/AAAAAAAAAAAA/scopes/monitors:read");
  notfound("client id without prefix", "GET", "/v1/oauth/clients/AAAAAAAAAAAA");
  notfound("client id too short", "GET", "/v1/oauth/clients/clnt_AAA");
  notfound("client unknown", "DELETE", "/v1/oauth/clients/clnt_AAAAAAAAAAAA");
  notfound("rotate secret of unknown client", "POST", "/v1/oauth/clients/clnt_AAAAAAAAAAAA/rotate-secret");
  notfound("client id encoded slash", "GET", "/v1/oauth/clients/clnt_%2F..%2Fkeys");
  c.push_back({.name = "path: target over the header limit",
               .method = "GET",
               .target = "/v1/keys/" + Repeat("A", 20 * 1024),
               .status = 431,
               .type = "headers-too-large",
               .raw = true});

  auto query = [&](std::string name, std::string target, std::string detail) {
    c.push_back({.name = "query: " + name,
                 .method = "GET",
                 .target = std::move(target),
                 .type = "invalid-request",
                 .detail = std::move(detail)});
  };
  query("keys status unknown", "/v1/keys?status=deleted", "status");
  query("clients status unknown", "/v1/oauth/clients?status=revoked", "status");
  query("audit limit 0", "/v1/audit-log?limit=0", "limit");
  query("audit limit 501", "/v1/audit-log?limit=501", "limit");
  query("audit limit not a number", "/v1/audit-log?limit=ten", "limit");
  query("audit limit 2^64", "/v1/audit-log?limit=18446744073709551616", "limit");
  query("audit since not a time", "/v1/audit-log?since=yesterday", "since");
  query("audit until not a time", "/v1/audit-log?until=2026-13-01T00:00:00Z", "until");
  query("audit type unknown", "/v1/audit-log?type=io.authledger.key.stolen.v1", "unknown event type");
  query("audit key_id short", "/v1/audit-log?key_id=abc", "key_id");
  query("audit client_id bad", "/v1/audit-log?client_id=client1", "client_id");
  query("audit actor bad email", "/v1/audit-log?actor=a%40b%40c", "actor");
  query("audit ip bad", "/v1/audit-log?ip=1.2.3.256", "ip");
  query("audit order bad", "/v1/audit-log?order=random", "order");
  query("audit cursor bad", "/v1/audit-log?cursor=zzz", "cursor");
  query("audit format bad", "/v1/audit-log?format=xml", "format");
  query("events after not a position", "/v1/events?after=abc", "after");
  query("events after negative", "/v1/events?after=-1", "after");
  query("events after beyond the end", "/v1/events?after=999999999", "after");
  query("events after names a partition twice", "/v1/events?after=0:1,0:2", "after");
  c.push_back({.name = "events: Last-Event-ID not a position",
               .method = "GET",
               .target = "/v1/events",
               .headers = {{"Last-Event-ID", "x1"}},
               .type = "invalid-request",
               .detail = "Last-Event-ID"});
}

// HTTP framing: Content-Length, Transfer-Encoding, Content-Encoding, header syntax.
void AddFraming(std::vector<Case>& c) {
  const std::string body = R"({"name":"a","scopes":["monitors:read"]})";
  auto raw = [&](std::string name, Headers headers, std::string payload, int status = 400,
                 std::string type = "malformed-http", std::string detail = "") {
    c.push_back({.name = "framing: " + name,
                 .method = "POST",
                 .target = "/v1/keys",
                 .body = std::move(payload),
                 .headers = std::move(headers),
                 .status = status,
                 .type = std::move(type),
                 .detail = std::move(detail),
                 .raw = true});
  };
  const std::string n = std::to_string(body.size());
  raw("two different Content-Lengths", {{"Content-Length", n}, {"Content-Length", "5"}}, body);
  raw("Content-Length a list", {{"Content-Length", n + ", 5"}}, body);
  raw("Content-Length negative", {{"Content-Length", "-1"}}, body);
  raw("Content-Length not a number", {{"Content-Length", "ten"}}, body);
  raw("Content-Length beyond 2^64", {{"Content-Length", "99999999999999999999999"}}, body);
  raw("Content-Length over max_body_bytes", {{"Content-Length", "1000000"}}, body, 413, "body-too-large");
  raw("Transfer-Encoding gzip", {{"Transfer-Encoding", "gzip"}}, body, 400, "malformed-http", "Transfer-Encoding");
  raw("Transfer-Encoding chunked, gzip", {{"Transfer-Encoding", "chunked, gzip"}}, body, 400, "malformed-http",
      "Transfer-Encoding");
  raw("Transfer-Encoding identity", {{"Transfer-Encoding", "identity"}}, body, 400, "malformed-http");
  raw("Transfer-Encoding unknown", {{"Transfer-Encoding", "x-custom"}}, body, 400, "malformed-http");
  raw("Transfer-Encoding and Content-Length", {{"Transfer-Encoding", "chunked"}, {"Content-Length", n}},
      "5\r\n{\"nam\r\n0\r\n\r\n");
  raw("chunk size not hex", {{"Transfer-Encoding", "chunked"}}, "zz\r\n" + body + "\r\n0\r\n\r\n");
  raw("chunk longer than its size", {{"Transfer-Encoding", "chunked"}}, "3\r\n" + body + "\r\n0\r\n\r\n");
  raw("chunked body over max_body_bytes", {{"Transfer-Encoding", "chunked"}}, "11800\r\n" + Repeat("x", 1024), 413,
      "body-too-large");
  raw("chunked invalid JSON", {{"Transfer-Encoding", "chunked"}}, "3\r\n{\"n\r\n0\r\n\r\n", 400, "invalid-request",
      "not valid JSON");
  raw("Content-Encoding gzip", {{"Content-Encoding", "gzip"}, {"Content-Length", "20"}},
      std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00", 20), 400,
      "invalid-request", "not valid JSON");
  raw("header without a colon", {{"X-Broken", ""}}, body);
  raw("header with a NUL", {{"X-Note", std::string("a\0b", 3)}}, body);
  raw("header name with a space", {{"X Note", "a"}}, body);
  raw("header over the header limit", {{"X-Pad", Repeat("p", 20 * 1024)}}, body, 431, "headers-too-large");
  raw("Authorization over the header limit", {{"Authorization", "Bearer " + Repeat("A", 20 * 1024)}}, body, 431,
      "headers-too-large");
  auto line = [&](std::string name, std::string bytes) {
    c.push_back({.name = "request line: " + name,
                 .body = std::move(bytes),
                 .status = 400,
                 .type = "malformed-http",
                 .raw = true});
  };
  line("garbage", "HELLO\r\n\r\n");
  line("no version", "GET /v1/keys\r\nHost: 127.0.0.1\r\n\r\n");
  line("bad version", "GET /v1/keys HTTP/9.Z\r\nHost: 127.0.0.1\r\n\r\n");
  line("bare LF and a NUL", "GET /v1/keys" + std::string(1, '\0') + " HTTP/1.1\nHost: x\n\n");
  line("space in the target", "GET /v1/keys /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  // RFC 9112 section 3.2: an HTTP/1.1 request has exactly one Host.
  line("HTTP/1.1 without Host", "GET /v1/keys HTTP/1.1\r\nAuthorization: Bearer {ADMIN}\r\nConnection: close\r\n\r\n");
  line("two Hosts", "GET /v1/keys HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nAuthorization: Bearer {ADMIN}\r\n"
                    "Connection: close\r\n\r\n");
}

std::vector<Case> Catalogue() {
  std::vector<Case> c;
  AddMethods(c);
  AddBodies(c);
  AddAuth(c);
  AddPaths(c);
  AddFraming(c);
  return c;
}

// The bytes of a raw case: its method, target, headers and body as given (a
// Content-Length is added when the case sends none and no Transfer-Encoding);
// a case without a method is its body alone.
std::string RawBytes(const Case& k) {
  if (k.method.empty()) return k.body;
  std::string out = k.method + " " + k.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool framed = false;
  for (const auto& [name, value] : k.headers) {
    out += name + (value.empty() ? "" : ": " + value) + "\r\n";
    framed = framed || name == "Content-Length" || name == "Transfer-Encoding";
  }
  if (!framed && !k.body.empty())
    out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(k.body.size()) + "\r\n";
  return out + "\r\n" + k.body;
}

class BadInputTest : public ::testing::Test {
 protected:
  // High enough that a catalogue of failed authentications and writes is not rate limited.
  TestNode t{[](Config& c) {
    c.failed_auth_per_minute = 100000;
    c.key_reads_per_minute = 100000;
    c.key_writes_per_minute = 100000;
  }};
};

TEST_F(BadInputTest, EveryMalformedRequestGetsItsDocumented4xxAndTheLedgerIsUntouched) {
  json ro = t.CreateKey({{"name", "reader"}, {"scopes", {"monitors:read"}}});
  auto client =
      t.http().Call("POST", "/v1/oauth/clients", t.admin_key(),
                    {{"name", "app"}, {"scopes", {"monitors:read"}}, {"redirect_uris", {"https://app.example/cb"}}});
  ASSERT_EQ(client.status, 201) << client.body;
  const std::map<std::string, std::string> vars = {{"{ADMIN}", t.admin_key()},
                                                   {"{RO}", ro["key"].get<std::string>()},
                                                   {"{KID}", ro["id"].get<std::string>()},
                                                   {"{CID}", client.json()["id"].get<std::string>()}};
  ASSERT_TRUE(t.node().projector().WaitApplied(t.node().log().Heads().at(0), std::chrono::seconds(10)).ok());
  const std::string ledger_dir = t.config().data_dir + "/ledger";
  const auto files_before = HashFiles(ledger_dir);
  ASSERT_FALSE(files_before.empty());
  const Cursor heads_before = t.node().log().Heads();
  const Cursor applied_before = t.node().projector().applied();

  const std::vector<Case> cases = Catalogue();
  ASSERT_GE(cases.size(), 100u);
  RecordProperty("cases", static_cast<int>(cases.size()));
  for (Case k : cases) {
    SCOPED_TRACE("case \"" + k.name + "\"");
    k.target = Replace(k.target, vars);
    k.body = Replace(k.body, vars);
    for (auto& h : k.headers) h.second = Replace(h.second, vars);
    const bool has_auth =
        std::any_of(k.headers.begin(), k.headers.end(), [](const auto& h) { return h.first == "Authorization"; });
    if (k.auth && !has_auth && !k.method.empty())
      k.headers.insert(k.headers.begin(), {"Authorization", "Bearer " + t.admin_key()});
    HttpResult r;
    if (k.raw) {
      r = ParseRaw(SendRaw(t.node().port(), RawBytes(k)));
    } else {
      std::map<std::string, std::string> headers(k.headers.begin(), k.headers.end());
      r = t.http().Request(k.method, k.target, k.body, headers);
    }
    EXPECT_EQ(r.status, k.status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    const json j = r.json();
    const auto field = [&j](const char* name) {
      return j.is_object() && j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string();
    };
    EXPECT_EQ(field("type"), "/problems/" + k.type) << r.body;
    EXPECT_EQ(j.is_object() && j.contains("status") && j["status"].is_number() ? j["status"].get<int>() : -1, k.status);
    EXPECT_FALSE(field("title").empty());
    // The instance is the path as a URI reference, whatever the request's target was.
    static const std::regex kPath(R"(^(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)+$)");
    EXPECT_TRUE(std::regex_match(field("instance"), kPath)) << field("instance");
    EXPECT_FALSE(field("detail").empty()) << r.body;
    if (!k.detail.empty()) {
      EXPECT_NE(field("detail").find(k.detail), std::string::npos) << r.body;
    }
    if (k.status == 405) {
      EXPECT_EQ(SortedList(r.header("allow")), k.allow);
    }
    if (k.status == 401) {
      EXPECT_FALSE(r.header("www-authenticate").empty());
    }
    // Nothing secret comes back in a problem.
    EXPECT_EQ(r.body.find(t.admin_key()), std::string::npos);
    EXPECT_EQ(r.body.find(vars.at("{RO}")), std::string::npos);
  }

  EXPECT_EQ(t.node().log().Heads().ToString(), heads_before.ToString());
  EXPECT_EQ(t.node().projector().applied().ToString(), applied_before.ToString());
  EXPECT_EQ(HashFiles(ledger_dir), files_before) << "a malformed request changed the ledger";
  // And the node still serves.
  auto list = t.http().Call("GET", "/v1/keys", t.admin_key());
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["keys"].size(), 2u);
}

}  // namespace
}  // namespace authledger::testing
