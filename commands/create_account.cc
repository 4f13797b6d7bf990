#include "commands/handlers.h"
#include "domain/ids.h"

namespace authledger {

void CreateAccount(CommandContext& ctx, const std::string& name, const Actor& actor, Done<CreatedAccount> done) {
  const std::string id = NewAccountId();
  ctx.Submit(
      id, actor, {}, [&](const AccountState& s, TimeMs) { return DecideCreateAccount(s, name); },
      [id, done = std::move(done)](Result<CommandOutcome> out) {
        if (!out.ok()) return done(out.status());
        done(CreatedAccount{id, out->position});
      });
}

}  // namespace authledger
