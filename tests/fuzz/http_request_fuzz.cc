// Fuzz target: the HTTP request path. One real node (tests/support/test_node.h: embedded ledger,
// RocksDB read models, the gateway on a loopback port) lives for the whole run; each input is sent as
// raw bytes on a fresh connection, the client's side is then shut down, and everything the server
// answers is read until it closes. So every input goes through what a client's bytes go through:
// Beast's parser with the configured limits, the Transfer-Encoding and header checks, the router,
// authentication, the JSON readers and the handlers. "@KEY@" in the input is replaced by the node's
// admin key, so that mutations also reach the authenticated routes.
//
// Checks: the server answers every input (or closes) within 25 s without crashing, and never with a
// 500 (an unexpected error inside a handler).
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_check.h"
#include "tests/support/http_client.h"
#include "tests/support/test_node.h"

namespace {

using authledger::testing::TestNode;

// One node for the whole run, stopped at exit (before the statics it was made after are destroyed), so
// that no server thread outlives what it uses.
TestNode* the_node = nullptr;

TestNode& Node() {
  if (the_node == nullptr) {
    unsetenv("AUTHLEDGER_TEST_DUMP_DIR");  // fuzzed ledgers are no product output for the schema suite
    the_node = new TestNode();
    std::atexit([] {
      delete the_node;
      the_node = nullptr;
    });
  }
  return *the_node;
}

std::string WithKey(std::string bytes, const std::string& key) {
  for (std::size_t at = bytes.find("@KEY@"); at != std::string::npos; at = bytes.find("@KEY@", at + key.size()))
    bytes.replace(at, 5, key);
  return bytes;
}

std::string Exchange(unsigned short port, const std::string& bytes) {
  const int fd = authledger::testing::ConnectLoopback(port);
  // Below libFuzzer's -timeout=30 (ops/fuzz.sh), so a hang is reported here, with errno; the margin
  // is for a loaded machine, where a write that syncs to disk took more than 5 s.
  timeval timeout{25, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;  // libFuzzer's timer signal
    if (n <= 0) break;                      // the server may close early (e.g. after a 400); what it said is read below
    sent += static_cast<std::size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;  // libFuzzer's timer signal (SIGALRM every second)
    if (n <= 0) {
      if (n < 0 && errno != ECONNRESET) std::fprintf(stderr, "recv: errno %d\n", errno);
      FUZZ_CHECK(n == 0 || errno == ECONNRESET);  // a timeout means the server hung on this input
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  // Reset instead of TIME_WAIT: at a thousand connections a second, TIME_WAIT ran out of local ports.
  const linger reset{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  close(fd);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  TestNode& n = Node();
  const std::string answer =
      Exchange(n.node().port(), WithKey(std::string(authledger::fuzz::AsText(data, size)), n.admin_key()));
  FUZZ_CHECK(answer.find("HTTP/1.1 500 ") == std::string::npos);
  FUZZ_CHECK(answer.find("HTTP/1.0 500 ") == std::string::npos);
  return 0;
}
