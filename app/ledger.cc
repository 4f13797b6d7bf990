#include "app/ledger.h"

#include <filesystem>

#include "ledger/kafka_log.h"

namespace authledger {

Result<OpenedLedger> OpenLedger(const Config& config, LedgerAccess access) {
  OpenedLedger out;
  if (config.kafka_brokers.empty()) {
    std::error_code ec;
    if (access == LedgerAccess::kReadOnly && !std::filesystem::is_directory(config.LedgerDir(), ec))
      return Status::NotFound("there is no ledger in " + config.LedgerDir() +
                              ": is --data (or AUTHLEDGER_DATA) right? (or pass --kafka-brokers for a Kafka ledger)");
    auto log = EmbeddedLog::Open(config.LedgerDir());
    if (!log.ok()) {
      if (log.status().code() == Status::Code::kUnavailable)
        return Status::Unavailable(log.status().message() +
                                   "; stop the server first (the embedded ledger admits one process at a time)");
      return log.status();
    }
    out.recovery = (*log)->recovery();
    out.description = "embedded ledger in " + config.LedgerDir();
    out.log = std::move(log).value();
    return out;
  }
  KafkaLogOptions o;
  o.brokers = config.kafka_brokers;
  o.topic = config.kafka_topic;
  o.partitions = config.kafka_partitions;
  o.producer = access == LedgerAccess::kReadWrite;
  o.delivery_timeout = std::chrono::milliseconds(config.kafka_delivery_timeout);
  o.extra = config.kafka_properties;
  auto log = KafkaLog::Open(std::move(o));
  if (!log.ok()) return log.status();
  out.description = "Kafka topic " + config.kafka_topic + " on " + config.kafka_brokers + " (" +
                    std::to_string((*log)->Partitions()) + " partitions)";
  out.log = std::move(log).value();
  return out;
}

}  // namespace authledger
