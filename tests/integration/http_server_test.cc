// The HTTP server's asynchronous routes over real loopback HTTP: an answer given
// later from another thread reaches the client; a handler that drops its Respond
// unanswered gets a 500 problem (and only then is an error logged).
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "gateway/http_server.h"
#include "gateway/responses.h"
#include "gateway/router.h"
#include "tests/support/http_client.h"

namespace authledger {
namespace {

using testing::HttpClient;

// Captures what is logged while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  bool Contains(const std::string& text) const {
    for (const auto& line : sink_->last_formatted())
      if (line.find(text) != std::string::npos) return true;
    return false;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

class AsyncRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // These routes are not the product's: keep them out of the OpenAPI check (schemas.suite).
    unsetenv("AUTHLEDGER_TEST_DUMP_DIR");
    router_.AddAsync(http::verb::post, "/later", [](RequestContext& ctx, Respond respond) {
      std::thread([&ctx, respond = std::move(respond)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        respond(JsonResponse(ctx.req, http::status::created, R"({"answered":"later"})"));
      }).detach();
    });
    router_.AddAsync(http::verb::post, "/dropped", [](RequestContext&, Respond) {});
    ServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.command_threads = 2;
    server_ = std::make_unique<HttpServer>(options, router_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override { server_->Stop(); }

  Router router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(AsyncRouteTest, AnAnswerGivenLaterFromAnotherThreadReachesTheClientAndLogsNoError) {
  LogCapture log;
  HttpClient client(server_->port());
  for (int i = 0; i < 3; ++i) {  // on one keep-alive connection
    auto r = client.Request("POST", "/later", "{}");
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.json()["answered"], "later");
  }
  EXPECT_FALSE(log.Contains("gave no answer"));
}

TEST_F(AsyncRouteTest, AHandlerThatDropsItsRespondGetsA500Problem) {
  LogCapture log;
  HttpClient client(server_->port());
  auto r = client.Request("POST", "/dropped", "{}");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_TRUE(log.Contains("the handler for POST /dropped gave no answer"));
  EXPECT_EQ(client.Request("POST", "/later", "{}").status, 201);  // the connection lives on
}

}  // namespace
}  // namespace authledger
