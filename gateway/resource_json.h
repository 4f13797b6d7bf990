// The JSON renderings of the resources: one function per resource, used by the
// REST endpoints (keys_api.cc, clients_api.cc) and by `authledger replay`
// (app/replay.cc), so a field is rendered the same way wherever it appears.
//
// Two forms of each:
//   kApi     the REST resource, exactly as schemas/openapi.json describes it
//            ("Key", "Client"); write responses add "position", the responses
//            that carry a new secret add it
//   kReplay  one line of `authledger replay --format jsonl` (docs/replay.md):
//            the same fields less a few the replay does not show; the caller
//            adds account_id, as_of and position
// Times are RFC 3339 text, absent ones null. Neither form ever holds a secret
// or its hash.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/account_state.h"

namespace authledger {

enum class JsonForm { kApi, kReplay };

// A key with its status at the moment shown (KeyState::StatusAt of now, or of
// the replay point). kApi also has "prefix" (`brand`_environment_id, what the
// full key starts with), "last_used_at" and "last_used_ip"; kReplay ignores `brand`.
nlohmann::json KeyJson(const KeyState& k, KeyStatus status, JsonForm form, std::string_view brand = {});

// An OAuth client. kApi also has "description" and "confidential".
nlohmann::json ClientJson(const ClientState& c, JsonForm form);

}  // namespace authledger
