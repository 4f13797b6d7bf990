#include "tests/support/mock_kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <stdexcept>

namespace authledger::testing {

namespace {
constexpr std::int16_t kProduceApiKey = 0;  // Kafka protocol ApiKey of ProduceRequest
}

MockKafka::MockKafka(int brokers, int partitions, const std::string& topic) : brokers_(brokers) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk_) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("mock cluster handle: ") + errstr);
  }
  mc_ = rd_kafka_mock_cluster_new(rk_, brokers);
  if (!mc_) {
    rd_kafka_destroy(rk_);
    throw std::runtime_error("cannot start the mock cluster");
  }
  if (auto err = rd_kafka_mock_topic_create(mc_, topic.c_str(), partitions, std::min(brokers, 3))) {
    rd_kafka_mock_cluster_destroy(mc_);
    rd_kafka_destroy(rk_);
    throw std::runtime_error(std::string("mock topic: ") + rd_kafka_err2str(err));
  }
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(mc_);
}

MockKafka::~MockKafka() {
  rd_kafka_mock_cluster_destroy(mc_);
  rd_kafka_destroy(rk_);
}

void MockKafka::SetAllDown() {
  for (int b = 1; b <= brokers_; ++b) rd_kafka_mock_broker_set_down(mc_, b);
}

void MockKafka::SetAllUp() {
  for (int b = 1; b <= brokers_; ++b) rd_kafka_mock_broker_set_up(mc_, b);
}

void MockKafka::FailNextProduces(const std::vector<int>& codes) {
  std::vector<rd_kafka_resp_err_t> errs;
  for (int c : codes) errs.push_back(static_cast<rd_kafka_resp_err_t>(c));
  rd_kafka_mock_push_request_errors_array(mc_, kProduceApiKey, errs.size(), errs.data());
}

std::vector<std::pair<std::string, std::string>> MockKafka::ClientProperties() {
  return {{"fetch.wait.max.ms", "10"}, {"session.timeout.ms", "6000"}, {"log_level", "3"}};
}

}  // namespace authledger::testing
