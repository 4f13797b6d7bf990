#include "ledger/kafka_producer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <vector>

#include "ledger/kafka_client.h"
#include "ledger/kafka_headers.h"
#include "ledger/partitioner.h"

namespace authledger::kafka {
namespace {

using namespace std::chrono_literals;

constexpr auto kProbeTimeout = 250ms;  // metadata probe while the brokers are down
constexpr auto kResyncQueryTimeout = 1000ms;
constexpr auto kResyncBudget = 1000ms;  // reading done by one Append to re-synchronise
constexpr std::size_t kResyncBatch = 1000;
constexpr int kFlushTimeoutMs = 5000;

// One produced message's outcome; Completion collects a batch's.
struct Completion;
struct Delivery {
  Completion* completion = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::int64_t offset = -1;
  rd_kafka_msg_status_t status = RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
};
struct Completion {
  explicit Completion(std::size_t n) : messages(n) {
    for (auto& d : messages) d.completion = this;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::size_t reported = 0;
  std::vector<Delivery> messages;
};

}  // namespace

KafkaProducer::KafkaProducer(const KafkaLogOptions& opts, KafkaTopicState& state, KafkaReaders& readers)
    : opts_(opts),
      state_(state),
      readers_(readers),
      partitions_(state.partitions()),
      parts_(std::make_unique<Partition[]>(partitions_)) {}

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Start(const KafkaLogOptions& opts, KafkaTopicState& state,
                                                            KafkaReaders& readers) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(opts, state, readers));
  if (Status s = producer->StartClient(); !s.ok()) return s;
  return producer;
}

KafkaProducer::~KafkaProducer() {
  if (!rk_) return;
  rd_kafka_flush(rk_, kFlushTimeoutMs);
  stop_ = true;
  if (poll_thread_.joinable()) poll_thread_.join();
  if (topic_) rd_kafka_topic_destroy(topic_);
  rd_kafka_destroy(rk_);
}

Status KafkaProducer::StartClient() {
  auto conf = NewConf(opts_.brokers,
                      {{"client.id", "authledger-ledger"},
                       {"enable.idempotence", "true"},
                       {"acks", "all"},
                       {"linger.ms", "2"},
                       // One request in flight per broker: a retried request can never be
                       // overtaken by the next one, even by a broker that checks idempotent
                       // sequences loosely (librdkafka's mock stored a later record and then
                       // dropped the retried earlier one as a duplicate). Appends are
                       // latency-bound anyway (docs/performance.md).
                       {"max.in.flight.requests.per.connection", "1"},
                       {"message.timeout.ms", std::to_string(opts_.delivery_timeout.count())},
                       {"request.timeout.ms", std::to_string(opts_.delivery_timeout.count())}},
                      opts_.extra);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaProducer::OnDelivery);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaProducer::OnError);
  rd_kafka_conf_set_opaque(conf->get(), this);
  char errstr[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof errstr);
  if (!rk_) return Status::InvalidArgument(std::string("kafka ledger: cannot create the producer: ") + errstr);
  conf->release();  // owned by the producer now
  topic_ = rd_kafka_topic_new(rk_, opts_.topic.c_str(), nullptr);
  if (!topic_) return Status::Internal("kafka ledger: " + ErrText(rd_kafka_last_error()));
  poll_thread_ = std::thread([this] {
    while (!stop_.load()) {
      rd_kafka_poll(rk_, 100);
      // Messages still queued while no broker is reachable fail now (not persisted)
      // instead of at message.timeout.ms: Append fails fast.
      if (purge_queued_.exchange(false) && brokers_down_.load()) rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE);
    }
  });
  return Status::Ok();
}

void KafkaProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(m->_private);
  if (!d) return;
  static_cast<KafkaProducer*>(opaque)->CheckOwnOffsets(m);
  Completion* c = d->completion;
  std::lock_guard<std::mutex> l(c->mu);
  d->err = m->err;
  d->offset = m->offset;
  d->status = rd_kafka_message_status(m);
  ++c->reported;
  c->cv.notify_all();  // under the lock: the Append may free *c as soon as it sees the count
}

