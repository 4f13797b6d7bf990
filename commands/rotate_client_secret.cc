#include "commands/handlers.h"
#include "commands/issue_client_secret.h"

namespace authledger {

void RotateClientSecret(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                        const Caller& caller, const Actor& actor, Done<ClientWithSecret> done) {
  // A public client has no secret: the decision refuses it and the fresh secret is wiped.
  IssueClientSecret(
      ctx, account_id, client_id, /*confidential=*/true, actor,
      [&](const AccountState& s, const std::string& secret_hash_hex) {
        return DecideRotateClientSecret(s, client_id, secret_hash_hex, caller);
      },
      std::move(done));
}

}  // namespace authledger
