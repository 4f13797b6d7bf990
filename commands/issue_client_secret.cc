#include "commands/issue_client_secret.h"

#include "domain/client_secret.h"

namespace authledger {

Result<ClientWithSecret> IssueClientSecret(CommandContext& ctx, const std::string& account_id,
                                           const std::string& client_id, bool confidential, const Actor& actor,
                                           const DecideWithSecretFn& decide) {
  NewClientSecret secret;
  std::string hash_hex;
  if (confidential) {
    secret = GenerateClientSecret(ctx.config().brand, client_id, ctx.config().pepper);
    hash_hex = ToHex(secret.hash);
  }
  auto out = ctx.Execute(account_id, actor, EntityRefs::Clients({client_id}),
                         [&](const AccountState& s, TimeMs) { return decide(s, hash_hex); });
  const ClientState* client = out.ok() ? out->state.FindClient(client_id) : nullptr;
  if (!client) {
    SecureWipe(secret.secret);
    if (!out.ok()) return out.status();
    return Status::Internal("the client is missing from the decided state");
  }
  return ClientWithSecret{std::move(secret.secret), *client, out->position, out->applied};
}

}  // namespace authledger
