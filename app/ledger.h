// Opening the configured ledger: the embedded log in <data>/ledger, or the
// Kafka topic when kafka.brokers is set (--kafka-brokers).
#pragma once

#include <memory>

#include "app/config.h"
#include "ledger/embedded_log.h"
#include "ledger/event_log.h"

namespace authledger {

// kReadOnly writes nothing: the embedded ledger is opened read-only (no directory,
// lock file or segment created, no tail cut; see ledger/embedded_log.h) and no Kafka
// producer is created.
enum class LedgerAccess { kReadWrite, kReadOnly };

struct OpenedLedger {
  std::unique_ptr<EventLog> log;
  RecoveryReport recovery;  // embedded only: what opening found at the tail (and cut, read-write)
  std::string description;  // "embedded ledger in DIR" / "Kafka topic T on BROKERS (N partitions)"
};

// The embedded ledger admits one writer, or any number of readers, at a time;
// Unavailable names the cause when another process holds it. A damaged tail
// (Corruption) is cut only read-write with config.truncate_damaged_tail; without
// it the error says what the flag would cut. What it found at the tail (and cut) is
// logged here, before the caller can fail on anything else.
Result<OpenedLedger> OpenLedger(const Config& config, LedgerAccess access);

// The operator's line about what opening the embedded ledger found at its tail
// ("" if nothing): for logs and the audit tools' notes.
std::string DescribeRecovery(const RecoveryReport& r);

}  // namespace authledger
