// Router: maps "METHOD /path/{param}" patterns to handlers. A handler is either
// inline (runs on the I/O thread; must not block — the verify hot path, whose
// handler is a JsonBodyHandler), blocking (runs on the command pool — reads that
// may wait), asynchronous (starts on the command pool and answers later, from any
// thread — the writes, which wait for the ledger and the projector without
// holding a thread), or streaming (see StreamHandler — GET /v1/events). Unknown
// paths get 404, known paths with another method 405 + Allow, both as problem+json.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gateway/http_types.h"

namespace authledger {

using Handler = std::function<HttpResponse(RequestContext&)>;

// How an asynchronous handler answers: call it once, from any thread. The
// request (RequestContext and what it refers to) stays valid until then. If
// every copy is dropped unanswered, the client gets a 500.
using Respond = std::function<void(HttpResponse)>;
using AsyncHandler = std::function<void(RequestContext&, Respond)>;

// An inline route on the hot path whose usual answer is a 200 application/json:
// the handler writes that body into `body` (a buffer its connection reuses,
// empty on entry) and returns nullopt, and the server sends it behind a
// precomputed head without allocating; or it returns any other response whole.
using JsonBodyHandler = std::function<std::optional<HttpResponse>(RequestContext&, std::string& body)>;

// How a streaming handler sends a response whose body is produced over time.
// The server writes each piece before the call returns, so a handler never has
// more than one piece in flight.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends the status line and header fields of `head` (its body is ignored);
  // the server adds the framing (see HttpServer). Call once, before Write.
  virtual bool Start(HttpResponse head) = 0;
  // Sends the next piece of the body; returns once it has been written.
  // Both return false once the stream is over — the client went away, a write
  // timed out, or the server is stopping — and the handler should then return.
  virtual bool Write(std::string data) = 0;
  // True once the stream is over (for handlers that wait between writes).
  virtual bool closed() const = 0;
};

// A streaming handler runs on a thread of its own, never on an I/O thread, so
// it may block (wait for new data; poll closed() at least every few hundred ms
// while it does). It either returns a whole response without calling Start (an
// error before anything was streamed; it is sent like any other response), or
// calls Start, then Write for each piece, and returns std::nullopt when done.
// A streamed response is the last one on its connection.
using StreamHandler = std::function<std::optional<HttpResponse>(RequestContext&, ResponseStream&)>;

enum class HandlerKind { kInline, kBlocking, kAsync, kStream };

class Router {
 public:
  // kind is kInline or kBlocking.
  void Add(http::verb method, std::string pattern, HandlerKind kind, Handler handler);
  // A streaming route (HandlerKind::kStream).
  void AddStream(http::verb method, std::string pattern, StreamHandler handler);
  // An asynchronous route (HandlerKind::kAsync).
  void AddAsync(http::verb method, std::string pattern, AsyncHandler handler);
  // An inline route answered through a JsonBodyHandler.
  void AddJsonBody(http::verb method, std::string pattern, JsonBodyHandler handler);

  struct Match {
    const Handler* handler = nullptr;            // null: no route (see error), or one of the three below
    const StreamHandler* stream = nullptr;       // set instead of handler for kStream routes
    const AsyncHandler* async = nullptr;         // set instead of handler for kAsync routes
    const JsonBodyHandler* json_body = nullptr;  // set instead of handler for AddJsonBody routes
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
    StreamHandler stream;
    AsyncHandler async;
    JsonBodyHandler json_body;
  };
  std::vector<Route> routes_;
};

}  // namespace authledger
