// MockKafka: librdkafka's mock cluster (rdkafka_mock.h) in the test process. It
// listens on loopback sockets, so KafkaLogs and nodes reach it like any broker.
// Memory only; keeps at most ~5 MiB per partition (keep test data small).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace authledger::testing {

class MockKafka {
 public:
  // Starts `brokers` brokers with `topic` of `partitions` partitions; throws on failure.
  MockKafka(int brokers, int partitions, const std::string& topic = "authledger.events");
  ~MockKafka();
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_s* cluster() const { return mc_; }
  int brokers() const { return brokers_; }

  void SetAllDown();
  void SetAllUp();
  // The next `codes.size()` Produce requests fail with these Kafka error codes.
  void FailNextProduces(const std::vector<int>& codes);

  // librdkafka properties for clients of this cluster in tests (short fetch waits, quiet logs).
  static std::vector<std::pair<std::string, std::string>> ClientProperties();

 private:
  int brokers_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* mc_ = nullptr;
  std::string bootstraps_;
};

}  // namespace authledger::testing
