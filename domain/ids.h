// Identifiers. Event ids are UUIDv7 (RFC 9562: 48-bit Unix ms, then random bits),
// so they sort by creation time. Account, key and client ids are short random base62.
#pragma once

#include <string>
#include <string_view>

#include "domain/clock.h"

namespace authledger {

// "0192f3a4-5b6c-7d8e-9f01-23456789abcd"; `now` fills the timestamp field.
std::string NewUuidV7(TimeMs now);
bool IsUuid(std::string_view s);

// "acct_" + 12 base62 characters.
std::string NewAccountId();
bool IsAccountId(std::string_view s);
// "clnt_" + 12 base62 characters: an OAuth client's public id.
std::string NewClientId();
bool IsClientId(std::string_view s);

}  // namespace authledger
