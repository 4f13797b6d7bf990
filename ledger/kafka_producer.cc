#include "ledger/kafka_producer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

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
constexpr auto kFlushTimeout = 5000ms;  // the destructor's wait for outstanding deliveries
constexpr int kPurgeFlushMs = 1000;     // then for the reports of what it purged

// "2 appends (3 events)".
std::string Appends(std::size_t batches, std::size_t events) {
  return std::to_string(batches) + (batches == 1 ? " append (" : " appends (") + std::to_string(events) +
         (events == 1 ? " event)" : " events)");
}

}  // namespace

// One produced message's outcome.
struct KafkaProducer::Delivery {
  Job* job = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::int64_t offset = -1;
  rd_kafka_msg_status_t status = RD_KAFKA_MSG_STATUS_NOT_PERSISTED;
};

struct KafkaProducer::Job {
  AppendBatch batch;  // its bytes stay here until the last delivery report (produced without a copy)
  EventLog::AppendDone done;
  std::uint32_t partition = 0;
  std::vector<HeadersPtr> headers;  // until produced: then the messages own them
  std::vector<Delivery> messages;
  rd_kafka_resp_err_t produce_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::mutex mu;  // the rest: the append thread produces while the poll thread reports
  bool producing = true;
  std::size_t produced = 0, reported = 0;
};

KafkaProducer::KafkaProducer(const KafkaLogOptions& opts, KafkaTopicState& state, KafkaReaders& readers,
                             KafkaOwnTail& tail)
    : opts_(opts),
      state_(state),
      readers_(readers),
      tail_(tail),
      partitions_(state.partitions()),
      parts_(std::make_unique<Partition[]>(partitions_)) {}

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Start(const KafkaLogOptions& opts, KafkaTopicState& state,
                                                            KafkaReaders& readers, KafkaOwnTail& tail) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(opts, state, readers, tail));
  if (Status s = producer->StartClient(); !s.ok()) return s;
  producer->append_thread_ = std::thread([p = producer.get()] { p->AppendLoop(); });
  return producer;
}

KafkaProducer::~KafkaProducer() {
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (append_thread_.joinable()) append_thread_.join();  // after producing (or failing) what was handed over
  if (!rk_) return;
  const auto give_up_at = SteadyClock::time_point(SteadyClock::duration(give_up_at_.load()));
  rd_kafka_flush(rk_, MsUntil(std::min(SteadyClock::now() + kFlushTimeout, give_up_at)));
  // What is still undelivered fails now (logged; its reports served by the flush),
  // so that every `done` is called.
  GiveUp();
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk_, kPurgeFlushMs);
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
                       // dropped the retried earlier one as a duplicate). The batches of all
                       // accounts waiting meanwhile go out together in the next request.
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
      if (!given_up_.load() && SteadyClock::now().time_since_epoch().count() >= give_up_at_.load()) GiveUp();
    }
  });
  return Status::Ok();
}

void KafkaProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* d = static_cast<Delivery*>(m->_private);
  if (!d) return;
  auto* self = static_cast<KafkaProducer*>(opaque);
  self->CheckOwnOffsets(m);
  Job* job = d->job;
  bool complete = false;
  {
    std::lock_guard<std::mutex> l(job->mu);
    d->err = m->err;
    d->offset = m->offset;
    d->status = rd_kafka_message_status(m);
    ++job->reported;
    complete = !job->producing && job->reported == job->produced;
  }
  if (complete) self->Finish(job);
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
  const auto unreachable = [&] {
    return Status::Unavailable("kafka ledger: brokers " + opts_.brokers + " unreachable (" + LastError() + "); retry");
  };
  // One probe per kProbeTimeout: the batches queued behind a failed probe fail at once.
  if (SteadyClock::now() - last_failed_probe_ < kProbeTimeout) return unreachable();
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, topic_, &md, ClampMs(kProbeTimeout));
  if (md) rd_kafka_metadata_destroy(md);
  if (err) {
    last_failed_probe_ = SteadyClock::now();
    return unreachable();
  }
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
    if (given_up_.load()) return GivenUpStatus();
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
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<Result<Position>> result;
  };
  auto wait = std::make_shared<Wait>();
  AppendAsync(std::move(batch), [wait](Result<Position> r) {
    std::lock_guard<std::mutex> l(wait->mu);
    wait->result.emplace(std::move(r));
    wait->cv.notify_all();
  });
  std::unique_lock<std::mutex> l(wait->mu);
  wait->cv.wait(l, [&] { return wait->result.has_value(); });
  return std::move(*wait->result);
}

void KafkaProducer::AppendAsync(AppendBatch batch, EventLog::AppendDone done) {
  auto job = std::make_unique<Job>();
  job->batch = std::move(batch);
  job->done = std::move(done);
  {
    std::lock_guard<std::mutex> l(queue_mu_);
    if (!stopping_ && !given_up_.load()) {
      queue_.push_back(std::move(job));
      queue_cv_.notify_one();
      return;
    }
  }
  job->done(GivenUpStatus());
}

