// IssueClientSecret: shared by RegisterClient and RotateClientSecret. Generates
// a fresh secret for a confidential client (none for a public one), runs
// `decide` with its hash and on success answers with the secret (once) and the
// client's state as the projections now hold it. The secret is wiped once the
// answer is given, or the command fails.
#pragma once

#include <functional>

#include "commands/handlers.h"

namespace authledger {

// secret_hash_hex is "" when `confidential` is false.
using DecideWithSecretFn = std::function<Decision(const AccountState&, const std::string& secret_hash_hex)>;

void IssueClientSecret(CommandContext& ctx, const std::string& account_id, const std::string& client_id,
                       bool confidential, const Actor& actor, const DecideWithSecretFn& decide,
                       Done<ClientWithSecret> done);

}  // namespace authledger
