// ScanLedger: every event of a ledger, once, each partition in order (partitions
// interleaved as the log returns them), up to the heads the log had when the
// scan started. For tools that read all of history: audit verify and export,
// tests. Stops at the first error `fn` returns and returns it.
#pragma once

#include <functional>

#include "ledger/event_log.h"

namespace authledger {

Status ScanLedger(EventLog& log, const std::function<Status(const StoredEvent&)>& fn, std::size_t batch = 4096);

}  // namespace authledger
