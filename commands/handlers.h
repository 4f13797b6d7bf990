// The command handlers: one function per command, each in its own .cc file.
// Each names what its decision reads, hands the domain's Decide* rule to
// CommandContext::Submit, and turns the outcome into its answer: `done` gets the
// appended events' result — the ledger position of the command's last event, and
// whether the local projections applied them within projection_wait (`applied`;
// false: durable, not yet visible here) — or why nothing was appended. `done` is
// called exactly once, maybe before the handler returns, else from the ledger's or
// the projector's thread. Await() (commands/await.h) waits for it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "commands/command_context.h"

namespace authledger {

struct CreatedAccount {
  std::string account_id;
  Position position = 0;
};
// A new account (the id is generated).
void CreateAccount(CommandContext& ctx, const std::string& name, const Actor& actor, Done<CreatedAccount> done);

struct IssuedKey {
  std::string full_key;  // shown to the caller exactly once; never stored or logged
  KeyState key;
  Position position = 0;
  bool applied = true;  // CommandOutcome::applied
};
void CreateKey(CommandContext& ctx, const std::string& account_id, const CreateKeyInput& input, const Caller& caller,
               const Actor& actor, Done<IssuedKey> done);

// Adds scopes to a live key (scopes it already holds are ignored; if none are new,
// nothing is appended and position is 0).
void GrantScopes(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                 const std::vector<std::string>& scopes, const Caller& caller, const Actor& actor,
                 Done<CommandOutcome> done);
void RevokeScope(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                 const std::string& scope, const Caller& caller, const Actor& actor, Done<CommandOutcome> done);

// Issues a replacement with the same name, scopes, environment and allowlist; the
// old key keeps working for `grace` (default from the policy), then expires.
void RotateKey(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
               std::optional<TimeMs> grace, const Caller& caller, const Actor& actor, Done<IssuedKey> done);

// A caller may not revoke a key that holds scopes it lacks itself.
void RevokeKey(CommandContext& ctx, const std::string& account_id, const std::string& key_id, const std::string& reason,
               const Caller& caller, const Actor& actor, Done<CommandOutcome> done);

struct ClientWithSecret {
  std::string client_secret;  // "" for a public client; otherwise shown to the caller exactly once
  ClientState client;
  Position position = 0;
  bool applied = true;  // CommandOutcome::applied
};
// Registers an OAuth client (the id, and for a confidential client the secret, are generated).
void RegisterClient(CommandContext& ctx, const std::string& account_id, const RegisterClientInput& input,
                    const Caller& caller, const Actor& actor, Done<ClientWithSecret> done);
// Replaces a confidential client's secret; the old one stops working at once.
void RotateClientSecret(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                        const Caller& caller, const Actor& actor, Done<ClientWithSecret> done);
void DeleteClient(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                  const std::string& reason, const Caller& caller, const Actor& actor, Done<CommandOutcome> done);

}  // namespace authledger
