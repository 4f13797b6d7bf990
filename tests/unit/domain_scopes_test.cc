// domain/scopes: scope syntax, the catalogue and the admin:* wildcard.
#include "domain/scopes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace authledger {
namespace {

// Status codes by name, so failures print readably.
std::string CodeOf(const Status& s) { return Status::CodeName(s.code()); }

TEST(DomainScopesTest, DefaultCatalogueMirrorsTheProductPages) {
  ScopeCatalogue c = ScopeCatalogue::Default();
  const ScopeSet want = {"monitors:read",  "monitors:write", "alerts:read",  "alerts:write", "metrics:read",
                         "incidents:read", "teams:admin",    "billing:read", "keys:admin",   "clients:admin",
                         "events:read",    "ops:read",       "admin:*"};
  EXPECT_EQ(c.all(), want);
  for (const auto& s : want) {
    EXPECT_TRUE(c.Contains(s)) << s;
    EXPECT_TRUE(IsWellFormedScope(s)) << s;
  }
  EXPECT_FALSE(c.Contains("monitors:delete"));
  EXPECT_FALSE(c.Contains("Monitors:read"));
  EXPECT_FALSE(c.Contains(""));
  EXPECT_TRUE(c.Contains(kAdminWildcard));
  EXPECT_TRUE(c.Contains(kKeysAdminScope));
  EXPECT_TRUE(c.Contains(kClientsAdminScope));
  EXPECT_TRUE(c.Contains(kEventsReadScope));
  EXPECT_TRUE(Grants({"admin:*"}, kEventsReadScope));
  EXPECT_FALSE(Grants({"keys:admin"}, kEventsReadScope));
}

TEST(DomainScopesTest, CheckAllNamesTheUnknownScope) {
  ScopeCatalogue c = ScopeCatalogue::Default();
  EXPECT_TRUE(c.CheckAll({}).ok());
  EXPECT_TRUE(c.CheckAll({"monitors:read", "alerts:write"}).ok());
  Status st = c.CheckAll({"monitors:read", "monitors:delete", "bogus:x"});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(CodeOf(st), "InvalidArgument");
  EXPECT_NE(st.message().find("monitors:delete"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("bogus:x"), std::string::npos) << "should name the first unknown scope";
}

TEST(DomainScopesTest, CheckAllDoesNotEchoHugeInput) {
  ScopeCatalogue c = ScopeCatalogue::Default();
  std::string huge(10000, 'a');
  Status st = c.CheckAll({huge});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(CodeOf(st), "InvalidArgument");
  EXPECT_LT(st.message().size(), 200u);
}

TEST(DomainScopesTest, WellFormedScopes) {
  for (const char* s : {"a:b", "monitors:read", "admin:*", "x.y-z_1:read.all", "teams:*", "a1:b2"})
    EXPECT_TRUE(IsWellFormedScope(s)) << s;
  EXPECT_TRUE(IsWellFormedScope(std::string(32, 'a') + ":" + std::string(31, 'b')));   // 64 chars
  EXPECT_FALSE(IsWellFormedScope(std::string(32, 'a') + ":" + std::string(32, 'b')));  // 65 chars
}

TEST(DomainScopesTest, MalformedScopes) {
  for (const char* s : {"", ":", "a:", ":b", "ab", "a:b:c", "A:b", "a:B", "a b:c", "a:b ", "*:read", "a*:b", "a:b/c",
                        "a;b", "monitors:read\n", "é:read"}) {
    EXPECT_FALSE(IsWellFormedScope(s)) << "accepted '" << s << "'";
  }
}

TEST(DomainScopesTest, FromListBuildsCatalogue) {
  auto c = ScopeCatalogue::FromList({"checks:read", "checks:write", "checks:read", "admin:*"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->all(), (ScopeSet{"admin:*", "checks:read", "checks:write"}));
  EXPECT_TRUE(c->CheckAll({"checks:write"}).ok());
  EXPECT_FALSE(c->CheckAll({"monitors:read"}).ok());
}

TEST(DomainScopesTest, FromListRejectsMalformedAndEmpty) {
  auto bad = ScopeCatalogue::FromList({"checks:read", "Checks:Write"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(CodeOf(bad.status()), "InvalidArgument");
  EXPECT_NE(bad.status().message().find("Checks:Write"), std::string::npos);
  EXPECT_FALSE(ScopeCatalogue::FromList({"nocolon"}).ok());
  EXPECT_FALSE(ScopeCatalogue::FromList({"a:b:c"}).ok());
  EXPECT_FALSE(ScopeCatalogue::FromList({""}).ok());
  auto empty = ScopeCatalogue::FromList({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(CodeOf(empty.status()), "InvalidArgument");
}

TEST(DomainScopesTest, GrantsExactOrWildcard) {
  ScopeSet held = {"monitors:read", "alerts:write"};
  EXPECT_TRUE(Grants(held, "monitors:read"));
  EXPECT_TRUE(Grants(held, "alerts:write"));
  EXPECT_FALSE(Grants(held, "monitors:write"));
  EXPECT_FALSE(Grants(held, "admin:*"));
  EXPECT_FALSE(Grants({}, "monitors:read"));
  // keys:admin is not a wildcard.
  EXPECT_FALSE(Grants({"keys:admin"}, "monitors:write"));
  ScopeSet admin = {"admin:*"};
  const ScopeCatalogue catalogue = ScopeCatalogue::Default();
  for (const auto& s : catalogue.all()) EXPECT_TRUE(Grants(admin, s)) << s;
  // No prefix matching: "monitors:*" is not a wildcard.
  EXPECT_FALSE(Grants({"monitors:*"}, "monitors:read"));
}

TEST(DomainScopesTest, GrantsScopeOverAnyRange) {
  std::vector<std::string> held = {"monitors:read"};
  EXPECT_TRUE(GrantsScope(held, "monitors:read"));
  EXPECT_FALSE(GrantsScope(held, "monitors:write"));
  held.push_back("admin:*");
  EXPECT_TRUE(GrantsScope(held, "billing:read"));
  EXPECT_FALSE(GrantsScope(std::vector<std::string>{}, "billing:read"));
}

}  // namespace
}  // namespace authledger
