// domain/redirect_uri: which redirect URIs an OAuth client may register.
#include "domain/redirect_uri.h"

#include <gtest/gtest.h>

#include <string>

namespace authledger {
namespace {

TEST(DomainRedirectUriTest, AcceptsHttpsAndLoopbackHttp) {
  for (const std::string& uri : std::initializer_list<std::string>{
           "https://hooks.internal.example.com/callback", "https://a.example", "https://a.example:8443/cb?x=1&y=%20",
           "https://[2001:db8::1]/cb", "http://localhost/cb", "http://127.0.0.1:8765/callback", "http://[::1]:9000/cb",
           "https://xn--bcher-kva.example/cb", "https://a.example:1/cb", "https://a.example:65535/cb",
           "https://" + std::string(63, 'l') + ".example/cb", "https://[::ffff:192.0.2.1]/cb"})
    EXPECT_TRUE(ValidateRedirectUri(uri).ok()) << uri << ": " << ValidateRedirectUri(uri).ToString();
}

TEST(DomainRedirectUriTest, RejectsWithAReason) {
  struct Case {
    std::string uri, why;
  };
  for (const auto& [uri, why] : std::initializer_list<Case>{
           {"http://hooks.example.com/cb", "must use https"},
           {"ftp://a.example/cb", "absolute https"},
           {"/relative/cb", "absolute https"},
           {"com.example.app:/cb", "absolute https"},
           {"HTTPS://a.example/cb", "absolute https"},
           {"https://a.example/cb#frag", "fragment"},
           {"https://user:hunter2@a.example/cb", "user information"},
           {"https://*.example.com/cb", "wildcards"},
           {"https:///cb", "no host"},
           {"https://", "no host"},
           {"https://a.example:99999/cb", "invalid port"},
           {"https://a.example:/cb", "invalid port"},
           {"https://a.example:8x/cb", "invalid port"},
           {"https://a.example:0/cb", "invalid port"},
           {"https://a_b.example/cb", "invalid host"},
           {"https://./cb", "invalid host"},
           {"https://a..b/cb", "invalid host"},
           {"https://-a.example/cb", "invalid host"},
           {"https://a-.example/cb", "invalid host"},
           {"https://.example/cb", "invalid host"},
           {"https://" + std::string(64, 'l') + ".example/cb", "invalid host"},
           {"https://[:::]/cb", "invalid IPv6"},
           {"https://[2001:db8::1/cb", "unterminated IPv6"},
           {"https://[zz::1]/cb", "invalid IPv6"},
           {"https://[]/cb", "no host"},
           {"https://a.example/c b", "space"},
           {"https://a.example/\xc3\xa9", "non-ASCII"},
           {std::string("https://a.example/\x01"), "control"},
           {"https://a.example/" + std::string(2000, 'p'), "longer than 2000"},
       }) {
    Status s = ValidateRedirectUri(uri);
    ASSERT_FALSE(s.ok()) << uri;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << uri;
    EXPECT_NE(s.message().find(why), std::string::npos) << uri << ": " << s.message();
    if (uri.size() > 8) {
      EXPECT_EQ(s.message().find(uri.substr(8)), std::string::npos) << "never quotes the URI";
    }
  }
}

}  // namespace
}  // namespace authledger
