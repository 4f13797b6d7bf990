// domain/email: the addresses X-Actor-Email accepts, and their normal form.
#include "domain/email.h"

#include <gtest/gtest.h>

#include <string>

namespace authledger {
namespace {

TEST(DomainEmailTest, AcceptsPlainAddressesAndLowercasesTheDomain) {
  struct Case {
    std::string in, out;
  };
  for (const auto& [in, out] : std::initializer_list<Case>{
           {"alice@example.com", "alice@example.com"},
           {"Alice.Smith@Example.COM", "Alice.Smith@example.com"},
           {"ops+oncall@status-pool.example.co.uk", "ops+oncall@status-pool.example.co.uk"},
           {"a!#$%&'*+/=?^_`{|}~-z@x.io", "a!#$%&'*+/=?^_`{|}~-z@x.io"},
           {std::string(64, 'l') + "@" + std::string(63, 'd') + ".com",
            std::string(64, 'l') + "@" + std::string(63, 'd') + ".com"},
       }) {
    auto r = NormalizeEmail(in);
    ASSERT_TRUE(r.ok()) << in << ": " << r.status().ToString();
    EXPECT_EQ(*r, out);
  }
}

TEST(DomainEmailTest, RejectsWithoutQuotingTheAddress) {
  const std::string long_local = std::string(65, 'l') + "@example.com";
  const std::string long_label = "a@" + std::string(64, 'd') + ".com";
  const std::string long_total = std::string(60, 'l') + "@" + std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                                 std::string(60, 'c') + "." + std::string(10, 'd') + ".com";
  for (const std::string& bad : {std::string(),
                                 std::string("alice"),
                                 std::string("@example.com"),
                                 std::string("alice@"),
                                 std::string("alice@example"),
                                 std::string("alice@@example.com"),
                                 std::string(".alice@example.com"),
                                 std::string("alice.@example.com"),
                                 std::string("al..ice@example.com"),
                                 std::string("al ice@example.com"),
                                 std::string("\"alice\"@example.com"),
                                 std::string("alice@-example.com"),
                                 std::string("alice@example-.com"),
                                 std::string("alice@example..com"),
                                 std::string("alice@example.com."),
                                 std::string("alice@exa_mple.com"),
                                 std::string("alice@[192.0.2.1]"),
                                 std::string("al\xc3\xa9@example.com"),
                                 std::string("alice@example.com\r\nBcc: x"),
                                 long_local,
                                 long_label,
                                 long_total}) {
    auto r = NormalizeEmail(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    const std::string local = bad.substr(0, bad.find('@'));
    if (local.size() >= 3) {
      EXPECT_EQ(r.status().message().find(local), std::string::npos)
          << "never echoes the address: " << r.status().message();
    }
  }
}

}  // namespace
}  // namespace authledger