void KafkaProducer::CheckOwnOffsets(const rd_kafka_message_t* m) {
  if (m->partition < 0 || static_cast<std::uint32_t>(m->partition) >= partitions_) return;
  Partition& part = parts_[m->partition];
  if (m->err || m->offset < 0) {
    part.own_next = -1;  // what happened to it is unknown: re-learn from the next success
    return;
  }
  if (part.own_next >= 0 && m->offset != part.own_next && !foreign_writer_.exchange(true))
    spdlog::error("kafka ledger: {} partition {}: our message landed at offset {}, not {}: another producer is "
                  "appending to this topic; this writer stops appending (one writer per topic)",
                  opts_.topic, m->partition, m->offset, part.own_next);
  part.own_next = m->offset + 1;
}

void KafkaProducer::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  std::string text = std::string(rd_kafka_err2name(code)) + ": " + (reason ? reason : "");
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
    text = "fatal " + std::string(rd_kafka_err2name(orig)) + ": " + buf;
    self->fatal_ = true;
  }
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT) self->brokers_down_ = true;
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->purge_queued_ = true;
  std::lock_guard<std::mutex> l(self->error_mu_);
  self->last_error_ = std::move(text);
}

std::string KafkaProducer::LastError() {
  std::lock_guard<std::mutex> l(error_mu_);
  return last_error_.empty() ? "no answer" : last_error_;
}

Status KafkaProducer::ProbeIfDown() {
  if (!brokers_down_.load()) return Status::Ok();
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, topic_, &md, ClampMs(kProbeTimeout));
  if (md) rd_kafka_metadata_destroy(md);
  if (err)
    return Status::Unavailable("kafka ledger: brokers " + opts_.brokers + " unreachable (" + LastError() + "); retry");
  brokers_down_ = false;
  return Status::Ok();
}

Status KafkaProducer::Resync(std::uint32_t p) {
  if (state_.Synced(p)) return Status::Ok();
  std::lock_guard<std::mutex> serial(parts_[p].resync_mu);
  const std::string where = opts_.topic + " partition " + std::to_string(p);
  if (state_.NeedsQuery(p)) {
    std::int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_, opts_.topic.c_str(), static_cast<std::int32_t>(p),
                                                               &lo, &hi, ClampMs(kResyncQueryTimeout));
    if (err)
      return Status::Unavailable("kafka ledger: ledger is re-synchronising (" + where + ": " + ErrText(err) +
                                 "); retry");
    state_.SetQueriedTarget(p, static_cast<std::uint64_t>(std::max<std::int64_t>(hi, 0)));
  }
  const auto deadline = SteadyClock::now() + kResyncBudget;
  std::vector<StoredEvent> scratch;
  for (;;) {
    std::uint64_t through = 0, target = 0;
    Cursor from(partitions_);
    state_.SyncProgress(p, &through, &target, &from);
    if (through >= target) return Status::Ok();
    if (SteadyClock::now() >= deadline)
      return Status::Unavailable("kafka ledger: ledger is re-synchronising (" + where + ": read " +
                                 std::to_string(through) + " of " + std::to_string(target) + " events); retry");
    from.Advance(MakePosition(p, through));
    if (Status s = readers_.Read(from, kResyncBatch, &scratch); !s.ok()) return s;
  }
}

