// GET /v1/events over real HTTP on loopback: the account's ledger events as
// Server-Sent Events — order, ids, resumption, live delivery, tenancy, errors,
// the stream cap and shutdown with streams open.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "commands/await.h"
#include "commands/handlers.h"
#include "domain/events.h"
#include "tests/support/test_node.h"
#include "tests/support/workload.h"

namespace authledger::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// One block of an event stream (fields up to a blank line).
struct SseBlock {
  std::optional<std::string> id, event, data, retry;
  std::vector<std::string> comments;
};

// A minimal blocking client for one streaming response: sends a GET, reads the
// head, then decodes the body (chunked, Content-Length or close-delimited)
// incrementally into SSE blocks. Every wait is bounded.
class EventStreamClient {
 public:
  EventStreamClient(unsigned short port, const std::string& target,
                    const std::map<std::string, std::string>& headers = {},
                    const std::string& http_version = "HTTP/1.1") {
    fd_ = ConnectLoopback(port);
    std::string req = "GET " + target + " " + http_version + "\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      throw std::runtime_error("send failed");
    ReadHead(SteadyClock::now() + milliseconds(5000));
  }
  ~EventStreamClient() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  bool ended() const { return ended_; }

  // The next block within `timeout`; nullopt on timeout or at the end of the body.
  std::optional<SseBlock> Next(milliseconds timeout = milliseconds(5000)) {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      if (auto pos = body_.find("\n\n"); pos != std::string::npos) {
        std::string block = body_.substr(0, pos);
        body_.erase(0, pos + 2);
        if (block.empty()) continue;
        return Parse(block);
      }
      if (ended_ || !Fill(deadline)) return std::nullopt;
    }
  }
  // The next block that carries data (an event), skipping comments and id-only blocks.
  std::optional<SseBlock> NextEvent(milliseconds timeout = milliseconds(5000)) {
    const auto deadline = SteadyClock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) return std::nullopt;
      auto b = Next(left);
      if (!b || b->data) return b;
    }
  }
  // The whole body of a non-streaming response (Content-Length).
  std::string Body(milliseconds timeout = milliseconds(5000)) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!ended_ && Fill(deadline)) {
    }
    return body_;
  }
  // Waits until the server ends the response (last chunk or close); false on timeout.
  bool WaitEnd(milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!ended_) {
      if (!Fill(deadline)) return ended_;
    }
    return true;
  }

 private:
  // Reads more bytes (until `deadline`) and decodes what it can; false on timeout or EOF.
  bool Fill(SteadyClock::time_point deadline) {
    if (fd_ < 0) return false;
    auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      ended_ = true;  // EOF (close-delimited body, or the server went away)
      eof_ = true;
      return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    if (in_body_) Decode();
    return true;
  }

  void ReadHead(SteadyClock::time_point deadline) {
    std::size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill(deadline)) throw std::runtime_error("no response head");
    std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
    std::size_t pos = line_end;
    while (pos != std::string::npos && pos < head.size()) {
      std::size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      if (auto colon = line.find(':'); colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        headers[name] = value;
      }
      pos = next;
    }
    chunked_ = header("transfer-encoding") == "chunked";
    if (!chunked_ && !header("content-length").empty()) remaining_ = std::stoull(header("content-length"));
    in_body_ = true;
    Decode();
  }

  void Decode() {
    if (!chunked_) {
      std::size_t take = remaining_ ? std::min<std::size_t>(*remaining_, raw_.size()) : raw_.size();
      body_.append(raw_, 0, take);
      raw_.erase(0, take);
      if (remaining_ && (*remaining_ -= take) == 0) ended_ = true;
      return;
    }
    for (;;) {
      std::size_t line_end = raw_.find("\r\n");
      if (line_end == std::string::npos) return;
      std::size_t size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
      if (raw_.size() < line_end + 2 + size + 2) return;
      if (size == 0) {
        ended_ = true;
        raw_.clear();
        return;
      }
      body_.append(raw_, line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
    }
  }

  static SseBlock Parse(const std::string& block) {
    SseBlock b;
    std::size_t pos = 0;
    while (pos <= block.size()) {
      std::size_t nl = block.find('\n', pos);
      std::string line = block.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      pos = nl == std::string::npos ? block.size() + 1 : nl + 1;
      if (line.empty()) continue;
      if (line[0] == ':') {
        b.comments.push_back(line.substr(1));
        continue;
      }
      std::size_t colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      if (field == "id") b.id = value;
      else if (field == "event") b.event = value;
      else if (field == "retry") b.retry = value;
      else if (field == "data") b.data = b.data ? *b.data + "\n" + value : value;
    }
    return b;
  }

  int fd_ = -1;
  std::string raw_, body_;
  bool in_body_ = false, chunked_ = false, ended_ = false, eof_ = false;
  std::optional<std::uint64_t> remaining_;
};

