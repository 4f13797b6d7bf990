// The headers of a ledger message on Kafka (internal to ledger/kafka_*.cc). A
// message's key is its account id and its value the envelope's exact bytes
// (CloudEvents structured mode); the headers repeat the envelope's attributes, so
// consumers can route and filter without parsing the value.
//
// Contract:
//  - MessageHeaders builds exactly these headers, each once and in this order:
//    content-type (application/cloudevents+json), ce_specversion, ce_id, ce_source,
//    ce_type, ce_subject, ce_time, ce_partitionkey, ce_accountseq (decimal) — the
//    attributes given, which are the envelope's own (ledger/event_log.h's
//    AppendEvent); nothing of its data. InvalidArgument (nothing built) if a string
//    attribute is empty or accountseq is 0.
//  - MessageAccount reads back the account (ce_partitionkey) and account sequence
//    (ce_accountseq, by ParseDecimal) of a stored message from its headers; for a
//    message without them (not produced by KafkaLog), from the envelope in its value
//    (ReadEnvelopeAttributes). nullopt if neither holds both.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "domain/envelope.h"
#include "domain/status.h"

namespace authledger::kafka {

inline constexpr const char* kContentType = "application/cloudevents+json";

struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* h) const { rd_kafka_headers_destroy(h); }
};
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

Result<HeadersPtr> MessageHeaders(const EnvelopeAttributes& attributes);

struct MessageAccountSeq {
  std::string account;
  std::uint64_t seq = 0;
};
std::optional<MessageAccountSeq> MessageAccount(const rd_kafka_message_t* m);

}  // namespace authledger::kafka
