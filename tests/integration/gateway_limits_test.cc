// A gateway one client cannot take down (issue 13, items 3 and 5, and the
// rate-limiter and X-Min-Position bounds), over real HTTP on loopback: failed
// attempts never lock out a valid key, forwarding headers count only from
// trusted proxies, a flood of new sources does not limit strangers, connections
// are capped per client, accept errors back off, and X-Min-Position waits are
// bounded per client and in all. (The event-stream caps are in events_api_test.)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "tests/support/test_node.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// A blocking TCP connection to 127.0.0.1:port from the loopback address `source`
// (any of 127.0.0.0/8 is this host); -1 if it cannot connect.
int ConnectFrom(unsigned short port, const std::string& source) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` on `fd` and reads one answer (head and Content-Length body)
// within `timeout`. The status, or 0 if the connection closed (or stayed silent) first.
int Exchange(int fd, const std::string& request, milliseconds timeout = milliseconds(5000),
             std::string* got = nullptr) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return 0;
  const auto deadline = SteadyClock::now() + timeout;
  std::string in;
  for (;;) {
    if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
      std::size_t length = 0;
      if (auto cl = in.find("Content-Length: "); cl != std::string::npos && cl < end)
        length = std::stoul(in.substr(cl + 16));
      if (in.size() >= end + 4 + length) {
        if (got) *got = in;
        return std::stoi(in.substr(9, 3));
      }
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return 0;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return 0;
    in.append(buf, static_cast<std::size_t>(n));
  }
}

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

std::map<std::string, std::string> Headers(const std::string& bearer, const std::string& forwarded_for = "") {
  std::map<std::string, std::string> h{{"Authorization", "Bearer " + bearer}};
  if (!forwarded_for.empty()) h["X-Forwarded-For"] = forwarded_for;
  return h;
}

// Issue 13, item 3: failures from an address (other clients behind the same NAT
// or proxy) used to lock a valid key out of the management API.
TEST(GatewayLimitsTest, FailedAttemptsFromAnAddressNeverLockOutAValidKey) {
  TestNode t;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t.http().Call("GET", "/v1/keys", "al_live_wrong").status, 401);
  auto blocked = t.http().Call("GET", "/v1/keys", "al_live_wrong");
  EXPECT_EQ(blocked.status, 429) << blocked.body;
  EXPECT_EQ(blocked.json()["type"], "/problems/too-many-failed-authentications");
  EXPECT_EQ(t.http().Call("GET", "/v1/keys", t.admin_key()).status, 200);
  EXPECT_EQ(t.http().Call("POST", "/v1/keys", t.admin_key(), {{"name", "n"}, {"scopes", {"monitors:read"}}}).status,
            201);
  EXPECT_EQ(t.http().Call("GET", "/v1/keys", "not even bearer-shaped").status, 429);
}

TEST(GatewayLimitsTest, ForwardingHeadersNameTheClientOnlyFromATrustedProxy) {
  TestNode t([](Config& c) { c.trusted_proxies = {"127.0.0.0/8", "10.0.0.0/8"}; });
  auto& http = t.http();
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "198.51.100.7")).status, 401);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "198.51.100.7")).status, 429);
  // Another client behind the same proxy is not blocked.
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "198.51.100.8")).status, 401);
  // The right-most hop outside the trusted blocks is the client; what it claims before it is not believed.
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "203.0.113.1, 198.51.100.7, 10.1.2.3")).status,
            429);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "198.51.100.7, 203.0.113.1")).status, 401);
  // RFC 7239 Forwarded wins over X-Forwarded-For; ports and brackets are understood.
  auto h = Headers("al_live_wrong", "203.0.113.2");
  h["Forwarded"] = "for=192.0.2.60;proto=https, for=\"198.51.100.7:4711\"";
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", h).status, 429);
  h["Forwarded"] = "for=\"[2001:db8:cafe::17]:4711\"";
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", h).status, 401);
  // A hop that is not an address leaves the proxy that named it as the client: not 198.51.100.7.
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "198.51.100.7, unknown")).status, 401);

  // The client address is the one the audit view records and IP allowlists check.
  auto created =
      http.Request("POST", "/v1/keys",
                   json({{"name", "fenced"}, {"scopes", {"keys:admin"}}, {"allowed_cidrs", {"203.0.113.0/24"}}}).dump(),
                   Headers(t.admin_key(), "203.0.113.50"));
  ASSERT_EQ(created.status, 201) << created.body;
  auto audit = http.Request("GET", "/v1/audit-log?limit=1", "", Headers(t.admin_key()));
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_EQ(audit.json()["entries"][0]["actor"]["ip"], "203.0.113.50");
  const std::string fenced = created.json()["key"];
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers(fenced, "203.0.113.9")).status, 200);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers(fenced, "198.51.100.9")).status, 403);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers(fenced)).status, 403);  // the proxy itself is not in the list
}

TEST(GatewayLimitsTest, ForwardingHeadersFromAnyOtherPeerAreIgnored) {
  TestNode t;  // no trusted proxies
  auto& http = t.http();
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "198.51.100." + std::to_string(i))).status,
              401);
  auto h = Headers("al_live_wrong", "203.0.113.77");
  h["Forwarded"] = "for=203.0.113.78";
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", h).status, 429);
  ASSERT_EQ(http.Request("POST", "/v1/keys", json({{"name", "n"}, {"scopes", {"monitors:read"}}}).dump(),
                         Headers(t.admin_key(), "203.0.113.50"))
                .status,
            201);
  auto audit = http.Request("GET", "/v1/audit-log?limit=1", "", Headers(t.admin_key()));
  EXPECT_EQ(audit.json()["entries"][0]["actor"]["ip"], "127.0.0.1");
}

// A full rate-limiter shard used to put every new source into one shared
// overflow bucket: a flood of addresses then limited everybody.
TEST(GatewayLimitsTest, AFloodOfNewSourcesDoesNotLimitAFreshClient) {
  TestNode t([](Config& c) {
    c.trusted_proxies = {"127.0.0.0/8"};
    c.rate_limit_entries = 1600;  // 100 per shard
    c.failed_auth_per_minute = 1;
  });
  auto& http = t.http();
  for (int i = 0; i < 4000; ++i) {
    const std::string source = "198.51." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    ASSERT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", source)).status, 401) << i;
  }
  // Fresh clients are not limited by the flood; recent offenders still are.
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "203.0.113.1")).status, 401);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "203.0.113.1")).status, 429);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "203.0.113.2")).status, 401);
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers(t.admin_key(), "203.0.113.3")).status, 200);
  // An IPv6 flood, one source per /64, is the same.
  for (int i = 0; i < 2000; ++i) {
    char source[64];
    std::snprintf(source, sizeof source, "2001:db8:%x:%x::1", i / 65536, i % 65536);
    ASSERT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", source)).status, 401) << source;
  }
  EXPECT_EQ(http.Request("GET", "/v1/keys", "", Headers("al_live_wrong", "2001:db8:ffff:1::1")).status, 401);
}

// Issue 13, item 5: one client could hold every connection.
TEST(GatewayLimitsTest, ConnectionsAreCappedPerClientAddress) {
  TestNode t([](Config& c) { c.max_connections_per_client = 3; });
  const unsigned short port = t.node().port();
  std::vector<int> mine;
  for (int i = 0; i < 3; ++i) {
    mine.push_back(ConnectFrom(port, "127.0.0.1"));
    ASSERT_GE(mine.back(), 0);
    EXPECT_EQ(Exchange(mine.back(), kHealthz), 200) << i;
  }
  // The fourth from the same address is closed at once, unanswered.
  const int fourth = ConnectFrom(port, "127.0.0.1");
  ASSERT_GE(fourth, 0);
  EXPECT_EQ(Exchange(fourth, kHealthz, milliseconds(2000)), 0);
  ::close(fourth);
  // Another address still connects, and the three keep being served.
  const int other = ConnectFrom(port, "127.0.0.2");
  ASSERT_GE(other, 0);
  EXPECT_EQ(Exchange(other, kHealthz), 200);
  ::close(other);
  for (int fd : mine) EXPECT_EQ(Exchange(fd, kHealthz), 200);
  // Closing one frees its place.
  ::close(mine.back());
  mine.pop_back();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    const int again = ConnectFrom(port, "127.0.0.1");
    served = Exchange(again, kHealthz, milliseconds(1000)) == 200;
    ::close(again);
    if (!served) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(served);
  for (int fd : mine) ::close(fd);
}

TEST(GatewayLimitsTest, TheTotalCapHoldsAndTrustedProxiesAreNotHeldToThePerClientCap) {
  TestNode t([](Config& c) {
    c.max_connections = 16;
    c.max_connections_per_client = 1;
    c.trusted_proxies = {"127.0.0.2/32"};
  });
  const unsigned short port = t.node().port();
  std::vector<int> open;
  for (int i = 0; i < 4; ++i) {  // a proxy carries many clients
    open.push_back(ConnectFrom(port, "127.0.0.2"));
    EXPECT_EQ(Exchange(open.back(), kHealthz), 200) << i;
  }
  for (int i = 0; i < 12; ++i) {  // one each from twelve other addresses
    open.push_back(ConnectFrom(port, "127.0.1." + std::to_string(i + 1)));
    EXPECT_EQ(Exchange(open.back(), kHealthz), 200) << i;
  }
  // Sixteen open: the seventeenth is refused, wherever it comes from.
  for (const char* source : {"127.0.2.1", "127.0.0.2"}) {
    const int fd = ConnectFrom(port, source);
    EXPECT_EQ(Exchange(fd, kHealthz, milliseconds(2000)), 0) << source;
    ::close(fd);
  }
  for (int fd : open) ::close(fd);
}

double CpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Issue 13, item 5: on EMFILE the accept loop retried at once, spinning a core
// while new clients timed out.
TEST(GatewayLimitsTest, OutOfFileDescriptorsTheAcceptorBacksOffAndRecovers) {
  TestNode t;
  const unsigned short port = t.node().port();
  ASSERT_EQ(t.http().Call("GET", "/v1/keys", t.admin_key()).status, 200);
  // Sockets made while descriptors are free, connected once they are not.
  std::vector<int> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  std::size_t open_fds = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++open_fds;
  rlimit low = old;
  low.rlim_cur = open_fds + 32;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> filler;  // every descriptor below the limit
  for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int fd : clients) ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
  // The server cannot accept them; it must not spin meanwhile.
  std::this_thread::sleep_for(milliseconds(100));
  const double cpu0 = CpuSeconds();
  const auto wall0 = SteadyClock::now();
  std::this_thread::sleep_for(milliseconds(1000));
  const double cpu = CpuSeconds() - cpu0;
  const double wall = std::chrono::duration<double>(SteadyClock::now() - wall0).count();
  for (int fd : filler) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  // A spinning acceptor used about half a core here; the whole process (RocksDB,
  // the projector, a sanitizer's own threads) stays far below a quarter.
  EXPECT_LT(cpu, 0.25 * wall) << "the process used " << cpu << " s of CPU in " << wall << " s while out of descriptors";
  // Once descriptors are free, the waiting connections are served (the backoff is at most 1 s).
  for (int fd : clients) {
    EXPECT_EQ(Exchange(fd, kHealthz, milliseconds(5000)), 200);
    ::close(fd);
  }
  EXPECT_EQ(t.http().Call("GET", "/v1/keys", t.admin_key()).status, 200);
}

// X-Min-Position waits hold a command thread; verify calls need no credential.
TEST(GatewayLimitsTest, MinPositionWaitsAreBoundedPerClientAndInAll) {
  TestNode t([](Config& c) {
    c.max_min_position_waits = 2;
    c.max_min_position_waits_per_client = 1;
  });
  const unsigned short port = t.node().port();
  // A write that is durable but not applied (the projector is stopped) gives a
  // position a read then waits for (kBlockingMinPositionWait, 2 s).
  t.node().projector().Stop();
  t.node().commands().SetProjectionWait(milliseconds(50));
  auto w = t.http().Call("POST", "/v1/keys", t.admin_key(), {{"name", "slow"}, {"scopes", {"monitors:read"}}});
  ASSERT_EQ(w.status, 202) << w.body;
  const std::string position = w.header("x-ledger-position");
  const std::string read = "GET /v1/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + t.admin_key() +
                           "\r\nX-Min-Position: " + position + "\r\n\r\n";
  const std::string verify_body = json({{"key", "al_live_nothing"}}).dump();
  const std::string verify = "POST /v1/keys/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "X-Min-Position: " +
                             position + "\r\nContent-Length: " + std::to_string(verify_body.size()) + "\r\n\r\n" +
                             verify_body;
  auto waiting = [&](const std::string& source) {
    return std::async(std::launch::async, [&, source] {
      const int fd = ConnectFrom(port, source);
      const int status = Exchange(fd, read, milliseconds(5000));
      ::close(fd);
      return status;
    });
  };
  auto first = waiting("127.0.0.1");
  std::this_thread::sleep_for(milliseconds(300));
  // The same client again: refused at once, whether it reads or verifies.
  for (const std::string& request : {read, verify}) {
    const int fd = ConnectFrom(port, "127.0.0.1");
    std::string got;
    const auto t0 = SteadyClock::now();
    EXPECT_EQ(Exchange(fd, request, milliseconds(5000), &got), 429) << got;
    EXPECT_LT(SteadyClock::now() - t0, milliseconds(1000));
    EXPECT_NE(got.find("/problems/too-many-waits"), std::string::npos) << got;
    EXPECT_NE(got.find("Retry-After: 1"), std::string::npos) << got;
    ::close(fd);
  }
  auto second = waiting("127.0.0.2");
  std::this_thread::sleep_for(milliseconds(300));
  {  // A third client finds both places taken: 503.
    const int fd = ConnectFrom(port, "127.0.0.3");
    std::string got;
    EXPECT_EQ(Exchange(fd, verify, milliseconds(1000), &got), 503) << got;
    EXPECT_NE(got.find("/problems/too-many-waits"), std::string::npos) << got;
    ::close(fd);
  }
  // The waits end as before: the position is not applied within 2 s.
  EXPECT_EQ(first.get(), 503);
  EXPECT_EQ(second.get(), 503);
  // And their places are free again.
  const int fd = ConnectFrom(port, "127.0.0.3");
  std::string got;
  EXPECT_EQ(Exchange(fd, verify, milliseconds(2000), &got), 503) << got;
  EXPECT_EQ(got.find("too-many-waits"), std::string::npos) << got;
  ::close(fd);
}

}  // namespace
}  // namespace authledger::testing
