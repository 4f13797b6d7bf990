#include "commands/issue_key.h"

namespace authledger {

Result<IssuedKey> IssueKey(CommandContext& ctx, const std::string& account_id, KeyEnvironment env,
                           const Actor& actor, const DecideWithKeyFn& decide) {
  NewKeyMaterial m = GenerateApiKey(ctx.config().brand, env, ctx.config().pepper);
  NewKey key{m.key_id, ToHex(m.secret_hash)};
  auto out = ctx.Execute(account_id, actor, [&](const AccountState& s, TimeMs now) { return decide(s, key, now); });
  if (!out.ok()) {
    SecureWipe(m.full_key);
    return out.status();
  }
  auto state = ctx.queries().Key(account_id, m.key_id);
  if (!state.ok()) {
    SecureWipe(m.full_key);
    return state.status();
  }
  return IssuedKey{std::move(m.full_key), std::move(state).value(), out->position};
}

}  // namespace authledger
