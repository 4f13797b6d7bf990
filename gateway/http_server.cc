#include "gateway/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>

#include "gateway/concurrency_quota.h"
#include "gateway/responses.h"

namespace authledger {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

// One streaming response, shared by its session coroutine (on an I/O thread)
// and the thread that runs its handler. The handler hands over one piece at a
// time — the head, then parts of the body — and waits until the coroutine has
// written it. The coroutine waits on `wake_`, a timer that never expires and is
// cancelled on the coroutine's own executor whenever there is news.
class StreamChannel final : public ResponseStream, public std::enable_shared_from_this<StreamChannel> {
 public:
  using Piece = std::variant<HttpResponse, std::string>;  // the head, or a part of the body

  explicit StreamChannel(const asio::any_io_executor& ex) : wake_(ex, asio::steady_timer::time_point::max()) {}

  // --- the handler's thread
  bool Start(HttpResponse head) override { return Hand(Piece(std::in_place_index<0>, std::move(head))); }
  bool Write(std::string data) override { return Hand(Piece(std::in_place_index<1>, std::move(data))); }
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  // The handler has returned: with a whole response, or nullopt after streaming.
  void Finish(std::optional<HttpResponse> whole) {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      whole_ = std::move(whole);
    }
    Wake();
  }

  // --- any thread: ends the stream; Start/Write return false from now on.
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    Wake();
  }

  // --- the session coroutine
  // The next piece to write (valid until Written()), or null once the handler
  // has returned. Pieces handed over after Close() are never returned.
  asio::awaitable<Piece*> Next() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (finished_) co_return nullptr;
        if (piece_ && !closed_) co_return &*piece_;
      }
      // Nothing suspends between the check above and this wait, and Wake()
      // cancels on this same single-threaded executor: no wake-up is lost.
      wake_.expires_at(asio::steady_timer::time_point::max());
      beast::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  // The piece from Next() has been written: its Start/Write call returns true.
  void Written() {
    {
      std::lock_guard lock(mu_);
      piece_.reset();
    }
    cv_.notify_all();
  }
  std::optional<HttpResponse> TakeWhole() {
    std::lock_guard lock(mu_);
    return std::move(whole_);
  }

  // Runs the handler. Joined by whoever takes the channel out of the server's
  // registry: the session once the handler has returned, or Stop().
  std::thread thread;

 private:
  bool Hand(Piece piece) {
    std::unique_lock lock(mu_);
    if (closed_) return false;
    piece_ = std::move(piece);
    lock.unlock();
    Wake();
    lock.lock();
    cv_.wait(lock, [&] { return !piece_ || closed_; });
    return !closed_;
  }
  void Wake() {
    asio::post(wake_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;  // the handler waits for its piece to be written
  std::optional<Piece> piece_;
  bool closed_ = false;
  bool finished_ = false;
  std::optional<HttpResponse> whole_;
  asio::steady_timer wake_;  // touched on the coroutine's executor only
};

// The answer of one asynchronous handler (Router::AddAsync): handed over once,
// from any thread; the session coroutine waits for it on `wake_`, a timer that
// never expires and is cancelled on the coroutine's own executor when it is in.
class AnswerSlot final : public std::enable_shared_from_this<AnswerSlot> {
 public:
  AnswerSlot(const asio::any_io_executor& ex, std::function<void()> on_answer)
      : wake_(ex, asio::steady_timer::time_point::max()), on_answer_(std::move(on_answer)) {}

  bool answered() const {
    std::lock_guard lock(mu_);
    return answered_;
  }

  // The first answer wins; later ones are dropped.
  void Set(HttpResponse res) {
    {
      std::lock_guard lock(mu_);
      if (answered_) return;
      answered_ = true;
      answer_ = std::move(res);
    }
    on_answer_();
    asio::post(wake_.get_executor(), [self = shared_from_this()] { self->wake_.cancel(); });
  }

  asio::awaitable<HttpResponse> Wait() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (answer_) co_return std::move(*answer_);
      }
      // Set() cancels on this same single-threaded executor: no wake-up is lost.
      wake_.expires_at(asio::steady_timer::time_point::max());
      beast::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

 private:
  mutable std::mutex mu_;
  bool answered_ = false;
  std::optional<HttpResponse> answer_;
  asio::steady_timer wake_;  // touched on the coroutine's executor only
  std::function<void()> on_answer_;
};

