#include "commands/handlers.h"
#include "commands/issue_client_secret.h"
#include "domain/ids.h"

namespace authledger {

void RegisterClient(CommandContext& ctx, const std::string& account_id, const RegisterClientInput& input,
                    const Caller& caller, const Actor& actor, Done<ClientWithSecret> done) {
  const std::string client_id = NewClientId();
  const bool confidential = input.token_endpoint_auth_method != "none";
  IssueClientSecret(
      ctx, account_id, client_id, confidential, actor,
      [&](const AccountState& s, const std::string& secret_hash_hex) {
        return DecideRegisterClient(s, input, NewClient{client_id, secret_hash_hex}, caller, ctx.config().policy);
      },
      std::move(done));
}

}  // namespace authledger
