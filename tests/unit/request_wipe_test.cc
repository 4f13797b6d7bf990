// gateway/request_wipe.h: the presented key is overwritten in the request's own
// buffers (the ones the handler saw), not in a copy.
#include "gateway/request_wipe.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace authledger {
namespace {

bool AllZero(std::string_view bytes) {
  for (char c : bytes)
    if (c != 0) return false;
  return true;
}

TEST(RequestWipeTest, AuthorizationValueIsZeroedInPlace) {
  HttpRequest req{http::verb::get, "/v1/keys", 11};
  const std::string bearer = "Bearer al_live_" + std::string(51, 'K');
  req.set(http::field::authorization, bearer);
  req.set(http::field::host, "x");
  const auto before = req[http::field::authorization];
  const char* where = before.data();
  WipeAuthorization(req);
  const auto after = req[http::field::authorization];
  EXPECT_EQ(after.data(), where);  // the same bytes, not a replacement
  EXPECT_EQ(after.size(), bearer.size());
  EXPECT_TRUE(AllZero({after.data(), after.size()}));
  EXPECT_EQ(req[http::field::host], "x");  // other fields are left alone
}

TEST(RequestWipeTest, BodyIsZeroedInPlace) {
  HttpRequest req{http::verb::post, "/v1/keys/verify", 11};
  req.body() = R"({"key":"al_live_)" + std::string(51, 'K') + R"("})";
  const std::string_view body = req.body();
  WipeBody(req);
  EXPECT_EQ(std::string_view(req.body()).data(), body.data());
  EXPECT_EQ(req.body().size(), body.size());
  EXPECT_TRUE(AllZero(req.body()));
  HttpRequest empty{http::verb::get, "/", 11};
  WipeBody(empty);
  WipeAuthorization(empty);
  EXPECT_TRUE(empty.body().empty());
}

}  // namespace
}  // namespace authledger