// What the stream should send: the ledger's events of one account, each with
// the position after it (one-partition ledger: the event's own position).
struct Expected {
  std::string id, type, bytes;
};

class EventsApiTest : public ::testing::Test {
 protected:
  static void Configure(Config& c) {
    c.event_stream_keepalive = 200;  // ms: keep-alives and progress ids come quickly in tests
  }
  TestNode t{Configure};

  static std::map<std::string, std::string> Bearer(const std::string& key) {
    return {{"Authorization", "Bearer " + key}};
  }
  static std::unique_ptr<EventStreamClient> Open(TestNode& n, const std::string& key,
                                                 const std::string& target = "/v1/events",
                                                 std::map<std::string, std::string> extra = {}) {
    auto h = Bearer(key);
    h.insert(extra.begin(), extra.end());
    return std::make_unique<EventStreamClient>(n.node().port(), target, h);
  }
  std::unique_ptr<EventStreamClient> Open(const std::string& key, const std::string& target = "/v1/events",
                                          std::map<std::string, std::string> extra = {}) {
    return Open(t, key, target, std::move(extra));
  }
  // Opens a stream and checks its head and the leading retry block.
  static std::unique_ptr<EventStreamClient> OpenOk(TestNode& n, const std::string& key,
                                                   const std::string& target = "/v1/events",
                                                   std::map<std::string, std::string> extra = {}) {
    auto s = Open(n, key, target, std::move(extra));
    EXPECT_EQ(s->status, 200);
    EXPECT_EQ(s->header("content-type"), "text/event-stream");
    EXPECT_EQ(s->header("transfer-encoding"), "chunked");
    auto first = s->Next();
    EXPECT_TRUE(first && first->retry == "2000") << "the stream must start with retry: 2000";
    return s;
  }
  std::unique_ptr<EventStreamClient> OpenOk(const std::string& key, const std::string& target = "/v1/events",
                                            std::map<std::string, std::string> extra = {}) {
    return OpenOk(t, key, target, std::move(extra));
  }

  std::vector<Expected> ExpectedFor(const std::string& account) {
    std::vector<Expected> out;
    std::vector<StoredEvent> batch;
    Cursor c(t.node().log().Partitions());
    for (;;) {
      EXPECT_TRUE(t.node().log().Read(c, 1000, &batch).ok());
      if (batch.empty()) break;
      for (const auto& e : batch) {
        c.Advance(e.position);
        json j = json::parse(e.bytes);
        if (j["partitionkey"] != account || j["type"] == LedgerCheckpoint::kType) continue;
        out.push_back({c.ToString(), j["type"].get<std::string>(), e.bytes});
      }
    }
    return out;
  }

  // Reads n events and checks each against `want` (in order).
  void ExpectEvents(EventStreamClient& s, const std::vector<Expected>& want, std::size_t from = 0) {
    for (std::size_t i = from; i < want.size(); ++i) {
      auto b = s.NextEvent();
      ASSERT_TRUE(b) << "event " << i << " of " << want.size() << " did not arrive";
      EXPECT_EQ(b->id, want[i].id) << i;
      EXPECT_EQ(b->event, want[i].type) << i;
      EXPECT_EQ(b->data, want[i].bytes) << i;
    }
  }
  // True if no event (a block with data) arrives within `window`.
  bool NoEventWithin(EventStreamClient& s, milliseconds window) { return !s.NextEvent(window); }