Result<Position> KafkaProducer::Append(AppendBatch batch) {
  if (batch.account_id.empty()) return Status::InvalidArgument("kafka ledger: batch without account id");
  if (batch.events.empty()) return Status::InvalidArgument("kafka ledger: empty batch");
  const std::string& account = batch.account_id;
  const std::size_t n = batch.events.size();
  if (Status s = CheckBatchAttributes(batch); !s.ok()) return Status::InvalidArgument("kafka ledger: " + s.message());
  std::vector<HeadersPtr> headers;
  headers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto h = MessageHeaders(batch.events[i].attributes);
    if (!h.ok())
      return Status::InvalidArgument("kafka ledger: event " + std::to_string(i) +
                                     " of the batch: " + h.status().message());
    headers.push_back(std::move(h).value());
  }
  const std::uint32_t p = PartitionFor(account, partitions_);
  if (batch.expected_head && PartitionOf(*batch.expected_head) != p)
    return Status::InvalidArgument("kafka ledger: expected head " + PositionToString(*batch.expected_head) +
                                   " is not in partition " + std::to_string(p) + " of account " + account);
  if (fatal_.load())
    return Status::Unavailable("kafka ledger: the producer failed (" + LastError() + "); reopen the ledger");
  if (foreign_writer_.load())
    return Status::Unavailable("kafka ledger: another producer appended to " + opts_.topic +
                               " while this writer was appending; it appends no more (one writer per topic): "
                               "stop the other writer, then restart this one");
  if (Status s = ProbeIfDown(); !s.ok()) return s;

  Partition& part = parts_[p];
  std::shared_lock<std::shared_mutex> shared(part.append_mu, std::defer_lock);
  std::unique_lock<std::shared_mutex> exclusive(part.append_mu, std::defer_lock);
  if (batch.expected_head) exclusive.lock();
  else shared.lock();
  if (Status s = Resync(p); !s.ok()) return s;
  if (Status s = state_.BeginAppend(account, batch.expected_seq, batch.expected_head, p); !s.ok()) return s;

  Completion done(n);
  std::size_t produced = 0;
  rd_kafka_resp_err_t produce_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (std::size_t i = 0; i < n; ++i) {
    std::string& value = batch.events[i].bytes;
    produce_err =
        rd_kafka_producev(rk_, RD_KAFKA_V_RKT(topic_), RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(p)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(account.data(), account.size()),
                          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_HEADERS(headers[i].get()),
                          RD_KAFKA_V_OPAQUE(&done.messages[i]), RD_KAFKA_V_END);
    if (produce_err) break;  // the headers were not taken over
    headers[i].release();    // owned by the message now
    ++produced;
  }
  {
    std::unique_lock<std::mutex> l(done.mu);
    done.cv.wait(l, [&] { return done.reported == produced; });
  }

  rd_kafka_resp_err_t first_err = produce_err;
  bool maybe_persisted = false;
  std::size_t delivered = 0;
  std::vector<std::int64_t> offsets(produced, -1);
  for (std::size_t i = 0; i < produced; ++i) {
    const Delivery& d = done.messages[i];
    if (d.err) {
      if (!first_err) first_err = d.err;
      if (d.status != RD_KAFKA_MSG_STATUS_NOT_PERSISTED) maybe_persisted = true;
      continue;
    }
    if (d.offset < 0) continue;
    ++delivered;
    offsets[i] = d.offset;
  }
  state_.EndAppend(account, p, batch.expected_seq, offsets, maybe_persisted);
  if (delivered > 0) brokers_down_ = false;
  if (first_err || delivered != n) {
    const std::string what = "kafka ledger: " + std::string(rd_kafka_err2name(first_err)) + ": " +
                             rd_kafka_err2str(first_err) + " (account " + account + ", " + opts_.topic + " partition " +
                             std::to_string(p) + ", " + std::to_string(delivered) + " of " + std::to_string(n) +
                             " events delivered)";
    // A part of the batch stored is, for the caller, as uncertain as a delivery that may have been.
    if (maybe_persisted || delivered > 0)
      return Status::OutcomeUnknown(what + "; the batch may be stored, in whole or in part");
    return Status::Unavailable(what + "; nothing of it was stored");
  }
  return MakePosition(p, static_cast<std::uint64_t>(offsets.back()) + 1);
}

}  // namespace authledger::kafka
