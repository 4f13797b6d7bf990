#include "app/ledger.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "ledger/kafka_log.h"

namespace authledger {

Result<OpenedLedger> OpenLedger(const Config& config, LedgerAccess access) {
  OpenedLedger out;
  if (config.kafka_brokers.empty()) {
    std::error_code ec;
    const bool read_only = access == LedgerAccess::kReadOnly;
    if (read_only && !std::filesystem::is_directory(config.LedgerDir(), ec))
      return Status::NotFound("there is no ledger in " + config.LedgerDir() +
                              ": is --data (or AUTHLEDGER_DATA) right? (or pass --kafka-brokers for a Kafka ledger)");
    EmbeddedLogOptions o;
    o.read_only = read_only;
    o.truncate_damaged_tail = !read_only && config.truncate_damaged_tail;
    RecoveryReport found;
    auto log = EmbeddedLog::Open(config.LedgerDir(), o, &found);
    if (!log.ok()) {
      if (log.status().code() == Status::Code::kUnavailable)
        return Status::Unavailable(log.status().message() +
                                   (read_only ? "; stop the server first (the embedded ledger admits no reader while "
                                                "it is open for writing)"
                                              : "; stop the server first (the embedded ledger admits one process at "
                                                "a time)"));
      if (found.damaged && !read_only)
        return Status::Corruption(log.status().message() +
                                  ". If it is known that no acknowledged write is lost with it (or it is accepted), "
                                  "start with `authledger serve --truncate-damaged-tail` to cut it");
      return log.status();
    }
    out.recovery = (*log)->recovery();
    // Said here, at once: whatever fails after this, what was cut must be on record.
    if (out.recovery.damaged) spdlog::error("{}", DescribeRecovery(out.recovery));
    else if (out.recovery.truncated_bytes > 0) spdlog::warn("{}", DescribeRecovery(out.recovery));
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

std::string DescribeRecovery(const RecoveryReport& r) {
  if (r.truncated_bytes == 0) return "";
  const std::string where = r.truncated_segment + " at byte offset " + std::to_string(r.truncated_at);
  const std::string bytes = std::to_string(r.truncated_bytes) + " bytes";
  if (r.damaged)
    return "ledger recovery: cut a DAMAGED tail of " + bytes + " (" + std::to_string(r.damaged_records) +
           " record(s), which may have been acknowledged) from " + where +
           " as --truncate-damaged-tail allows: " + r.reason;
  if (r.cut)
    return "ledger recovery: cut a torn tail of " + bytes + " from " + where +
           ", a write that never finished and was never acknowledged: " + r.reason;
  return "the ledger ends with a torn tail of " + bytes + " in " + where +
         ", a write that never finished and was never acknowledged (" + r.reason +
         "); it was not read, and `authledger serve` cuts it when it starts";
}

}  // namespace authledger
