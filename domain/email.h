// Email addresses as authledger records them (the acting person of a REST call,
// X-Actor-Email). A deliberately plain subset of RFC 5321/5322 that every mail
// system accepts: ASCII only, at most 254 bytes; a dot-atom local part of at
// most 64 characters (letters, digits, !#$%&'*+/=?^_`{|}~- and single inner
// dots); a domain of at least two dot-separated labels (letters, digits, inner
// hyphens; 1..63 characters each). No quoted local parts, comments or
// address literals.
#pragma once

#include <string>
#include <string_view>

#include "domain/status.h"

namespace authledger {

// The address with its domain lowercased (the local part is kept as given), or
// InvalidArgument saying which rule it breaks (never quoting it).
Result<std::string> NormalizeEmail(std::string_view address);

}  // namespace authledger