  json NewKey(const std::vector<std::string>& scopes, const std::string& name = "siem") {
    return t.CreateKey({{"name", name}, {"scopes", scopes}});
  }

  void ExpectProblem(const HttpResult& r, int status, const std::string& detail_part = "") {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/problem+json");
    json j = r.json();
    EXPECT_EQ(j["status"], status);
    if (!detail_part.empty()) {
      EXPECT_NE(j["detail"].get<std::string>().find(detail_part), std::string::npos) << r.body;
    }
  }
};

TEST_F(EventsApiTest, StreamsTheAccountsEventsInOrderFromTheStart) {
  NewKey({"monitors:read"}, "one");
  json reader = NewKey({"events:read"});
  auto want = ExpectedFor(t.account_id());
  ASSERT_GE(want.size(), 4u);  // account.created, bootstrap key, two keys
  auto s = OpenOk(reader["key"]);
  EXPECT_EQ(s->header("cache-control"), "no-store");
  ExpectEvents(*s, want);
  // Each data line is the stored CloudEvents envelope of this account.
  for (const auto& w : want) {
    json j = json::parse(w.bytes);
    EXPECT_EQ(j["specversion"], "1.0");
    EXPECT_EQ(j["partitionkey"], t.account_id());
    EXPECT_EQ(j["source"], "/accounts/" + t.account_id());
  }
  EXPECT_EQ(want.front().type, "io.authledger.account.created.v1");
  EXPECT_EQ(want.front().id, "1");
  // Idle: keep-alive comments, nothing else.
  auto idle = s->Next(milliseconds(3000));
  ASSERT_TRUE(idle);
  EXPECT_FALSE(idle->data);
  ASSERT_EQ(idle->comments.size(), 1u);
  EXPECT_EQ(idle->comments[0], " keep-alive");
}

TEST_F(EventsApiTest, AdminWildcardHoldsEventsRead) {
  auto s = OpenOk(t.admin_key());
  ExpectEvents(*s, ExpectedFor(t.account_id()));
}

TEST_F(EventsApiTest, ResumesWithLastEventIdOrAfterWithoutDuplicatesOrGaps) {
  for (int i = 0; i < 5; ++i) NewKey({"monitors:read"}, "k" + std::to_string(i));
  auto want = ExpectedFor(t.account_id());
  ASSERT_GE(want.size(), 7u);
  std::string resume_id;
  {
    auto s = OpenOk(t.admin_key());
    for (std::size_t i = 0; i < 3; ++i) {
      auto b = s->NextEvent();
      ASSERT_TRUE(b);
      EXPECT_EQ(b->data, want[i].bytes);
      resume_id = *b->id;
    }
  }  // disconnect after three events
  NewKey({"alerts:read"}, "while away");
  want = ExpectedFor(t.account_id());
  {
    auto s = OpenOk(t.admin_key(), "/v1/events", {{"Last-Event-ID", resume_id}});
    ExpectEvents(*s, want, 3);
    EXPECT_TRUE(NoEventWithin(*s, milliseconds(500)));
  }
  {
    auto s = OpenOk(t.admin_key(), "/v1/events?after=" + resume_id);
    ExpectEvents(*s, want, 3);
  }
  {  // the partition:offset form names the same position
    auto s = OpenOk(t.admin_key(), "/v1/events?after=0:" + resume_id);
    ExpectEvents(*s, want, 3);
  }
  {  // Last-Event-ID wins over after=
    auto s = OpenOk(t.admin_key(), "/v1/events?after=0", {{"Last-Event-ID", want[5].id}});
    ExpectEvents(*s, want, 6);
  }
  {  // resuming at the last event: nothing more until something happens
    auto s = OpenOk(t.admin_key(), "/v1/events?after=" + want.back().id);
    EXPECT_TRUE(NoEventWithin(*s, milliseconds(500)));
  }
}

