// devbroker: a development Kafka "cluster" on loopback — librdkafka's mock
// cluster (rdkafka_mock.h) in a process of its own, for running authledger
// against Kafka on one machine and for fault-injection tests. It is not a real
// broker: see ../../shared/kafka-mock-notes.md and docs/ for what it cannot show.
//
// The first line on stdout is the bootstrap address ("127.0.0.1:PORT,...").
// Then it reads one command per line on stdin and answers one line each:
//   down BROKER | up BROKER          take a broker off / back on the network
//   rtt BROKER MS                    add round-trip latency to a broker
//   leader TOPIC PARTITION BROKER    move a partition's leadership
//   error API COUNT CODE...          fail the next COUNT requests of API
//                                    (Produce, Fetch, Metadata, ... or a number)
//                                    with the error CODEs in turn (names like
//                                    NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT,
//                                    _TRANSPORT for a disconnect, or numbers)
//   topics                           print the bootstrap address again
//   quit                             exit
// At end of input it keeps running until SIGINT/SIGTERM.
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <CLI/CLI.hpp>

#include "domain/decimal.h"

namespace {

// Kafka protocol API keys the commands accept by name.
const std::map<std::string, int16_t> kApis = {{"Produce", 0},          {"Fetch", 1},        {"ListOffsets", 2},
                                              {"Metadata", 3},         {"OffsetCommit", 8}, {"OffsetFetch", 9},
                                              {"FindCoordinator", 10}, {"JoinGroup", 11},   {"Heartbeat", 12},
                                              {"InitProducerId", 22}};

// A decimal int32, '-' allowed (error codes below zero are librdkafka's own).
bool ParseInt(const std::string& s, long* out) {
  const bool negative = s.starts_with('-');
  const auto v = authledger::ParseDecimal(std::string_view(s).substr(negative ? 1 : 0),
                                          negative ? std::uint64_t{1} << 31 : INT32_MAX);
  if (!v) return false;
  *out = negative ? -static_cast<long>(*v) : static_cast<long>(*v);
  return true;
}

// An error code by librdkafka name (without the RD_KAFKA_RESP_ERR_ prefix) or number.
bool ParseError(const std::string& s, rd_kafka_resp_err_t* out) {
  long n = 0;
  if (ParseInt(s, &n)) {
    *out = static_cast<rd_kafka_resp_err_t>(n);
    return true;
  }
  const struct rd_kafka_err_desc* descs = nullptr;
  size_t cnt = 0;
  rd_kafka_get_err_descs(&descs, &cnt);
  for (size_t i = 0; i < cnt; ++i) {
    if (descs[i].name && s == descs[i].name) {
      *out = descs[i].code;
      return true;
    }
  }
  return false;
}

// Runs one command; returns the reply line.
std::string Run(rd_kafka_mock_cluster_t* mc, const std::string& line, bool* quit) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string t; in >> t;) w.push_back(t);
  if (w.empty()) return "error: empty command";
  long a = 0, b = 0;
  const std::string& cmd = w[0];
  if (cmd == "quit") {
    *quit = true;
    return "ok bye";
  }
  if (cmd == "topics") return std::string("ok ") + rd_kafka_mock_cluster_bootstraps(mc);
  if ((cmd == "down" || cmd == "up") && w.size() == 2 && ParseInt(w[1], &a)) {
    auto err = cmd == "down" ? rd_kafka_mock_broker_set_down(mc, static_cast<int32_t>(a))
                             : rd_kafka_mock_broker_set_up(mc, static_cast<int32_t>(a));
    return err ? std::string("error: ") + rd_kafka_err2str(err) : "ok broker " + w[1] + " " + cmd;
  }
  if (cmd == "rtt" && w.size() == 3 && ParseInt(w[1], &a) && ParseInt(w[2], &b) && b >= 0) {
    auto err = rd_kafka_mock_broker_set_rtt(mc, static_cast<int32_t>(a), static_cast<int>(b));
    return err ? std::string("error: ") + rd_kafka_err2str(err) : "ok rtt " + w[2] + " ms on broker " + w[1];
  }
  if (cmd == "leader" && w.size() == 3 && ParseInt(w[1], &a) && ParseInt(w[2], &b)) {
    return "error: leader needs a topic; use: leader TOPIC PARTITION BROKER";
  }
  if (cmd == "leader" && w.size() == 4 && ParseInt(w[2], &a) && ParseInt(w[3], &b)) {
    auto err = rd_kafka_mock_partition_set_leader(mc, w[1].c_str(), static_cast<int32_t>(a), static_cast<int32_t>(b));
    return err ? std::string("error: ") + rd_kafka_err2str(err)
               : "ok leader of " + w[1] + "/" + w[2] + " is broker " + w[3];
  }
  if (cmd == "error" && w.size() >= 4) {
    long api = 0, count = 0;
    if (auto it = kApis.find(w[1]); it != kApis.end()) api = it->second;
    else if (!ParseInt(w[1], &api) || api < 0 || api > 100) return "error: unknown API '" + w[1] + "'";
    if (!ParseInt(w[2], &count) || count < 1 || count > 10000) return "error: COUNT must be 1..10000";
    std::vector<rd_kafka_resp_err_t> errors;
    for (size_t i = 3; i < w.size(); ++i) {
      rd_kafka_resp_err_t e;
      if (!ParseError(w[i], &e)) return "error: unknown error code '" + w[i] + "'";
      errors.push_back(e);
    }
    std::vector<rd_kafka_resp_err_t> seq;
    for (long i = 0; i < count; ++i) seq.push_back(errors[static_cast<size_t>(i) % errors.size()]);
    rd_kafka_mock_push_request_errors_array(mc, static_cast<int16_t>(api), seq.size(), seq.data());
    return "ok next " + w[2] + " " + w[1] + " requests fail";
  }
  return "error: unknown command (down, up, rtt, leader, error, topics, quit)";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"devbroker: librdkafka's mock Kafka cluster on loopback, for development and tests. "
               "Prints the bootstrap address first, then takes fault commands on stdin "
               "(down/up BROKER, rtt BROKER MS, leader TOPIC PARTITION BROKER, error API COUNT CODE..., quit)."};
  int brokers = 3, partitions = 8;
  std::string topic = "authledger.events";
  app.add_option("--brokers", brokers, "number of mock brokers")->check(CLI::Range(1, 16));
  app.add_option("--topic", topic, "topic to create");
  app.add_option("--partitions", partitions, "partitions of the topic")->check(CLI::Range(1, 1000));
  app.footer("Data lives in memory only (at most ~5 MiB or 100,000 batches per partition) and is lost on exit.");
  CLI11_PARSE(app, argc, argv);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "devbroker: %s\n", errstr);
    return 1;
  }
  // The mock cluster is owned by a client handle; this one never produces.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    std::fprintf(stderr, "devbroker: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) {
    std::fprintf(stderr, "devbroker: cannot start the mock cluster\n");
    return 1;
  }
  if (auto err = rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, std::min(brokers, 3))) {
    std::fprintf(stderr, "devbroker: cannot create topic %s: %s\n", topic.c_str(), rd_kafka_err2str(err));
    return 1;
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::fflush(stdout);
  std::fprintf(stderr, "devbroker: %d brokers, topic %s with %d partitions; commands on stdin\n", brokers,
               topic.c_str(), partitions);

  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  bool quit = false;
  for (std::string line; !quit && std::getline(std::cin, line);) {
    std::printf("%s\n", Run(mc, line, &quit).c_str());
    std::fflush(stdout);
  }
  if (!quit) {  // input closed: serve until told to stop
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    int sig = 0;
    sigwait(&stop, &sig);
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