void KafkaProducer::GiveUpAt(std::chrono::steady_clock::time_point deadline) {
  give_up_at_.store(deadline.time_since_epoch().count());
}

Status KafkaProducer::GivenUpStatus() const {
  return Status::Unavailable("kafka ledger: the ledger is closing (the server is stopping); nothing was appended");
}

void KafkaProducer::GiveUp() {
  std::deque<std::unique_ptr<Job>> queued;
  std::vector<std::size_t> flying(partitions_), flying_events(partitions_);
  {
    // Produce checks given_up_ under this lock: a batch is produced before the purge, or never.
    std::lock_guard<std::mutex> gate(produce_mu_);
    if (given_up_.exchange(true)) return;
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      queued.swap(queue_);
    }
    {
      std::lock_guard<std::mutex> l(flight_mu_);
      for (std::uint32_t p = 0; p < partitions_; ++p) {
        flying[p] = parts_[p].in_flight;
        flying_events[p] = parts_[p].in_flight_events;
      }
    }
    if (rk_) rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
  flight_cv_.notify_all();  // WaitIdle gives up too (it reads given_up_ under flight_mu_, taken above)
  std::vector<std::size_t> waiting(partitions_), waiting_events(partitions_);
  for (const auto& job : queued) {
    const std::uint32_t p = PartitionFor(job->batch.account_id, partitions_);
    ++waiting[p];
    waiting_events[p] += job->batch.events.size();
  }
  std::string where;
  std::size_t batches = 0, events = 0;
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    if (flying[p] + waiting[p] == 0) continue;
    where += (where.empty() ? "partition " : ", partition ") + std::to_string(p) + ":";
    if (flying[p] > 0) where += " " + Appends(flying[p], flying_events[p]) + " produced";
    if (waiting[p] > 0)
      where +=
          std::string(flying[p] > 0 ? " and" : "") + " " + Appends(waiting[p], waiting_events[p]) + " not yet produced";
    batches += flying[p] + waiting[p];
    events += flying_events[p] + waiting_events[p];
  }
  if (batches > 0)
    spdlog::warn("kafka ledger: shutdown: gave up on {} the brokers of {} had not acknowledged ({}); none was "
                 "acknowledged to its client: each is answered 503, outcome-unknown if it may have reached the "
                 "topic",
                 Appends(batches, events), opts_.topic, where);
  for (auto& job : queued) job->done(GivenUpStatus());
}

void KafkaProducer::AppendLoop() {
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      queue_cv_.wait(l, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything handed over is produced
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Produce(std::move(job));
  }
}

Status KafkaProducer::Prepare(Job& job) {
  if (given_up_.load()) return GivenUpStatus();
  AppendBatch& batch = job.batch;
  if (batch.account_id.empty()) return Status::InvalidArgument("kafka ledger: batch without account id");
  if (batch.events.empty()) return Status::InvalidArgument("kafka ledger: empty batch");
  if (Status s = CheckBatchAttributes(batch); !s.ok()) return Status::InvalidArgument("kafka ledger: " + s.message());
  const std::size_t n = batch.events.size();
  job.headers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto h = MessageHeaders(batch.events[i].attributes);
    if (!h.ok())
      return Status::InvalidArgument("kafka ledger: event " + std::to_string(i) +
                                     " of the batch: " + h.status().message());
    job.headers.push_back(std::move(h).value());
  }
  const std::uint32_t p = job.partition = PartitionFor(batch.account_id, partitions_);
  if (batch.expected_head && PartitionOf(*batch.expected_head) != p)
    return Status::InvalidArgument("kafka ledger: expected head " + PositionToString(*batch.expected_head) +
                                   " is not in partition " + std::to_string(p) + " of account " + batch.account_id);
  if (fatal_.load())
    return Status::Unavailable("kafka ledger: the producer failed (" + LastError() + "); reopen the ledger");
  if (foreign_writer_.load())
    return Status::Unavailable("kafka ledger: another producer appended to " + opts_.topic +
                               " while this writer was appending; it appends no more (one writer per topic): "
                               "stop the other writer, then restart this one");
  if (Status s = ProbeIfDown(); !s.ok()) return s;
  if (batch.expected_head)
    if (Status s = WaitIdle(p); !s.ok()) return s;
  if (Status s = Resync(p); !s.ok()) return s;
  return state_.BeginAppend(batch.account_id, batch.expected_seq, batch.expected_head, p);
}

