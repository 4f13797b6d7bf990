#include "commands/handlers.h"
#include "domain/ids.h"

namespace authledger {

Result<CreatedAccount> CreateAccount(CommandContext& ctx, const std::string& name, const Actor& actor) {
  std::string id = NewAccountId();
  auto out = ctx.Execute(id, actor, {}, [&](const AccountState& s, TimeMs) { return DecideCreateAccount(s, name); });
  if (!out.ok()) return out.status();
  return CreatedAccount{id, out->position};
}

}  // namespace authledger
