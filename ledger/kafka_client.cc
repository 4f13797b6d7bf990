#include "ledger/kafka_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <string_view>

namespace authledger::kafka {
namespace {

void LogToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  const std::string_view fac(facility ? facility : "");
  spdlog::level::level_enum l = level <= 2   ? spdlog::level::err
                                : level <= 4 ? spdlog::level::warn
                                : level <= 6 ? spdlog::level::info
                                             : spdlog::level::debug;
  if (fac == "AUTOCREATE") l = spdlog::level::debug;
  spdlog::log(l, "kafka {} {}: {}", rd_kafka_name(rk), fac, line ? line : "");
}

Properties CommonProperties(const std::string& brokers) {
  return {{"bootstrap.servers", brokers}, {"allow.auto.create.topics", "false"}, {"reconnect.backoff.max.ms", "1000"}};
}

}  // namespace

Result<ConfPtr> NewConf(const std::string& brokers, const Properties& own, const Properties& extra) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &LogToSpdlog);
  const Properties common = CommonProperties(brokers);
  char errstr[512];
  for (const Properties* list : {&common, &own, &extra}) {
    for (const auto& [k, v] : *list) {
      if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return Status::InvalidArgument("kafka ledger: property " + k + ": " + errstr);
    }
  }
  return conf;
}

std::string ErrText(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

int ClampMs(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, std::numeric_limits<int>::max()));
}

int MsUntil(SteadyClock::time_point deadline) {
  return ClampMs(std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()));
}

}  // namespace authledger::kafka
