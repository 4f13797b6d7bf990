// KafkaLog is a facade: Open inspects the topic, then the parts do the work —
// KafkaTopicState (what is known of the topic), KafkaReaders (Read, WaitForAppend),
// KafkaProducer (Append), with the message headers in kafka_headers.h.
#include "ledger/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <utility>

#include "ledger/kafka_client.h"
#include "ledger/kafka_own_tail.h"
#include "ledger/kafka_producer.h"
#include "ledger/kafka_readers.h"
#include "ledger/kafka_topic_state.h"

namespace authledger {

using kafka::ErrText;
using kafka::MsUntil;
using kafka::SteadyClock;

struct KafkaLog::Impl {
  // Declared in dependency order, so destroyed producer first, state last.
  KafkaLogOptions opts;
  std::unique_ptr<kafka::KafkaTopicState> state;
  std::unique_ptr<kafka::KafkaOwnTail> tail;  // null: read-only
  std::unique_ptr<kafka::KafkaReaders> readers;
  std::unique_ptr<kafka::KafkaProducer> producer;  // null: read-only
};

namespace {

struct Watermarks {
  std::uint64_t low = 0, high = 0;  // Kafka offsets: the partition holds [low, high)
};

// The topic's partitions and their watermarks, through `rk` by `deadline`.
Result<std::vector<Watermarks>> InspectTopic(rd_kafka_t* rk, const KafkaLogOptions& opts,
                                             SteadyClock::time_point deadline) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, opts.topic.c_str(), nullptr);
  if (!rkt) return Status::Internal("kafka ledger: " + ErrText(rd_kafka_last_error()));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, MsUntil(deadline));
  rd_kafka_topic_destroy(rkt);
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(md, &rd_kafka_metadata_destroy);
  if (err)
    return Status::Unavailable("kafka ledger: no broker of '" + opts.brokers + "' answered within " +
                               std::to_string(opts.open_timeout.count()) + " ms (" + ErrText(err) + ")");
  const rd_kafka_metadata_topic_t* t = nullptr;
  for (int i = 0; i < md->topic_cnt; ++i)
    if (opts.topic == md->topics[i].topic) t = &md->topics[i];
  const std::string create_hint = "create it: kafka-topics.sh --bootstrap-server " + opts.brokers +
                                  " --create --topic " + opts.topic + " --partitions " +
                                  (opts.partitions ? std::to_string(opts.partitions) : std::string("N")) +
                                  " --replication-factor 3 --config min.insync.replicas=2 --config retention.ms=-1";
  if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (t->err == 0 && t->partition_cnt == 0))
    return Status::NotFound("kafka ledger: topic '" + opts.topic + "' does not exist on " + opts.brokers + "; " +
                            create_hint);
  if (t->err) return Status::Unavailable("kafka ledger: topic '" + opts.topic + "': " + ErrText(t->err));
  const auto count = static_cast<std::uint32_t>(t->partition_cnt);
  if (count > kMaxPartitions)
    return Status::InvalidArgument("kafka ledger: topic '" + opts.topic + "' has " + std::to_string(count) +
                                   " partitions; at most " + std::to_string(kMaxPartitions) + " are supported");
  if (opts.partitions != 0 && opts.partitions != count)
    return Status::InvalidArgument("kafka ledger: topic '" + opts.topic + "' has " + std::to_string(count) +
                                   " partitions, configured " + std::to_string(opts.partitions));
  std::vector<Watermarks> out(count);
  for (std::uint32_t p = 0; p < count; ++p) {
    std::int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(rk, opts.topic.c_str(), static_cast<std::int32_t>(p), &lo, &hi,
                                           MsUntil(deadline));
    if (err)
      return Status::Unavailable("kafka ledger: cannot read the end of " + opts.topic + " partition " +
                                 std::to_string(p) + " on " + opts.brokers + " within " +
                                 std::to_string(opts.open_timeout.count()) + " ms (" + ErrText(err) + ")");
    out[p].low = static_cast<std::uint64_t>(std::max<std::int64_t>(lo, 0));
    out[p].high = static_cast<std::uint64_t>(std::max<std::int64_t>(hi, 0));
  }
  return out;
}

}  // namespace

KafkaLog::KafkaLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaLog::~KafkaLog() = default;

Result<std::unique_ptr<KafkaLog>> KafkaLog::Open(KafkaLogOptions options) {
  if (options.brokers.empty()) return Status::InvalidArgument("kafka ledger: no brokers configured");
  if (options.topic.empty()) return Status::InvalidArgument("kafka ledger: no topic configured");
  if (options.partitions > kMaxPartitions)
    return Status::InvalidArgument("kafka ledger: at most " + std::to_string(kMaxPartitions) + " partitions");
  if (options.delivery_timeout.count() <= 0 || options.open_timeout.count() <= 0)
    return Status::InvalidArgument("kafka ledger: timeouts must be positive");
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(options);
  const KafkaLogOptions& opts = impl->opts;
  const auto deadline = SteadyClock::now() + opts.open_timeout;
  // The topic is inspected through a reader, which the pool then keeps.
  auto consumer = kafka::NewReaderConsumer(opts);
  if (!consumer.ok()) return consumer.status();
  auto topic = InspectTopic(consumer->get(), opts, deadline);
  if (!topic.ok()) return topic.status();
  impl->state = std::make_unique<kafka::KafkaTopicState>(opts.topic, static_cast<std::uint32_t>(topic->size()));
  for (std::uint32_t p = 0; p < topic->size(); ++p) impl->state->InitPartition(p, (*topic)[p].low, (*topic)[p].high);
  if (opts.producer) impl->tail = std::make_unique<kafka::KafkaOwnTail>(*impl->state);
  impl->readers =
      std::make_unique<kafka::KafkaReaders>(opts, *impl->state, std::move(consumer).value(), impl->tail.get());
  if (opts.producer) {
    auto producer = kafka::KafkaProducer::Start(opts, *impl->state, *impl->readers, *impl->tail);
    if (!producer.ok()) return producer.status();
    impl->producer = std::move(producer).value();
  }
  return std::unique_ptr<KafkaLog>(new KafkaLog(std::move(impl)));
}

std::uint32_t KafkaLog::Partitions() const { return impl_->state->partitions(); }

Result<Position> KafkaLog::Append(AppendBatch batch) {
  if (!impl_->producer)
    return Status::FailedPrecondition("kafka ledger: opened read-only (producer=false); cannot append");
  return impl_->producer->Append(std::move(batch));
}

void KafkaLog::AppendAsync(AppendBatch batch, AppendDone done) {
  if (!impl_->producer)
    return done(Status::FailedPrecondition("kafka ledger: opened read-only (producer=false); cannot append"));
  impl_->producer->AppendAsync(std::move(batch), std::move(done));
}

Status KafkaLog::Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) {
  return impl_->readers->Read(after, max, out);
}

Cursor KafkaLog::Heads() const { return impl_->state->Heads(); }

std::uint64_t KafkaLog::AccountSeq(const std::string& account_id) const { return impl_->state->AccountSeq(account_id); }

Cursor KafkaLog::WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) {
  return impl_->readers->WaitForAppend(after, timeout);
}

void KafkaLog::WakeAll() { impl_->state->WakeAll(); }

void KafkaLog::GiveUpAt(std::chrono::steady_clock::time_point deadline) {
  if (impl_->producer) impl_->producer->GiveUpAt(deadline);
}

const KafkaLogOptions& KafkaLog::options() const { return impl_->opts; }

}  // namespace authledger
