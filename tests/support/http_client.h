// A small blocking HTTP/1.1 client over loopback for integration tests (Beast).
// One keep-alive connection per client; reconnects if the server closed it.
// With AUTHLEDGER_TEST_DUMP_DIR set, every exchange is also appended to
// <dir>/responses-<pid>.jsonl, which tests/schemas/suite.sh validates against
// the OpenAPI document.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace authledger::testing {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A blocking TCP socket connected to 127.0.0.1:port, for tests that speak raw
// HTTP (the caller closes it); throws std::runtime_error if it cannot connect.
int ConnectLoopback(unsigned short port);

class HttpClient {
 public:
  explicit HttpClient(unsigned short port);
  ~HttpClient();
  HttpResult Request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {});
  // Sends raw bytes on a fresh connection and returns what came back (for malformed-HTTP tests).
  std::string Raw(const std::string& bytes);

  // Convenience: JSON body + bearer token.
  HttpResult Call(const std::string& method, const std::string& target, const std::string& bearer,
                  const nlohmann::json& body = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authledger::testing
