// The HTTP vocabulary shared by the server, the router and the endpoints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http.hpp>

namespace authledger {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// What a handler sees of one request.
struct RequestContext {
  const HttpRequest& req;
  std::string remote_ip;            // peer address of the connection
  std::string_view path;            // target without the query string
  std::string_view query;           // after '?', without it ("" if none)
  std::vector<std::string> params;  // path parameters, in pattern order (URL-decoded)

  // "METHOD /pattern" of the matched route, e.g. "POST /v1/keys/{id}/rotate".
  std::string endpoint;
  // Value of a query parameter (URL-decoded), or nullopt-like empty + false.
  bool QueryParam(std::string_view name, std::string* value) const;
};

// Percent-decoding; false on a malformed escape.
bool UrlDecode(std::string_view in, std::string* out);

}  // namespace authledger
