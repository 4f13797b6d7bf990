#include "commands/handlers.h"

namespace authledger {

Result<CommandOutcome> GrantScopes(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                                   const std::vector<std::string>& scopes, const Caller& caller, const Actor& actor) {
  return ctx.Execute(account_id, actor, EntityRefs::Keys({key_id}), [&](const AccountState& s, TimeMs now) {
    return DecideGrantScopes(s, key_id, scopes, caller, ctx.config().policy, now);
  });
}

Result<CommandOutcome> RevokeScope(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                                   const std::string& scope, const Caller& caller, const Actor& actor) {
  return ctx.Execute(account_id, actor, EntityRefs::Keys({key_id}), [&](const AccountState& s, TimeMs now) {
    return DecideRevokeScope(s, key_id, scope, caller, now);
  });
}

}  // namespace authledger
