// IssueKey: shared by CreateKey and RotateKey. Generates fresh key material,
// runs `decide` with its id and hash, and on success answers with the full key
// (once) and the new key's state as the projections now hold it. The plaintext
// is wiped once the answer is given, or the command fails.
#pragma once

#include <functional>

#include "commands/handlers.h"
#include "domain/api_key.h"

namespace authledger {

using DecideWithKeyFn = std::function<Decision(const AccountState&, const NewKey&, TimeMs now)>;

// `refs`: the keys the decision reads besides the new one (a rotation: the old key).
void IssueKey(CommandContext& ctx, const std::string& account_id, KeyEnvironment env, const Actor& actor,
              EntityRefs refs, const DecideWithKeyFn& decide, Done<IssuedKey> done);

}  // namespace authledger
