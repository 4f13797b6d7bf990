// The server's per-connection deadline (server.request_timeout_ms) over real
// sockets: idle and half-sent requests are cut off after it, a connection that
// keeps sending requests lives as long as it likes. (Streams: events_api_test.)
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr int kTimeoutMs = 300;

class Connection {
 public:
  explicit Connection(unsigned short port) { fd_ = ConnectLoopback(port); }
  ~Connection() { ::close(fd_); }
  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `n` bytes or `stop` appears, the peer closes, or `timeout`; returns what came.
  std::string Read(milliseconds timeout, const std::string& stop = "") {
    std::string got;
    const auto deadline = SteadyClock::now() + timeout;
    closed_ = false;
    for (;;) {
      if (!stop.empty() && got.find(stop) != std::string::npos) return got;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
      if (left <= 0) return got;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) return got;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return got;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
};

class ConnectionDeadlineTest : public ::testing::Test {
 protected:
  TestNode t{[](Config& c) { c.request_timeout_ms = kTimeoutMs; }};

  // Waits for the server to close `c`; returns how long that took.
  milliseconds TimeToClose(Connection& c, std::string* got) {
    const auto t0 = SteadyClock::now();
    *got = c.Read(milliseconds(10 * kTimeoutMs));
    EXPECT_TRUE(c.closed()) << "still open after " << 10 * kTimeoutMs << " ms";
    return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - t0);
  }
  std::string VerifyRequest() {
    const std::string body = R"({"key":")" + t.admin_key() + R"("})";
    return "POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
  }
};

TEST_F(ConnectionDeadlineTest, AnIdleConnectionIsClosedAfterTheTimeout) {
  Connection c(t.node().port());
  std::string got;
  milliseconds took = TimeToClose(c, &got);
  EXPECT_GE(took.count(), kTimeoutMs - 50);
  EXPECT_EQ(got, "");  // nothing to answer
}

TEST_F(ConnectionDeadlineTest, AHalfSentRequestIsClosedAfterTheTimeout) {
  Connection c(t.node().port());
  const std::string req = VerifyRequest();
  c.Send(req.substr(0, req.size() - 10));  // the body's end never comes
  std::string got;
  milliseconds took = TimeToClose(c, &got);
  EXPECT_GE(took.count(), kTimeoutMs - 50);
  EXPECT_EQ(got, "");
}

TEST_F(ConnectionDeadlineTest, AnIdleConnectionIsClosedAfterItsLastAnswerToo) {
  Connection c(t.node().port());
  c.Send(VerifyRequest());
  const std::string answer = c.Read(milliseconds(5000), "}");
  EXPECT_NE(answer.find("\"code\":\"VALID\""), std::string::npos) << answer;
  std::string got;
  milliseconds took = TimeToClose(c, &got);
  EXPECT_GE(took.count(), kTimeoutMs - 50);
}

TEST_F(ConnectionDeadlineTest, AConnectionInUseLivesLongerThanTheTimeout) {
  Connection c(t.node().port());
  const auto t0 = SteadyClock::now();
  int answered = 0;
  while (SteadyClock::now() - t0 < milliseconds(4 * kTimeoutMs)) {
    c.Send(VerifyRequest());
    const std::string answer = c.Read(milliseconds(5000), "}");
    ASSERT_NE(answer.find("\"code\":\"VALID\""), std::string::npos)
        << "after " << (SteadyClock::now() - t0) / milliseconds(1) << " ms: " << answer;
    ASSERT_FALSE(c.closed());
    ++answered;
    std::this_thread::sleep_for(milliseconds(kTimeoutMs / 3));
  }
  EXPECT_GE(answered, 8);
}

// The timeout bounds reading a request and writing its answer, not the handler in between.
TEST_F(ConnectionDeadlineTest, AHandlerSlowerThanTheTimeoutStillAnswers) {
  // A write that is durable but not applied here (the projector is stopped) gives
  // a position that a read then waits for, on the command pool, for
  // kBlockingMinPositionWait (2 s) — longer than the connection's deadline.
  t.node().projector().Stop();
  t.node().commands().SetProjectionWait(milliseconds(50));
  auto w = t.http().Call("POST", "/v1/keys", t.admin_key(), {{"name", "slow"}, {"scopes", {"monitors:read"}}});
  ASSERT_EQ(w.status, 202) << w.body;  // durable, not applied yet
  const std::string position = w.header("x-ledger-position");
  ASSERT_FALSE(position.empty());
  const auto t0 = SteadyClock::now();
  auto r = t.http().Request("GET", "/v1/keys", "",
                            {{"Authorization", "Bearer " + t.admin_key()}, {"X-Min-Position", position}});
  EXPECT_GE(SteadyClock::now() - t0, milliseconds(3 * kTimeoutMs));
  EXPECT_EQ(r.status, 503) << r.body;  // answered after the wait, on the same connection
}

}  // namespace
}  // namespace authledger::testing