// What an asynchronous handler calls; answers 500 if the last copy of it is
// dropped unanswered (a handler bug must not hang the client).
// The request outlives it: the session waits until the slot is answered.
struct Responder {
  std::shared_ptr<AnswerSlot> slot;
  const RequestContext& ctx;
  ~Responder() {
    if (!slot->answered())  // built only then: a problem for Internal is logged as it is built
      slot->Set(ProblemFromStatus(ctx.req, Status::Internal("the handler for " + ctx.endpoint + " gave no answer")));
  }
};

// The whole message for a JsonBodyHandler's 200 answer, into *out (reused):
// byte for byte what JsonResponse() and the session loop's Server and keep-alive
// fields make Beast write, from a precomputed head.
void JsonOkMessage(unsigned version, bool keep_alive, std::string_view body, std::string* out) {
  static constexpr std::string_view kHead =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ";
  out->assign(kHead);
  (*out)[5] = static_cast<char>('0' + version / 10);
  (*out)[7] = static_cast<char>('0' + version % 10);
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body.size());
  out->append(digits, end);
  out->append("\r\nServer: authledger\r\n");
  // Beast's keep_alive(): HTTP/1.1 and later keep the connection unless told
  // "close"; HTTP/1.0 closes it unless told "keep-alive".
  if (version >= 11 && !keep_alive) out->append("Connection: close\r\n");
  if (version < 11 && keep_alive) out->append("Connection: keep-alive\r\n");
  out->append("\r\n");
  out->append(body);
}

