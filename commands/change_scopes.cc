#include "commands/handlers.h"

namespace authledger {

void GrantScopes(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                 const std::vector<std::string>& scopes, const Caller& caller, const Actor& actor,
                 Done<CommandOutcome> done) {
  ctx.Submit(
      account_id, actor, EntityRefs::Keys({key_id}),
      [&](const AccountState& s, TimeMs now) {
        return DecideGrantScopes(s, key_id, scopes, caller, ctx.config().policy, now);
      },
      std::move(done));
}

void RevokeScope(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                 const std::string& scope, const Caller& caller, const Actor& actor, Done<CommandOutcome> done) {
  ctx.Submit(
      account_id, actor, EntityRefs::Keys({key_id}),
      [&](const AccountState& s, TimeMs now) { return DecideRevokeScope(s, key_id, scope, caller, now); },
      std::move(done));
}

}  // namespace authledger
