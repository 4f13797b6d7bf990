#include "commands/issue_key.h"

#include <memory>

namespace authledger {

void IssueKey(CommandContext& ctx, const std::string& account_id, KeyEnvironment env, const Actor& actor,
              EntityRefs refs, const DecideWithKeyFn& decide, Done<IssuedKey> done) {
  // The plaintext lives until the answer is given, and is wiped however it ends.
  std::shared_ptr<NewKeyMaterial> m(new NewKeyMaterial(GenerateApiKey(ctx.config().brand, env, ctx.config().pepper)),
                                    [](NewKeyMaterial* p) {
                                      SecureWipe(p->full_key);
                                      delete p;
                                    });
  // Key ids index the hot path across all accounts: never reuse one (p ~ 2^-71).
  while (ctx.queries().KeyIdTaken(m->key_id)) {
    SecureWipe(m->full_key);
    *m = GenerateApiKey(ctx.config().brand, env, ctx.config().pepper);
  }
  const NewKey key{m->key_id, ToHex(m->secret_hash)};
  refs.keys.push_back(m->key_id);  // loaded, so that a collision inside the account shows
  ctx.Submit(
      account_id, actor, refs, [&](const AccountState& s, TimeMs now) { return decide(s, key, now); },
      [m, done = std::move(done)](Result<CommandOutcome> out) {
        if (!out.ok()) return done(out.status());
        const KeyState* created = out->state.FindKey(m->key_id);
        if (!created) return done(Status::Internal("issued key is missing from the decided state"));
        done(IssuedKey{std::move(m->full_key), *created, out->position, out->applied});
      });
}

}  // namespace authledger
