#include "commands/issue_key.h"

namespace authledger {

Result<IssuedKey> IssueKey(CommandContext& ctx, const std::string& account_id, KeyEnvironment env, const Actor& actor,
                           EntityRefs refs, const DecideWithKeyFn& decide) {
  NewKeyMaterial m = GenerateApiKey(ctx.config().brand, env, ctx.config().pepper);
  // Key ids index the hot path across all accounts: never reuse one (p ~ 2^-71).
  while (ctx.queries().KeyIdTaken(m.key_id)) {
    SecureWipe(m.full_key);
    m = GenerateApiKey(ctx.config().brand, env, ctx.config().pepper);
  }
  NewKey key{m.key_id, ToHex(m.secret_hash)};
  refs.keys.push_back(m.key_id);  // loaded, so that a collision inside the account shows
  auto out =
      ctx.Execute(account_id, actor, refs, [&](const AccountState& s, TimeMs now) { return decide(s, key, now); });
  if (!out.ok()) {
    SecureWipe(m.full_key);
    return out.status();
  }
  const KeyState* created = out->state.FindKey(m.key_id);
  if (!created) {
    SecureWipe(m.full_key);
    return Status::Internal("issued key is missing from the decided state");
  }
  return IssuedKey{std::move(m.full_key), *created, out->position, out->applied};
}

}  // namespace authledger