TEST_F(EventsApiTest, NewEventsArriveLiveAndPromptly) {
  auto s = OpenOk(t.admin_key());
  auto before = ExpectedFor(t.account_id());
  ExpectEvents(*s, before);
  auto t0 = SteadyClock::now();
  json k = NewKey({"metrics:read"}, "live");  // through the API, while the stream waits
  auto b = s->NextEvent(milliseconds(5000));
  ASSERT_TRUE(b) << "the new event did not arrive";
  EXPECT_LT(SteadyClock::now() - t0, milliseconds(3000));
  EXPECT_EQ(b->event, "io.authledger.key.created.v1");
  json j = json::parse(*b->data);
  EXPECT_EQ(j["subject"], "keys/" + k["id"].get<std::string>());
  EXPECT_EQ(*b->id, std::to_string(k["position"].get<Position>()));
  EXPECT_EQ(b->id, ExpectedFor(t.account_id()).back().id);
  // A revocation, too.
  ASSERT_EQ(t.http().Call("DELETE", "/v1/keys/" + k["id"].get<std::string>(), t.admin_key()).status, 200);
  b = s->NextEvent(milliseconds(5000));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->event, "io.authledger.key.revoked.v1");
}

TEST_F(EventsApiTest, OtherAccountsEventsAndCheckpointsAreNeverSent) {
  Actor actor = Actor::Cli("tester", "authledger test");
  auto other =
      Await<CreatedAccount>([&](auto done) { CreateAccount(t.node().commands(), "other-account", actor, done); });
  ASSERT_TRUE(other.ok());
  CreateKeyInput input;
  input.name = "other siem";
  input.scopes = {"events:read"};
  auto other_key = Await<IssuedKey>(
      [&](auto done) { CreateKey(t.node().commands(), other->account_id, input, Caller{}, actor, done); });
  ASSERT_TRUE(other_key.ok());
  NewKey({"monitors:read"}, "mine");
  ASSERT_TRUE(t.node().checkpointer()->Checkpoint().ok());
  input.name = "other second";
  ASSERT_TRUE(Await<IssuedKey>([&](auto done) {
                CreateKey(t.node().commands(), other->account_id, input, Caller{}, actor, done);
              }).ok());
  ASSERT_TRUE(t.node().checkpointer()->Checkpoint().ok());

  auto mine = ExpectedFor(t.account_id());
  auto theirs = ExpectedFor(other->account_id);
  ASSERT_EQ(theirs.size(), 3u);  // account.created + two keys
  {
    auto s = OpenOk(t.admin_key());
    ExpectEvents(*s, mine);
    // The position still moves past what was skipped: with the next keep-alive
    // comes an id-only block at the ledger's head; no event.
    const std::string head = t.node().log().Heads().ToString();
    ASSERT_NE(mine.back().id, head);
    bool progressed = false;
    for (int i = 0; i < 10 && !progressed; ++i) {
      auto b = s->Next(milliseconds(1000));
      ASSERT_TRUE(b);
      ASSERT_FALSE(b->data) << *b->data;
      progressed = b->id == head;
    }
    EXPECT_TRUE(progressed) << "no id past the skipped events";
    EXPECT_TRUE(NoEventWithin(*s, milliseconds(600)));
    // Live: another account's new event is not sent either.
    input.name = "other third";
    ASSERT_TRUE(Await<IssuedKey>([&](auto done) {
                  CreateKey(t.node().commands(), other->account_id, input, Caller{}, actor, done);
                }).ok());
    EXPECT_TRUE(NoEventWithin(*s, milliseconds(600)));
  }
  {
    auto s = OpenOk(other_key->full_key);
    theirs = ExpectedFor(other->account_id);
    ExpectEvents(*s, theirs);
    EXPECT_TRUE(NoEventWithin(*s, milliseconds(600)));
  }
  // Resuming after a skip-only id lands after the skipped events.
  {
    auto s = OpenOk(t.admin_key(), "/v1/events", {{"Last-Event-ID", t.node().log().Heads().ToString()}});
    json k = NewKey({"monitors:read"}, "after skip");
    auto b = s->NextEvent();
    ASSERT_TRUE(b);
    EXPECT_EQ(json::parse(*b->data)["subject"], "keys/" + k["id"].get<std::string>());
  }
}

