// The binary values of the `accounts`, `account_keys` and `account_clients` read
// models: an account aggregate, a key's state and an OAuth client's state, as the
// projector last wrote them.
//
// Encodings (ByteWriter primitives; opt = u8 0|1 then the value if 1):
//   key state:  u8 version (=1) | str id | str name | str environment
//               | varint n, n x str scopes | str secret_hash (hex) | i64 created_at
//               | str created_by | opt i64 expires_at | varint n, n x str allowed_cidrs
//               | opt str rotated_from | opt str replaced_by | opt i64 grace_until
//               | opt i64 revoked_at | str revoke_reason | opt i64 last_used_at
//               | str last_used_ip | varint use_count
//   account:    u8 version (=3) | varint seq | str head_hash (hex) | str id | str name
//               | i64 created_at | i64 last_event_time | varint open_keys
//               | varint n, n x (i64 at | str key_id) ending_keys | varint active_clients
//   client:     u8 version (=1) | str id | str name | str description | varint n, n x str redirect_uris
//               | varint n, n x str scopes | varint n, n x str grant_types
//               | str token_endpoint_auth_method | str secret_hash (hex, "" if public)
//               | i64 created_at | str created_by | opt i64 secret_rotated_at
//               | opt i64 deleted_at | str delete_reason
// An account's value is its header (domain/account_state.h): its keys and clients
// are stored one per row in `account_keys` and `account_clients`, so a batch that
// changes one key of an account rewrites that key and this small header, and a
// command loads only the rows it names (Queries::Account).
// The chain head (seq, head_hash) comes first. Equal states encode to equal bytes.
// Decoders return Corruption for anything that is not exactly one whole value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/account_state.h"

namespace authledger {

std::string EncodeKeyState(const KeyState& k);
Result<KeyState> DecodeKeyState(std::string_view bytes);

std::string EncodeClientState(const ClientState& c);
Result<ClientState> DecodeClientState(std::string_view bytes);

// The header: everything but s.keys and s.clients; DecodeAccountState returns a state without them.
std::string EncodeAccountState(const AccountState& s);
Result<AccountState> DecodeAccountState(std::string_view bytes);
// Only the chain head of an encoded account.
Status DecodeAccountHead(std::string_view bytes, std::uint64_t* seq, std::string* head_hash);

}  // namespace authledger
