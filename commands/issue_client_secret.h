// IssueClientSecret: shared by RegisterClient and RotateClientSecret. Generates
// a fresh secret for a confidential client (none for a public one), runs
// `decide` with its hash and on success returns the secret (once) with the
// client's state as the projection now holds it. The secret is wiped if the
// command fails.
#pragma once

#include <functional>

#include "commands/handlers.h"

namespace authledger {

// secret_hash_hex is "" when `confidential` is false.
using DecideWithSecretFn = std::function<Decision(const AccountState&, const std::string& secret_hash_hex)>;

Result<ClientWithSecret> IssueClientSecret(CommandContext& ctx, const std::string& account_id,
                                           const std::string& client_id, bool confidential, const Actor& actor,
                                           const DecideWithSecretFn& decide);

}  // namespace authledger
