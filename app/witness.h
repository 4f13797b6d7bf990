// Witness files: every signed tree head (domain/tree_head.h), as the
// checkpointer signs it, also written to a directory that should live outside
// the data directory (another disk, a mount the service cannot rewrite later,
// a directory a separate process ships off-host): `[audit] witness_dir`.
//
//   <dir>/tree-heads.jsonl         one head per line, appended, fsync'd
//   <dir>/tree-head-<N>.json       partition N's newest head (written to a
//                                  temporary file, fsync'd, renamed)
//
// Either file is what `authledger audit verify --since-head FILE` takes.
#pragma once

#include <string>

#include "domain/status.h"
#include "domain/tree_head.h"

namespace authledger {

Status WitnessTreeHead(const std::string& dir, const SignedTreeHead& head);

}  // namespace authledger