TEST_F(EventsApiTest, NeedsAValidKeyWithEventsRead) {
  auto none = t.http().Request("GET", "/v1/events");
  ExpectProblem(none, 401);
  EXPECT_NE(none.header("www-authenticate").find("Bearer"), std::string::npos);
  ExpectProblem(t.http().Call("GET", "/v1/events", "al_live_notakey"), 401);
  ExpectProblem(t.http().Request("GET", "/v1/events", "", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401, "Bearer");
  json monitors = NewKey({"monitors:read"});
  auto r = t.http().Call("GET", "/v1/events", monitors["key"]);
  ExpectProblem(r, 403, "events:read");
  EXPECT_NE(r.header("www-authenticate").find("insufficient_scope"), std::string::npos);
  json keys_admin = NewKey({"keys:admin"});
  ExpectProblem(t.http().Call("GET", "/v1/events", keys_admin["key"]), 403, "events:read");
  // A revoked key is refused.
  json reader = NewKey({"events:read"});
  ASSERT_EQ(t.http().Call("DELETE", "/v1/keys/" + reader["id"].get<std::string>(), t.admin_key()).status, 200);
  ExpectProblem(t.http().Call("GET", "/v1/events", reader["key"]), 401);
  // Other methods: 405.
  auto post = t.http().Call("POST", "/v1/events", t.admin_key());
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET");
}

TEST_F(EventsApiTest, AStreamEndsSoonAfterItsKeyIsRevokedOrLosesTheScope) {
  json reader = NewKey({"events:read", "monitors:read"}, "revoked soon");
  auto s = OpenOk(reader["key"]);
  ExpectEvents(*s, ExpectedFor(t.account_id()));
  ASSERT_EQ(t.http().Call("DELETE", "/v1/keys/" + reader["id"].get<std::string>(), t.admin_key()).status, 200);
  EXPECT_TRUE(s->WaitEnd(milliseconds(5000))) << "the stream of a revoked key goes on";
  ExpectProblem(t.http().Call("GET", "/v1/events", reader["key"]), 401);

  json other = NewKey({"events:read", "monitors:read"}, "loses scope");
  s = OpenOk(other["key"]);
  ASSERT_EQ(t.http()
                .Call("DELETE", "/v1/keys/" + other["id"].get<std::string>() + "/scopes/events:read", t.admin_key())
                .status,
            200);
  EXPECT_TRUE(s->WaitEnd(milliseconds(5000))) << "the stream of a key without events:read goes on";
}

TEST_F(EventsApiTest, MalformedOrOutOfRangePositionsAre400BeforeStreaming) {
  const std::string head = t.node().log().Heads().ToString();
  const std::string beyond = std::to_string(t.node().log().Heads().offset(0) + 1);
  for (const std::string& after :
       {std::string("abc"), std::string("-1"), std::string("1.5"), std::string(""), std::string("0:1,0:2"),
        std::string("1:0"), std::string("0:"), std::string(":5"), std::string("99999999999999999999"), beyond,
        "0:" + beyond, std::string(2000, '1'),
        // sign, space, 2^48 (beyond any offset), a partition that overflows
        std::string("%2B1"), std::string("%201"), std::string("0:-1"), std::string("281474976710656"),
        std::string("0:281474976710656"), std::string("18446744073709551616:1")}) {
    auto r = t.http().Call("GET", "/v1/events?after=" + after, t.admin_key());
    ExpectProblem(r, 400, "after");
    EXPECT_EQ(r.json()["type"], "/problems/invalid-request");
  }
  auto r = t.http().Call("GET", "/v1/events?after=" + beyond, t.admin_key());
  ExpectProblem(r, 400, "beyond the end of this ledger (" + head + ")");
  ExpectProblem(t.http().Request("GET", "/v1/events", "",
                                 {{"Authorization", "Bearer " + t.admin_key()}, {"Last-Event-ID", "nonsense"}}),
                400, "Last-Event-ID");
  // Last-Event-ID is checked even when after= is fine.
  ExpectProblem(t.http().Request("GET", "/v1/events?after=0", "",
                                 {{"Authorization", "Bearer " + t.admin_key()}, {"Last-Event-ID", beyond}}),
                400, "Last-Event-ID");
  // The connection stays usable after a refused stream.
  EXPECT_EQ(t.http().Call("GET", "/v1/keys", t.admin_key()).status, 200);
  // The valid forms.
  for (const std::string& after : {std::string("0"), std::string("0:0"), head, "0:" + head}) {
    auto s = Open(t.admin_key(), "/v1/events?after=" + after);
    EXPECT_EQ(s->status, 200) << after;
  }
}

// A stream refused for a cap: `status`, problem+json too-many-streams, Retry-After 5,
// and a detail holding `detail_part`.
void ExpectTooManyStreams(EventStreamClient& refused, int status, const std::string& detail_part) {
  EXPECT_EQ(refused.status, status);
  EXPECT_EQ(refused.header("content-type"), "application/problem+json");
  EXPECT_EQ(refused.header("retry-after"), "5");
  json problem = json::parse(refused.Body());
  EXPECT_EQ(problem["type"], "/problems/too-many-streams");
  EXPECT_EQ(problem["status"], status);
  EXPECT_NE(problem["detail"].get<std::string>().find(detail_part), std::string::npos) << problem["detail"];
}

TEST_F(EventsApiTest, StreamsBeyondTheCapGet503UntilOneCloses) {
  TestNode n([](Config& c) { c.max_event_streams = 3; });
  std::vector<std::unique_ptr<EventStreamClient>> open;
  for (int i = 0; i < 3; ++i) open.push_back(OpenOk(n, n.admin_key()));
  auto refused = Open(n, n.admin_key());
  ExpectTooManyStreams(*refused, 503, "at most 3");
  // Other requests are still served while the streams wait (the node has two I/O threads).
  EXPECT_EQ(n.http().Call("GET", "/v1/keys", n.admin_key()).status, 200);
  auto verify = n.http().Call("POST", "/v1/keys/verify", "", {{"key", n.admin_key()}});
  EXPECT_EQ(verify.status, 200);
  // A client that goes away frees its slot within moments (no write needed to notice).
  open.pop_back();
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    auto s = Open(n, n.admin_key());
    reopened = s->status == 200;
    if (!reopened) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(reopened);
}

TEST_F(EventsApiTest, Http10ClientsGetACloseDelimitedStream) {
  EventStreamClient s(t.node().port(), "/v1/events", Bearer(t.admin_key()), "HTTP/1.0");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.header("transfer-encoding"), "");
  EXPECT_EQ(s.header("content-length"), "");
  auto first = s.Next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->retry, "2000");
  auto want = ExpectedFor(t.account_id());
  auto b = s.NextEvent();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->data, want[0].bytes);
}

