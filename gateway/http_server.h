// HttpServer: Boost.Beast over Asio with C++20 coroutines. One coroutine per
// connection runs the session loop: read a request (bounded header and body,
// idle timeout), route it, write the response, repeat while keep-alive.
// Each I/O thread runs its own io_context (no scheduler lock shared between
// threads); accepted connections are dealt round-robin. Blocking handlers run
// on a separate pool so a command waiting on fsync never stalls the verify hot
// path. Bounded: connections in all and from one client (beyond either cap a new
// connection is closed at once), and blocking requests in flight (beyond the cap:
// 503 + Retry-After). A connection's client is its peer's address (an IPv6 peer
// by its /64); trusted proxies are not held to the per-client cap (they carry
// many clients) but count toward the total. The total must fit the open-file
// limit (RLIMIT_NOFILE, the soft limit raised up to the hard one if it must),
// keeping kReservedFds for everything else the process opens: a total of 0 means
// as many as fit, at most kDefaultMaxConnections; a total given that does not fit
// makes Start() fail. When
// accepting fails (EMFILE, ENFILE, ENOBUFS...), the acceptor backs off — 10 ms,
// doubling up to 1 s, reset by the next success — instead of retrying at once:
// the pending connections wait in the kernel's backlog, and no core spins.
//
// Each request's RequestContext::remote_ip is its client's address
// (gateway/client_address.h: named by a trusted proxy's forwarding headers, else
// the peer).
//
// Streaming routes (Router::AddStream): the handler runs on a thread of its own
// (at most max_streams at once; beyond: 503 too-many-streams + Retry-After) and
// hands the session coroutine one piece at a time, which it writes as one chunk
// of a chunked body (HTTP/1.1; an HTTP/1.0 client gets a body delimited by the
// connection's close), each write bounded by request_timeout_ms. The stream ends
// when the handler returns (last chunk, then close), when the client closes its
// side or sends anything, when a write fails or times out, or at Stop().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "domain/status.h"
#include "gateway/client_address.h"
#include "gateway/router.h"

namespace authledger {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: pick a free port (see HttpServer::port())
  int io_threads = 0;         // 0: one per core
  int command_threads = 4;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  int request_timeout_ms = 10000;                // per read/write, including idle keep-alive
  std::size_t max_connections = 0;               // open at once, in all (0: as many as fit, see above)
  std::size_t max_connections_per_client = 256;  // open at once from one client (not a trusted proxy)
  TrustedProxies trusted_proxies;                // peers whose forwarding headers name the client
  std::size_t max_blocking_in_flight = 1024;
  std::size_t max_streams = 64;  // streaming responses at once (each has a thread)
};

class HttpServer {
 public:
  // File descriptors Start() keeps out of max_connections for everything else
  // (the ledger's segments, RocksDB's files, the event streams' readers, logs).
  static constexpr std::size_t kReservedFds = 256;
  // The total when ServerOptions::max_connections is 0, if the open-file limit holds it.
  static constexpr std::size_t kDefaultMaxConnections = 10000;
  // The smallest total the server runs with.
  static constexpr std::size_t kMinConnections = 16;

  HttpServer(ServerOptions options, const Router& router);
  ~HttpServer();
  // Binds and starts serving on background threads. InvalidArgument naming
  // server.max_connections if the open-file limit cannot hold the total given
  // (or, with 0, not even kMinConnections).
  Status Start();
  // Stops accepting, ends every stream (joining its handler's thread: handlers
  // must notice ResponseStream::closed() promptly), closes connections, joins
  // threads. Idempotent.
  void Stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace authledger
