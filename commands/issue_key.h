// IssueKey: shared by CreateKey and RotateKey. Generates fresh key material,
// runs `decide` with its id and hash, and on success returns the full key (once)
// with the new key's state as the projection now holds it. The plaintext is
// wiped if the command fails.
#pragma once

#include <functional>

#include "commands/handlers.h"
#include "domain/api_key.h"

namespace authledger {

using DecideWithKeyFn = std::function<Decision(const AccountState&, const NewKey&, TimeMs now)>;

// `refs`: the keys the decision reads besides the new one (a rotation: the old key).
Result<IssuedKey> IssueKey(CommandContext& ctx, const std::string& account_id, KeyEnvironment env, const Actor& actor,
                           EntityRefs refs, const DecideWithKeyFn& decide);

}  // namespace authledger