Status KafkaProducer::WaitIdle(std::uint32_t p) {
  std::unique_lock<std::mutex> l(flight_mu_);
  // Deliveries end within delivery_timeout; the second more is the poll thread's slack.
  const auto limit = opts_.delivery_timeout + std::chrono::seconds(1);
  if (flight_cv_.wait_for(l, limit, [&] { return parts_[p].in_flight == 0 || given_up_.load(); }))
    return given_up_.load() ? GivenUpStatus() : Status::Ok();
  return Status::Unavailable("kafka ledger: " + opts_.topic + " partition " + std::to_string(p) +
                             ": earlier appends are still undelivered after " + std::to_string(limit.count()) +
                             " ms; retry");
}

void KafkaProducer::Produce(std::unique_ptr<Job> owned) {
  if (Status s = Prepare(*owned); !s.ok()) return owned->done(std::move(s));
  Job* job = owned.release();  // from now on Finish deletes it
  AppendBatch& batch = job->batch;
  const std::string& account = batch.account_id;
  const std::uint32_t p = job->partition;
  const std::size_t n = batch.events.size();
  job->messages.resize(n);
  for (auto& d : job->messages) d.job = job;
  {
    std::lock_guard<std::mutex> l(flight_mu_);
    ++parts_[p].in_flight;
    parts_[p].in_flight_events += n;
  }
  tail_.Expect(p);
  std::size_t produced = 0;
  rd_kafka_resp_err_t produce_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::unique_lock<std::mutex> gate(produce_mu_);                      // see GiveUp
  if (given_up_.load()) produce_err = RD_KAFKA_RESP_ERR__PURGE_QUEUE;  // failed below like a refused produce
  for (std::size_t i = 0; i < n && !produce_err; ++i) {
    std::string& value = batch.events[i].bytes;
    produce_err = rd_kafka_producev(
        rk_, RD_KAFKA_V_RKT(topic_), RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(p)),
        RD_KAFKA_V_MSGFLAGS(0),  // the job keeps the bytes until they are reported
        RD_KAFKA_V_KEY(account.data(), account.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
        RD_KAFKA_V_HEADERS(job->headers[i].get()), RD_KAFKA_V_OPAQUE(&job->messages[i]), RD_KAFKA_V_END);
    if (produce_err) break;     // the headers were not taken over
    job->headers[i].release();  // owned by the message now
    ++produced;
  }
  gate.unlock();
  bool complete = false;
  {
    std::lock_guard<std::mutex> l(job->mu);
    job->producing = false;
    job->produced = produced;
    job->produce_err = produce_err;
    complete = job->reported == produced;
  }
  if (complete) Finish(job);
}

void KafkaProducer::Finish(Job* raw) {
  std::unique_ptr<Job> job(raw);
  const AppendBatch& batch = job->batch;
  const std::string& account = batch.account_id;
  const std::uint32_t p = job->partition;
  const std::size_t n = batch.events.size();
  rd_kafka_resp_err_t first_err = job->produce_err;
  bool maybe_persisted = false;
  std::size_t delivered = 0;
  std::vector<std::int64_t> offsets(job->produced, -1);
  for (std::size_t i = 0; i < job->produced; ++i) {
    const Delivery& d = job->messages[i];
    if (d.err) {
      if (!first_err) first_err = d.err;
      if (d.status != RD_KAFKA_MSG_STATUS_NOT_PERSISTED) maybe_persisted = true;
      continue;
    }
    if (d.offset < 0) continue;
    ++delivered;
    offsets[i] = d.offset;
  }
  const bool ok = !first_err && delivered == n;
  // The tail first, then the heads: whoever sees the heads move finds the events served.
  std::vector<KafkaOwnTail::Event> events;
  if (ok && static_cast<std::uint64_t>(offsets.back() - offsets.front()) + 1 == n) {
    events.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      events.push_back(KafkaOwnTail::Event{std::move(job->batch.events[i].bytes), account, batch.expected_seq + i + 1});
  }
  tail_.Complete(p, ok ? offsets.front() : -1, std::move(events));
  state_.EndAppend(account, p, batch.expected_seq, offsets, maybe_persisted);
  if (delivered > 0) brokers_down_ = false;
  {
    std::lock_guard<std::mutex> l(flight_mu_);
    --parts_[p].in_flight;
    parts_[p].in_flight_events -= n;
  }
  flight_cv_.notify_all();
  if (!ok) {
    const std::string what = "kafka ledger: " + std::string(rd_kafka_err2name(first_err)) + ": " +
                             rd_kafka_err2str(first_err) + " (account " + account + ", " + opts_.topic + " partition " +
                             std::to_string(p) + ", " + std::to_string(delivered) + " of " + std::to_string(n) +
                             " events delivered)";
    // A part of the batch stored is, for the caller, as uncertain as a delivery that may have been.
    if (maybe_persisted || delivered > 0)
      return job->done(Status::OutcomeUnknown(what + "; the batch may be stored, in whole or in part"));
    return job->done(Status::Unavailable(what + "; nothing of it was stored"));
  }
  job->done(MakePosition(p, static_cast<std::uint64_t>(offsets.back()) + 1));
}

}  // namespace authledger::kafka