// A connection's deadline: one timer per connection instead of one per read and
// write (beast::tcp_stream's way, which costs a timer wait, a cancel and an
// aborted handler per operation). Arm() only stores the time unless the timer
// would fire too late; when the timer fires before the stored time it waits
// again, and once the time has passed it closes the socket, which fails the
// pending read or write. Disarm() suspends it while no I/O is due (between the
// pieces of a stream). State is shared with the timer's handler, which may run
// after the session has ended.
class Deadline {
 public:
  Deadline(tcp::socket& socket) : state_(std::make_shared<State>(socket)) {}
  ~Deadline() {
    state_->socket = nullptr;
    state_->timer.cancel();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void Arm(std::chrono::milliseconds timeout) {
    state_->at = Clock::now() + timeout;
    if (!state_->waiting || state_->at < state_->timer.expiry()) Wait(state_);
  }
  void Disarm() { state_->at = Clock::time_point::max(); }
  // True once the deadline passed with the socket open (it is closed now).
  bool expired() const { return state_->expired; }

 private:
  using Clock = asio::steady_timer::clock_type;
  struct State {
    explicit State(tcp::socket& s) : socket(&s), timer(s.get_executor()) {}
    tcp::socket* socket;  // null once the session has ended
    asio::steady_timer timer;
    Clock::time_point at = Clock::time_point::max();
    bool waiting = false;
    bool expired = false;
  };

  static void Wait(const std::shared_ptr<State>& state) {
    state->timer.expires_at(state->at);
    state->waiting = true;
    state->timer.async_wait([state](const beast::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // re-set by Wait(), or the session ended
      state->waiting = false;
      if (ec || !state->socket || state->at == Clock::time_point::max()) return;
      if (Clock::now() < state->at) return Wait(state);
      state->expired = true;
      beast::error_code ignored;
      state->socket->close(ignored);
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  const Router& router;
  // Streams in progress, with their handler threads (before `contexts`: the
  // coroutine frames that the io_contexts destroy last may still refer to them).
  std::mutex streams_mu;
  std::vector<std::shared_ptr<StreamChannel>> streams;
  // Open connections, per client: SourceKey of the peer ("" for a trusted proxy).
  // Before `contexts` too: a session's frame holds its slot.
  ConcurrencyQuota connections;
  std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per I/O thread; [0] also accepts
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::thread_pool> command_pool;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  std::atomic<std::size_t> blocking_in_flight{0};
  // Asynchronous answers not yet handed over: Stop() waits for them, since the
  // handlers that give them still use their requests.
  std::mutex answers_mu;
  std::condition_variable answers_cv;
  std::size_t answers_pending = 0;
  std::uint16_t bound_port = 0;

  Impl(ServerOptions o, const Router& r)
      : options(std::move(o)), router(r), connections(options.max_connections, options.max_connections_per_client) {}

  // Runs `call` (a handler bound to its arguments, returning Result) inline or
  // on the command pool, as `kind` and the request say; a handler that throws
  // answers 500.
  template <typename Result, typename Call>
  asio::awaitable<Result> Dispatch(RequestContext& ctx, HandlerKind kind, Call call) {
    auto run = [&]() -> Result {
      try {
        return call();
      } catch (const std::exception& e) {
        spdlog::error("handler for {} threw: {}", ctx.endpoint, e.what());
        return ProblemFromStatus(ctx.req, Status::Internal(e.what()));
      }
    };
    // A request that asks to be answered as of a ledger position may have to
    // wait for it: it never runs on an I/O thread, whatever its route.
    if (kind == HandlerKind::kInline && ctx.req.find(kMinPositionHeader) == ctx.req.end()) co_return run();
    if (blocking_in_flight.fetch_add(1, std::memory_order_relaxed) >= options.max_blocking_in_flight) {
      blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
      co_return ProblemFromStatus(ctx.req, Status::Unavailable("too many requests in progress; retry shortly"));
    }
    // Hop to the command pool and back: the I/O thread stays free meanwhile.
    Result res = co_await asio::co_spawn(
        command_pool->get_executor(), [&]() -> asio::awaitable<Result> { co_return run(); }, asio::use_awaitable);
    blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
    co_return res;
  }

  // An asynchronous route: starts the handler on the command pool and waits,
  // holding no thread, for its answer.
  asio::awaitable<HttpResponse> DispatchAsync(RequestContext& ctx, const AsyncHandler& handler) {
    if (blocking_in_flight.fetch_add(1, std::memory_order_relaxed) >= options.max_blocking_in_flight) {
      blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
      co_return ProblemFromStatus(ctx.req, Status::Unavailable("too many requests in progress; retry shortly"));
    }
    {
      std::lock_guard lock(answers_mu);
      ++answers_pending;
    }
    auto slot = std::make_shared<AnswerSlot>(co_await asio::this_coro::executor, [this] {
      {
        std::lock_guard lock(answers_mu);
        --answers_pending;
      }
      answers_cv.notify_all();
    });
    auto responder = std::make_shared<Responder>(slot, ctx);  // in place: a temporary would answer as it dies
    Respond respond = [responder](HttpResponse res) { responder->slot->Set(std::move(res)); };
    asio::post(*command_pool, [&ctx, &handler, respond = std::move(respond)]() mutable {
      Respond keep = respond;
      try {
        handler(ctx, std::move(respond));
      } catch (const std::exception& e) {
        spdlog::error("handler for {} threw: {}", ctx.endpoint, e.what());
        keep(ProblemFromStatus(ctx.req, Status::Internal(e.what())));
      }
    });
    responder.reset();  // the handler's copies decide when it is dropped
    HttpResponse res = co_await slot->Wait();
    blocking_in_flight.fetch_sub(1, std::memory_order_relaxed);
    co_return res;
  }

  // Registers `channel` and starts its handler's thread; a problem to send
  // instead when the server is stopping or max_streams are open.
  std::optional<HttpResponse> StartStream(const std::shared_ptr<StreamChannel>& channel, RequestContext& ctx,
                                          const StreamHandler& handler) {
    std::lock_guard lock(streams_mu);
    if (stopped.load()) return ProblemFromStatus(ctx.req, Status::Unavailable("the server is stopping"));
    if (streams.size() >= options.max_streams) {
      auto res = Problem(ctx.req, http::status::service_unavailable, "too-many-streams", "Too many streams",
                         "this node serves at most " + std::to_string(options.max_streams) +
                             " streams at once; retry after the time in Retry-After, or use another node");
      res.set(http::field::retry_after, "5");
      return res;
    }
    try {
      // `ctx` lives in the session's frame, which outlives the thread: the
      // session or Stop() joins it first.
      channel->thread = std::thread([channel, &ctx, &handler] {
        std::optional<HttpResponse> whole;
        try {
          whole = handler(ctx, *channel);
        } catch (const std::exception& e) {
          spdlog::error("stream handler for {} threw: {}", ctx.endpoint, e.what());
          whole = ProblemFromStatus(ctx.req, Status::Internal(e.what()));
        }
        channel->Finish(std::move(whole));
      });
    } catch (const std::system_error& e) {
      spdlog::warn("cannot start a thread for {}: {}", ctx.endpoint, e.what());
      return ProblemFromStatus(ctx.req, Status::Unavailable("cannot start a stream now; retry shortly"));
    }
    streams.push_back(channel);
    return std::nullopt;
  }

  // Takes `channel` out of the registry and joins its thread, unless Stop() did.
  void ReleaseStream(const std::shared_ptr<StreamChannel>& channel) {
    std::thread t;
    {
      std::lock_guard lock(streams_mu);
      auto it = std::find(streams.begin(), streams.end(), channel);
      if (it == streams.end()) return;
      t = std::move(channel->thread);
      streams.erase(it);
    }
    t.join();  // the handler has returned; its thread is ending
  }

  void StopStreams() {
    std::vector<std::shared_ptr<StreamChannel>> all;
    {
      std::lock_guard lock(streams_mu);
      all.swap(streams);
    }
    for (auto& c : all) c->Close();
    for (auto& c : all)
      if (c->thread.joinable()) c->thread.join();
  }

  // A streaming route: runs the handler on a thread of its own and writes what
  // it hands over — the head, then each piece as one chunk — with the request
  // timeout per write. Returns the response to send as usual if the handler
  // answered whole (an error) or no stream could start; nullopt once a stream
  // has ended (the connection is then closed).
  asio::awaitable<std::optional<HttpResponse>> Stream(tcp::socket& socket, Deadline& deadline, RequestContext& ctx,
                                                      const StreamHandler& handler) {
    auto channel = std::make_shared<StreamChannel>(socket.get_executor());
    if (auto refused = StartStream(channel, ctx, handler)) co_return refused;
    const bool chunked = ctx.req.version() >= 11;
    const auto timeout = std::chrono::milliseconds(options.request_timeout_ms);
    bool started = false;
    // While the handler prepares a piece, no I/O is due.
    deadline.Disarm();
    while (StreamChannel::Piece* piece = co_await channel->Next()) {
      beast::error_code ec;
      deadline.Arm(timeout);
      if (auto* head = std::get_if<HttpResponse>(piece); head && !started) {
        http::response<http::empty_body> h(std::move(head->base()));
        h.set(http::field::server, "authledger");
        h.erase(http::field::content_length);
        h.keep_alive(false);
        h.chunked(chunked);
        http::response_serializer<http::empty_body> sr(h);
        co_await http::async_write_header(socket, sr, asio::redirect_error(asio::use_awaitable, ec));
        started = true;
        // A client sends nothing after its request: readability means it closed
        // its side (or misbehaves), and the stream ends at once.
        socket.async_wait(tcp::socket::wait_read, [channel](const beast::error_code&) { channel->Close(); });
      } else if (auto* data = std::get_if<std::string>(piece); data && started) {
        if (chunked && !data->empty())  // (an empty chunk would end the body)
          co_await asio::async_write(socket, http::make_chunk(asio::buffer(*data)),
                                     asio::redirect_error(asio::use_awaitable, ec));
        else if (!chunked)
          co_await asio::async_write(socket, asio::buffer(*data), asio::redirect_error(asio::use_awaitable, ec));
      } else {
        spdlog::error("stream handler for {} wrote out of order (Start once, then Write)", ctx.endpoint);
        ec = asio::error::invalid_argument;
      }
      deadline.Disarm();
      if (ec) channel->Close();
      else channel->Written();
    }
    // The handler has returned.
    if (started && chunked && !channel->closed()) {
      beast::error_code ec;
      deadline.Arm(timeout);
      co_await asio::async_write(socket, http::make_chunk_last(), asio::redirect_error(asio::use_awaitable, ec));
    }
    ReleaseStream(channel);
    if (started) co_return std::nullopt;
    if (auto whole = channel->TakeWhole()) co_return whole;
    co_return ProblemFromStatus(ctx.req, Status::Internal("stream handler for " + ctx.endpoint + " sent nothing"));
  }

  asio::awaitable<void> Session(tcp::socket socket, std::string peer, ConcurrencyQuota::Slot slot) {
    beast::error_code ec;
    Deadline deadline(socket);
    // Room for a whole header block up to the limit (the parser answers 431 beyond
    // it) and a read's worth of what follows; a body streams through it.
    beast::flat_buffer buffer(options.max_header_bytes + 8192);
    std::string out;  // the bytes of a JsonBodyHandler's answer; reused, like body
    std::string body;
    const auto timeout = std::chrono::milliseconds(options.request_timeout_ms);
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // The deadline covers waiting for and reading the request, then writing
      // the response; not the handler in between (a command may take longer).
      deadline.Arm(timeout);
      co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      deadline.Disarm();
      if (deadline.expired() || ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset)
        break;
      // A request whose last transfer coding is not chunked has no framing (RFC 9112
      // §6.1): Beast reads it as bodiless, and what follows would be taken as the
      // next request (smuggling). It is refused, and the connection closed.
      if (!ec && parser.get().count(http::field::transfer_encoding) > 0 && !parser.chunked())
        ec = http::error::bad_transfer_encoding;
      // An HTTP/1.1 request names exactly one Host, any request at most one (RFC 9112 §3.2).
      const bool bad_host = !ec && (parser.get().count(http::field::host) > 1 ||
                                    (parser.get().version() >= 11 && parser.get().count(http::field::host) == 0));
      if (bad_host) ec = http::error::bad_field;
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
            : ec == http::error::bad_transfer_encoding
                ? Problem(dummy, http::status::bad_request, "malformed-http", "Malformed HTTP request",
                          "Transfer-Encoding must end in chunked (RFC 9112 section 6.1)")
            : bad_host
                ? Problem(dummy, http::status::bad_request, "malformed-http", "Malformed HTTP request",
                          "an HTTP/1.1 request needs exactly one Host header (RFC 9112 section 3.2)")
                : Problem(dummy, http::status::bad_request, "malformed-http", "Malformed HTTP request", ec.message());
        res.keep_alive(false);
        deadline.Arm(timeout);
        co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      HttpRequest req = parser.release();
      std::string_view target(req.target().data(), req.target().size());
      std::size_t q = target.find('?');
      std::string_view path = target.substr(0, q);
      auto match = router.Find(req, path);
      RequestContext ctx{req,
                         ClientAddress(req, peer, options.trusted_proxies),
                         path,
                         q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                         std::move(match.params),
                         std::move(match.endpoint)};
      const bool keep_alive = req.keep_alive() && !stopped.load(std::memory_order_relaxed);
      HttpResponse res;
      if (match.stream) {
        // A stream is the connection's last response, unless it was refused.
        auto refused = co_await Stream(socket, deadline, ctx, *match.stream);
        if (!refused) break;
        res = std::move(*refused);
      } else if (match.async) {
        res = co_await DispatchAsync(ctx, *match.async);
      } else if (match.json_body) {
        body.clear();
        auto whole = co_await Dispatch<std::optional<HttpResponse>>(ctx, match.kind,
                                                                    [&] { return (*match.json_body)(ctx, body); });
        if (!whole) {
          JsonOkMessage(req.version(), keep_alive, body, &out);
          deadline.Arm(timeout);
          co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
          if (ec || !keep_alive) break;
          continue;
        }
        res = std::move(*whole);
      } else if (match.handler) {
        res = co_await Dispatch<HttpResponse>(ctx, match.kind, [&] { return (*match.handler)(ctx); });
      } else {
        res = std::move(match.error);
      }
      res.set(http::field::server, "authledger");
      res.keep_alive(keep_alive);
      deadline.Arm(timeout);
      co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  asio::awaitable<void> Accept() {
    constexpr std::chrono::milliseconds kFirstBackoff{10}, kLongestBackoff{1000};
    std::chrono::milliseconds backoff{0};
    asio::steady_timer pause(*contexts[0]);
    for (std::size_t next = 0;; ++next) {
      beast::error_code ec;
      auto& ioc = *contexts[next % contexts.size()];
      tcp::socket socket =
          co_await acceptor->async_accept(ioc.get_executor(), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopped.load() || ec == asio::error::operation_aborted) co_return;
        // E.g. EMFILE: the connection stays in the backlog and would fail again at
        // once. Existing connections keep being served while the acceptor waits.
        backoff =
            backoff.count() == 0 ? kFirstBackoff : std::min<std::chrono::milliseconds>(2 * backoff, kLongestBackoff);
        if (backoff == kFirstBackoff)
          spdlog::warn("http: accepting a connection failed: {}; backing off", ec.message());
        pause.expires_after(backoff);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (stopped.load()) co_return;
        continue;
      }
      backoff = std::chrono::milliseconds(0);
      auto peer = socket.remote_endpoint(ec);
      if (ec) continue;  // already gone
      const std::string peer_ip = CanonicalPeer(peer.address());
      const auto parsed = ParseIp(peer_ip);
      const bool proxy = parsed && options.trusted_proxies.Contains(*parsed);
      ConcurrencyQuota::Slot slot = connections.Acquire(proxy ? std::string() : SourceKey(peer_ip));
      if (!slot) {
        socket.close(ec);  // over a cap: refuse rather than queue without bound
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(ioc, Session(std::move(socket), peer_ip, std::move(slot)), asio::detached);
    }
  }

  static std::string CanonicalPeer(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
      return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
    return a.to_string();
  }
};

HttpServer::HttpServer(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

HttpServer::~HttpServer() { Stop(); }

namespace {
// How many connections the open-file limit holds besides kReservedFds, after
// raising the soft limit toward the hard one if `wanted` needs it.
rlimit FdLimitFor(std::size_t wanted) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return rlimit{RLIM_INFINITY, RLIM_INFINITY};  // nothing to check
  const rlim_t needed = static_cast<rlim_t>(wanted + HttpServer::kReservedFds);
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? needed : std::min(needed, lim.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim;
}

// The total to run with: `configured`, or with 0 as many as fit up to
// kDefaultMaxConnections; InvalidArgument naming the setting if that is too few.
Result<std::size_t> FitConnectionsToFdLimit(std::size_t configured) {
  const std::size_t wanted = configured != 0 ? configured : HttpServer::kDefaultMaxConnections;
  const rlimit lim = FdLimitFor(wanted);
  const std::size_t fits = lim.rlim_cur == RLIM_INFINITY ? wanted
                           : lim.rlim_cur > HttpServer::kReservedFds
                               ? static_cast<std::size_t>(lim.rlim_cur) - HttpServer::kReservedFds
                               : 0;
  if (configured == 0 && fits >= HttpServer::kMinConnections) return std::min(wanted, fits);
  if (configured != 0 && fits >= configured) return configured;
  return Status::InvalidArgument(
      "server.max_connections = " + std::to_string(configured) + (configured == 0 ? " (as many as fit)" : "") +
      " does not fit the open-file limit: RLIMIT_NOFILE is " + std::to_string(lim.rlim_cur) + " (hard " +
      std::to_string(lim.rlim_max) + "), and " + std::to_string(HttpServer::kReservedFds) +
      " descriptors are kept for files; " +
      (fits >= HttpServer::kMinConnections ? "lower it to at most " + std::to_string(fits) + " or " : "") +
      "raise the limit (systemd: LimitNOFILE=)");
}
}  // namespace

Status HttpServer::Start() {
  auto total = FitConnectionsToFdLimit(impl_->options.max_connections);
  if (!total.ok()) return total.status();
  impl_->connections.SetTotal(*total);
  if (impl_->options.max_connections == 0 && *total < kDefaultMaxConnections)
    spdlog::warn("the open-file limit holds {} connections besides {} files: server.max_connections is {} (raise "
                 "RLIMIT_NOFILE, e.g. systemd LimitNOFILE=, for up to {})",
                 *total, kReservedFds, *total, kDefaultMaxConnections);
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
  impl_->StopStreams();
  if (impl_->command_pool) impl_->command_pool->join();
  {
    // Asynchronous handlers still use their requests until they answer.
    std::unique_lock lock(impl_->answers_mu);
    if (!impl_->answers_cv.wait_for(lock, std::chrono::seconds(30), [&] { return impl_->answers_pending == 0; }))
      spdlog::error("http: {} answers still pending at shutdown", impl_->answers_pending);
  }
  for (auto& ctx : impl_->contexts) ctx->stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
}

std::uint16_t HttpServer::port() const { return impl_->bound_port; }

}  // namespace authledger
