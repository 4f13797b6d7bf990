#include "commands/handlers.h"

namespace authledger {

void RevokeKey(CommandContext& ctx, const std::string& account_id, const std::string& key_id, const std::string& reason,
               const Caller& caller, const Actor& actor, Done<CommandOutcome> done) {
  ctx.Submit(
      account_id, actor, EntityRefs::Keys({key_id}),
      [&](const AccountState& s, TimeMs now) { return DecideRevokeKey(s, key_id, reason, now, caller); },
      std::move(done));
}

}  // namespace authledger
