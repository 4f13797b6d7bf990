#include "commands/handlers.h"

namespace authledger {

void DeleteClient(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                  const std::string& reason, const Caller& caller, const Actor& actor, Done<CommandOutcome> done) {
  ctx.Submit(
      account_id, actor, EntityRefs::Clients({client_id}),
      [&](const AccountState& s, TimeMs) { return DecideDeleteClient(s, client_id, reason, caller); }, std::move(done));
}

}  // namespace authledger
