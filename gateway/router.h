// Router: maps "METHOD /path/{param}" patterns to handlers. A handler is either
// inline (runs on the I/O thread; must not block — the verify hot path) or
// blocking (runs on the command pool — anything that appends to the ledger).
// Unknown paths get 404, known paths with another method 405 + Allow, both as
// problem+json.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gateway/http_types.h"

namespace authledger {

using Handler = std::function<HttpResponse(RequestContext&)>;

enum class HandlerKind { kInline, kBlocking };

class Router {
 public:
  void Add(http::verb method, std::string pattern, HandlerKind kind, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route (see error)
    HandlerKind kind = HandlerKind::kInline;
    std::vector<std::string> params;
    std::string endpoint;
    HttpResponse error;  // 404 / 405 / 400 when handler is null
  };
  Match Find(const HttpRequest& req, std::string_view path) const;

 private:
  struct Route {
    http::verb method;
    std::string pattern;
    std::vector<std::string> segments;  // "{x}" is a parameter
    HandlerKind kind;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace authledger