TEST_F(EventsApiTest, StoppingTheServerEndsOpenStreamsPromptly) {
  auto a = OpenOk(t.admin_key());
  auto b = OpenOk(t.admin_key());
  ExpectEvents(*a, ExpectedFor(t.account_id()));
  auto t0 = SteadyClock::now();
  t.Shutdown();  // Node::Stop + destruction, with two streams open and waiting
  EXPECT_LT(SteadyClock::now() - t0, milliseconds(3000));
  EXPECT_TRUE(a->WaitEnd(milliseconds(3000)));
  EXPECT_TRUE(b->WaitEnd(milliseconds(3000)));
}

// Issue 13, item 6: one tenant could hold every stream of the node.
TEST_F(EventsApiTest, OneAccountCannotHoldEveryStream) {
  TestNode n([](Config& c) {
    c.max_event_streams = 4;
    c.max_event_streams_per_account = 2;
  });
  std::vector<std::unique_ptr<EventStreamClient>> open;
  for (int i = 0; i < 2; ++i) open.push_back(OpenOk(n, n.admin_key()));
  auto refused = Open(n, n.admin_key());
  ExpectTooManyStreams(*refused, 429, "already has 2 event streams");
  // Another account still gets its streams.
  Actor actor = Actor::Cli("tester", "authledger test");
  auto other = Await<CreatedAccount>([&](auto done) { CreateAccount(n.node().commands(), "other", actor, done); });
  ASSERT_TRUE(other.ok());
  CreateKeyInput input;
  input.name = "other siem";
  input.scopes = {"events:read"};
  auto other_key = Await<IssuedKey>(
      [&](auto done) { CreateKey(n.node().commands(), other->account_id, input, Caller{}, actor, done); });
  ASSERT_TRUE(other_key.ok());
  auto theirs = OpenOk(n, other_key->full_key);
  // A stream that ends frees its account's place.
  open.pop_back();
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    auto s = Open(n, n.admin_key());
    reopened = s->status == 200;
    if (!reopened) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(reopened);
}

