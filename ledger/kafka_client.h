// What every librdkafka client of a KafkaLog shares (internal to ledger/kafka_*.cc):
// its configuration — the common properties, the client's own, then the caller's
// extra ones, applied last — its log lines routed to spdlog, error texts, and
// timeouts in the int milliseconds librdkafka takes.
//
// Contract: NewConf fails with InvalidArgument naming a refused property, never
// its value (it may be a credential: sasl.password, ssl.key.password). Log lines
// of level <= 2 become errors, <= 4 warnings (a refused connection reaches the
// caller as a Status anyway), <= 6 info, the rest debug; AUTOCREATE lines are debug
// (old brokers, and the mock, cannot be told not to auto-create; Open checks the
// topic instead).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/status.h"

namespace authledger::kafka {

using SteadyClock = std::chrono::steady_clock;
using Properties = std::vector<std::pair<std::string, std::string>>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// A configuration of the common properties (bootstrap.servers = `brokers`, no topic
// auto-creation, reconnects backing off to at most 1 s), then `own`, then `extra`.
Result<ConfPtr> NewConf(const std::string& brokers, const Properties& own, const Properties& extra);

// "NAME: description" of a librdkafka error code.
std::string ErrText(rd_kafka_resp_err_t err);

// `d` as librdkafka's int milliseconds, clamped to [0, INT_MAX].
int ClampMs(std::chrono::milliseconds d);
// The milliseconds left until `deadline` (0 once it passed).
int MsUntil(SteadyClock::time_point deadline);

}  // namespace authledger::kafka
