#include "commands/handlers.h"
#include "commands/issue_key.h"

namespace authledger {

void RotateKey(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
               std::optional<TimeMs> grace, const Caller& caller, const Actor& actor, Done<IssuedKey> done) {
  auto old = ctx.queries().Key(account_id, key_id);  // its environment, for the new key's material
  if (!old.ok()) return done(old.status());
  auto env = ParseEnvironment(old->environment).value_or(KeyEnvironment::kLive);
  IssueKey(
      ctx, account_id, env, actor, EntityRefs::Keys({key_id}),
      [&](const AccountState& s, const NewKey& key, TimeMs now) {
        return DecideRotateKey(s, key_id, key, grace, caller, ctx.config().policy, now);
      },
      std::move(done));
}

}  // namespace authledger