// Bytes this process has read through read(2)/pread(2) so far (/proc/self/io rchar).
std::uint64_t BytesRead() {
  std::ifstream io("/proc/self/io");
  std::string name;
  std::uint64_t value = 0;
  while (io >> name >> value)
    if (name == "rchar:") return value;
  return 0;
}

std::uint64_t DirectoryBytes(const std::string& dir) {
  std::uint64_t total = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

// Issue 13, item 6: a stream from the start read the whole multi-tenant ledger to
// find one account's events. It is served from the account's audit view now.
TEST_F(EventsApiTest, AStreamFromTheStartCostsTheAccountsEventsNotTheLedgers) {
  bench::WorkloadOptions o;  // other tenants' history
  o.events = 6000;
  o.accounts = 60;
  o.threads = 2;
  auto w = bench::AppendWorkload(t.node().log(), o);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(t.node().projector().WaitApplied(t.node().log().Heads(), milliseconds(60000)).ok());
  NewKey({"monitors:read"}, "after the others");  // the account has events before and after theirs
  json reader = NewKey({"events:read"});
  const auto want = ExpectedFor(t.account_id());
  ASSERT_GE(want.size(), 4u);
  const std::uint64_t ledger_bytes = DirectoryBytes(t.config().LedgerDir());
  const std::uint64_t before = BytesRead();
  auto s = OpenOk(reader["key"], "/v1/events?after=0");
  ExpectEvents(*s, want);
  const std::uint64_t read = BytesRead() - before;
  EXPECT_LT(read, ledger_bytes / 4) << "streaming " << want.size() << " events read " << read
                                    << " bytes; the ledger holds " << ledger_bytes;
  // The stream goes on live from there, and resumes from any id it sent.
  NewKey({"monitors:read"}, "live");
  const auto all = ExpectedFor(t.account_id());
  ExpectEvents(*s, all, want.size());
  auto resumed = OpenOk(reader["key"], "/v1/events", {{"Last-Event-ID", all[1].id}});
  ExpectEvents(*resumed, all, 2);
}

// The request timeout bounds each write of a stream, not the time between them: a stream
// whose keep-alives come less often than the timeout stays open (gateway/http_server.cc).
TEST(EventsApiTimeoutTest, AStreamQuieterThanTheRequestTimeoutStaysOpen) {
  TestNode t([](Config& c) {
    c.request_timeout_ms = 200;
    c.event_stream_keepalive = 700;
  });
  EventStreamClient s(t.node().port(), "/v1/events", {{"Authorization", "Bearer " + t.admin_key()}});
  ASSERT_EQ(s.status, 200);
  std::size_t events = 0;
  const auto t0 = SteadyClock::now();
  while (SteadyClock::now() - t0 < milliseconds(1600)) {
    auto b = s.Next(milliseconds(2000));
    ASSERT_TRUE(b) << "the stream ended after " << (SteadyClock::now() - t0) / milliseconds(1) << " ms";
    if (b->data) ++events;
  }
  EXPECT_GT(events, 0u);
  EXPECT_FALSE(s.ended());
}

}  // namespace
}  // namespace authledger::testing
