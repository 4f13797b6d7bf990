// The command handlers: one function per command, each in its own .cc file.
// Each validates its input (through the domain's decide rules), runs through
// CommandContext::Execute and returns the outcome: the appended events, the
// ledger position of the last one, and whether the local projections applied
// them within projection_wait (`applied`; false: durable, not yet visible here).
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
Result<CreatedAccount> CreateAccount(CommandContext& ctx, const std::string& name, const Actor& actor);

struct IssuedKey {
  std::string full_key;  // shown to the caller exactly once; never stored or logged
  KeyState key;
  Position position = 0;
  bool applied = true;  // CommandOutcome::applied
};
Result<IssuedKey> CreateKey(CommandContext& ctx, const std::string& account_id, const CreateKeyInput& input,
                            const Caller& caller, const Actor& actor);

// Adds scopes to a live key (scopes it already holds are ignored; if none are new,
// nothing is appended and position is 0).
Result<CommandOutcome> GrantScopes(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                                   const std::vector<std::string>& scopes, const Caller& caller, const Actor& actor);
Result<CommandOutcome> RevokeScope(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                                   const std::string& scope, const Caller& caller, const Actor& actor);

// Issues a replacement with the same name, scopes, environment and allowlist; the
// old key keeps working for `grace` (default from the policy), then expires.
Result<IssuedKey> RotateKey(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                            std::optional<TimeMs> grace, const Caller& caller, const Actor& actor);

// A caller may not revoke a key that holds scopes it lacks itself.
Result<CommandOutcome> RevokeKey(CommandContext& ctx, const std::string& account_id, const std::string& key_id,
                                 const std::string& reason, const Caller& caller, const Actor& actor);

struct ClientWithSecret {
  std::string client_secret;  // "" for a public client; otherwise shown to the caller exactly once
  ClientState client;
  Position position = 0;
  bool applied = true;  // CommandOutcome::applied
};
// Registers an OAuth client (the id, and for a confidential client the secret, are generated).
Result<ClientWithSecret> RegisterClient(CommandContext& ctx, const std::string& account_id,
                                        const RegisterClientInput& input, const Caller& caller, const Actor& actor);
// Replaces a confidential client's secret; the old one stops working at once.
Result<ClientWithSecret> RotateClientSecret(CommandContext& ctx, const std::string& account_id,
                                            const std::string& client_id, const Caller& caller, const Actor& actor);
Result<CommandOutcome> DeleteClient(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                                    const std::string& reason, const Caller& caller, const Actor& actor);

}  // namespace authledger
