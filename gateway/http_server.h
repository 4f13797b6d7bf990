// HttpServer: Boost.Beast over Asio with C++20 coroutines. One coroutine per
// connection runs the session loop: read a request (bounded header and body,
// idle timeout), route it, write the response, repeat while keep-alive.
// Each I/O thread runs its own io_context (no scheduler lock shared between
// threads); accepted connections are dealt round-robin. Blocking handlers run
// on a separate pool so a command waiting on fsync never stalls the verify hot
// path. Bounded: connections (beyond the cap they are closed at once) and
// blocking requests in flight (beyond the cap: 503 + Retry-After).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "domain/status.h"
#include "gateway/router.h"

namespace authledger {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: pick a free port (see HttpServer::port())
  int io_threads = 0;         // 0: one per core
  int command_threads = 4;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  int request_timeout_ms = 10000;  // per read/write, including idle keep-alive
  std::size_t max_connections = 10000;
  std::size_t max_blocking_in_flight = 1024;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router);
  ~HttpServer();
  // Binds and starts serving on background threads.
  Status Start();
  // Stops accepting, closes connections, joins threads. Idempotent.
  void Stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authledger
