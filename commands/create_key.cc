#include "commands/handlers.h"
#include "commands/issue_key.h"
#include "domain/api_key.h"

namespace authledger {

void CreateKey(CommandContext& ctx, const std::string& account_id, const CreateKeyInput& input, const Caller& caller,
               const Actor& actor, Done<IssuedKey> done) {
  auto env = ParseEnvironment(input.environment);
  if (!env) return done(Status::InvalidArgument("environment must be 'live' or 'test'"));
  IssueKey(
      ctx, account_id, *env, actor, {},
      [&](const AccountState& s, const NewKey& key, TimeMs now) {
        return DecideCreateKey(s, input, key, caller, ctx.config().policy, now);
      },
      std::move(done));
}

}  // namespace authledger
