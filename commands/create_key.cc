#include "commands/handlers.h"
#include "commands/issue_key.h"
#include "domain/api_key.h"

namespace authledger {

Result<IssuedKey> CreateKey(CommandContext& ctx, const std::string& account_id, const CreateKeyInput& input,
                            const Caller& caller, const Actor& actor) {
  auto env = ParseEnvironment(input.environment);
  if (!env) return Status::InvalidArgument("environment must be 'live' or 'test'");
  return IssueKey(ctx, account_id, *env, actor, {}, [&](const AccountState& s, const NewKey& key, TimeMs now) {
    return DecideCreateKey(s, input, key, caller, ctx.config().policy, now);
  });
}

}  // namespace authledger
