#include "commands/issue_client_secret.h"

#include <memory>

#include "domain/client_secret.h"

namespace authledger {

void IssueClientSecret(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                       bool confidential, const Actor& actor, const DecideWithSecretFn& decide,
                       Done<ClientWithSecret> done) {
  // The secret lives until the answer is given, and is wiped however it ends.
  std::shared_ptr<NewClientSecret> secret(new NewClientSecret(), [](NewClientSecret* p) {
    SecureWipe(p->secret);
    delete p;
  });
  std::string hash_hex;
  if (confidential) {
    *secret = GenerateClientSecret(ctx.config().brand, client_id, ctx.config().pepper);
    hash_hex = ToHex(secret->hash);
  }
  ctx.Submit(
      account_id, actor, EntityRefs::Clients({client_id}),
      [&](const AccountState& s, TimeMs) { return decide(s, hash_hex); },
      [secret, client_id, done = std::move(done)](Result<CommandOutcome> out) {
        if (!out.ok()) return done(out.status());
        const ClientState* client = out->state.FindClient(client_id);
        if (!client) return done(Status::Internal("the client is missing from the decided state"));
        done(ClientWithSecret{std::move(secret->secret), *client, out->position, out->applied});
      });
}

}  // namespace authledger
