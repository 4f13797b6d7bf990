// Opening the configured ledger: the embedded log in <data>/ledger, or the
// Kafka topic when kafka.brokers is set (--kafka-brokers).
#pragma once

#include <memory>

#include "app/config.h"
#include "ledger/embedded_log.h"
#include "ledger/event_log.h"

namespace authledger {

enum class LedgerAccess { kReadWrite, kReadOnly };

struct OpenedLedger {
  std::unique_ptr<EventLog> log;
  RecoveryReport recovery;  // embedded only: what opening had to repair
  std::string description;  // "embedded ledger in DIR" / "Kafka topic T on BROKERS (N partitions)"
};

// The embedded ledger admits one process at a time; Unavailable names the
// cause when another one holds it. kReadOnly creates no Kafka producer.
Result<OpenedLedger> OpenLedger(const Config& config, LedgerAccess access);

}  // namespace authledger
