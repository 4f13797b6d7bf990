#include "gateway/http_server.h"

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

#include "gateway/responses.h"

namespace authledger {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  ServerOptions options;
  const Router& router;
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per I/O thread; [0] also accepts
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::thread_pool> command_pool;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> blocking_in_flight{0};
  std::uint16_t bound_port = 0;

  Impl(ServerOptions o, const Router& r) : options(std::move(o)), router(r) {}

  // Counts a live connection for as long as it exists.
  struct ConnectionSlot {
    std::atomic<std::size_t>& n;
    ~ConnectionSlot() { n.fetch_sub(1, std::memory_order_relaxed); }
  };

  asio::awaitable<HttpResponse> Dispatch(HttpRequest& req, const std::string& remote_ip) {
    std::string_view target(req.target().data(), req.target().size());
    std::size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    auto match = router.Find(req, path);
    if (!match.handler) co_return std::move(match.error);
    RequestContext ctx{req, remote_ip, path, q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                       std::move(match.params), std::move(match.endpoint)};
    const Handler& handler = *match.handler;
    auto run = [&]() -> HttpResponse {
      try {
        return handler(ctx);
      } catch (const std::exception& e) {
        spdlog::error("handler for {} threw: {}", ctx.endpoint, e.what());
        return ProblemFromStatus(req, Status::Internal(e.what()));
      }
    };
    if (match.kind == HandlerKind::kInline) co_return run();
    if (blocking_in_flight.fetch_add(1, std::memory_order_relaxed) >= options.max_blocking_in_flight) {
      blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
      co_return ProblemFromStatus(req, Status::Unavailable("too many requests in progress; retry shortly"));
    }
    // Hop to the command pool and back: the I/O thread stays free meanwhile.
    HttpResponse res = co_await asio::co_spawn(
        command_pool->get_executor(), [&]() -> asio::awaitable<HttpResponse> { co_return run(); },
        asio::use_awaitable);
    blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
    co_return res;
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    ConnectionSlot slot{connections};
    beast::tcp_stream stream(std::move(socket));
    beast::error_code ec;
    std::string remote_ip = stream.socket().remote_endpoint(ec).address().to_string();
    if (ec) co_return;
    beast::flat_buffer buffer(8192);
    const auto timeout = std::chrono::milliseconds(options.request_timeout_ms);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // One deadline covers reading the request and writing its response; it is
      // re-armed before the write only if handling took a good part of it (a
      // timer operation per request instead of two on the hot path).
      stream.expires_after(timeout);
      auto armed_at = std::chrono::steady_clock::now();
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
          ec == asio::error::connection_reset)
        break;
      if (ec) {
        // Malformed or oversized request: answer once, then close the connection.
        HttpRequest dummy{http::verb::unknown, "/", 11};
        HttpResponse res =
            ec == http::error::body_limit
                ? Problem(dummy, http::status::payload_too_large, "body-too-large", "Request body too large",
                          "request bodies are limited to " + std::to_string(options.max_body_bytes) + " bytes")
                : ec == http::error::header_limit
                      ? Problem(dummy, http::status::request_header_fields_too_large, "headers-too-large",
                                "Request headers too large", "request headers exceed the limit")
                      : Problem(dummy, http::status::bad_request, "malformed-http", "Malformed HTTP request",
                                ec.message());
        res.keep_alive(false);
        stream.expires_after(timeout);
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      HttpRequest req = parser.release();
      HttpResponse res = co_await Dispatch(req, remote_ip);
      res.set(http::field::server, "authledger");
      res.keep_alive(req.keep_alive() && !stopped.load(std::memory_order_relaxed));
      if (std::chrono::steady_clock::now() - armed_at > timeout / 2) stream.expires_after(timeout);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !res.keep_alive()) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> Accept() {
    for (std::size_t next = 0;; ++next) {
      beast::error_code ec;
      auto& ioc = *contexts[next % contexts.size()];
      tcp::socket socket =
          co_await acceptor->async_accept(ioc.get_executor(), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped.load() || ec == asio::error::operation_aborted) co_return;
        continue;  // e.g. EMFILE: keep serving existing connections
      }
      if (connections.fetch_add(1, std::memory_order_relaxed) >= options.max_connections) {
        connections.fetch_sub(1, std::memory_order_relaxed);
        socket.close(ec);  // over the cap: refuse rather than queue without bound
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(ioc, Session(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return Status::InvalidArgument("listen address '" + impl_->options.address + "' is not an IP address");
  tcp::endpoint endpoint(address, impl_->options.port);
  int n = impl_->options.io_threads > 0 ? impl_->options.io_threads
                                        : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->contexts[0]);
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::Unavailable("cannot listen on " + impl_->options.address + ":" +
                               std::to_string(impl_->options.port) + ": " + ec.message());
  impl_->bound_port = acc.local_endpoint().port();
  impl_->command_pool = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(impl_->options.command_threads));
  asio::co_spawn(*impl_->contexts[0], impl_->Accept(), asio::detached);
  for (auto& ctx : impl_->contexts) {
    impl_->threads.emplace_back([c = ctx.get()] {
      auto guard = asio::make_work_guard(*c);  // idle contexts wait for connections
      c->run();
    });
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  if (impl_->acceptor) {
    asio::post(*impl_->contexts[0], [this] {
      beast::error_code ec;
      impl_->acceptor->close(ec);
    });
  }
  if (impl_->command_pool) impl_->command_pool->join();
  for (auto& ctx : impl_->contexts) ctx->stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

}  // namespace authledger
