#include "ledger/kafka_readers.h"

#include <algorithm>
#include <string>

#include "ledger/kafka_client.h"
#include "ledger/kafka_headers.h"

namespace authledger::kafka {
namespace {

using namespace std::chrono_literals;

constexpr auto kReadWait = 1000ms;  // Read waits this long for a first event
constexpr auto kPollSlice = 100ms;  // one consumer poll inside Read
constexpr auto kWaitSlice = 50ms;   // one consumer poll inside WaitForAppend
constexpr auto kOwnWait = 200ms;    // Read waits this long for an own batch in flight

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

}  // namespace

void ConsumerDeleter::operator()(rd_kafka_t* rk) const {
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

Result<ConsumerPtr> NewReaderConsumer(const KafkaLogOptions& opts) {
  auto conf = NewConf(opts.brokers,
                      {{"client.id", "authledger-reader"},
                       {"group.id", "authledger-reader"},  // required by the API; never joined or committed
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"auto.offset.reset", "error"},
                       {"enable.partition.eof", "false"},
                       {"fetch.wait.max.ms", "100"},
                       // Prefetch generously: below the projector's catch-up batch
                       // (16,384), librdkafka 2.0 pauses fetching for up to a second
                       // whenever the queue fills (measured: 5-9x slower catch-up).
                       {"queued.min.messages", "20000"},
                       {"queued.max.messages.kbytes", "32768"}},
                      opts.extra);
  if (!conf.ok()) return conf.status();
  char errstr[512];
  ConsumerPtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof errstr));
  if (!rk) return Status::InvalidArgument(std::string("kafka ledger: cannot create a consumer: ") + errstr);
  conf->release();                       // owned by the consumer now
  rd_kafka_poll_set_consumer(rk.get());  // client errors arrive through rd_kafka_consumer_poll
  return rk;
}

// A Reader taken from the pool, returned to it on destruction.
class KafkaReaders::Lease {
 public:
  Lease(KafkaReaders* pool, Reader* r) : pool_(pool), r_(r) {}
  ~Lease() { pool_->Release(r_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

 private:
  KafkaReaders* pool_;
  Reader* r_;
};

KafkaReaders::KafkaReaders(const KafkaLogOptions& opts, KafkaTopicState& state, ConsumerPtr first, KafkaOwnTail* tail)
    : opts_(opts), state_(state), tail_(tail), partitions_(state.partitions()) {
  if (first) {
    auto r = std::make_unique<Reader>();
    r->rk = std::move(first);
    r->cursor = r->fetched = Cursor(partitions_);
    readers_.push_back(std::move(r));
  }
}

KafkaReaders::~KafkaReaders() = default;

Result<KafkaReaders::Reader*> KafkaReaders::Acquire(const Cursor& at, bool wait) {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    Reader* pick = nullptr;
    for (auto& r : readers_)
      if (!r->busy && r->positioned && r->cursor == at) pick = r.get();
    if (!pick)
      for (auto& r : readers_)
        if (!r->busy && CanSkipTo(*r, at)) pick = r.get();
    if (!pick && readers_.size() < kMaxReaders) {
      auto rk = NewReaderConsumer(opts_);
      if (!rk.ok()) return rk.status();
      auto r = std::make_unique<Reader>();
      r->rk = std::move(rk).value();
      r->cursor = r->fetched = Cursor(partitions_);
      readers_.push_back(std::move(r));
      pick = readers_.back().get();
    }
    if (!pick) {
      for (auto& r : readers_) {
        if (r->busy) continue;
        if (!pick || (pick->positioned && (!r->positioned || r->last_used < pick->last_used))) pick = r.get();
      }
    }
    if (pick) {
      pick->busy = true;
      return pick;
    }
    if (!wait) return static_cast<Reader*>(nullptr);
    cv_.wait(l);
  }
}

void KafkaReaders::Release(Reader* r) {
  std::lock_guard<std::mutex> l(mu_);
  r->busy = false;
  r->last_used = ++use_clock_;
  cv_.notify_one();
}

bool KafkaReaders::CanSkipTo(const Reader& r, const Cursor& at) const {
  if (!r.positioned || at.partitions() != partitions_) return false;
  std::uint64_t skip = 0;
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    if (at.offset(p) < r.cursor.offset(p)) return false;
    if (at.offset(p) > r.fetched.offset(p)) skip += at.offset(p) - r.fetched.offset(p);
  }
  return skip <= kMaxSkip;
}

Status KafkaReaders::Seek(Reader& r, const Cursor& at) {
  if (r.positioned && r.cursor == at) return Status::Ok();
  if (CanSkipTo(r, at)) {
    // Forward, a little: drop what is buffered before `at`; Take passes over what the
    // consumer still brings before it (offsets below `fetched`).
    std::erase_if(r.buffer, [&](const StoredEvent& e) { return at.Covers(e.position); });
    for (std::uint32_t p = 0; p < partitions_; ++p)
      if (at.offset(p) > r.fetched.offset(p)) r.fetched.Advance(at.at(p));
    r.cursor = at;
    return Status::Ok();
  }
  r.buffer.clear();
  r.positioned = false;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions_));
  for (std::uint32_t p = 0; p < partitions_; ++p)
    rd_kafka_topic_partition_list_add(list, opts_.topic.c_str(), static_cast<std::int32_t>(p))->offset =
        static_cast<std::int64_t>(at.offset(p));
  rd_kafka_resp_err_t err = rd_kafka_assign(r.rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err) return Status::Unavailable("kafka ledger: cannot assign " + opts_.topic + ": " + ErrText(err));
  r.cursor = r.fetched = at;
  r.positioned = true;
  return Status::Ok();
}

Status KafkaReaders::ConsumerError(const Reader& r, const rd_kafka_message_t* m) const {
  std::string where = m->rkt ? opts_.topic + " partition " + std::to_string(m->partition) : opts_.topic;
  std::string reason = rd_kafka_message_errstr(m);
  switch (m->err) {
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: {
      const auto p = static_cast<std::uint32_t>(m->partition);
      std::string at =
          m->partition >= 0 && p < partitions_ ? " after offset " + std::to_string(r.fetched.offset(p)) : "";
      return Status::Corruption("kafka ledger: " + where + ": cannot read" + at + ": out of range (" + reason +
                                "); events were deleted (retention?) or this is not the ledger's topic");
    }
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return Status::NotFound("kafka ledger: " + where + ": " + rd_kafka_err2name(m->err) + ": " + reason);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return Status::PermissionDenied("kafka ledger: " + where + ": " + rd_kafka_err2name(m->err) + ": " + reason);
    default: return Status::Unavailable("kafka ledger: " + where + ": " + rd_kafka_err2name(m->err) + ": " + reason);
  }
}

Status KafkaReaders::Take(Reader& r, rd_kafka_message_t* raw) {
  std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(raw);
  if (m->err) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return Status::Ok();
    // The group is never joined (assign only): its coordinator's troubles don't matter.
    if (!m->rkt &&
        (m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
         m->err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE || m->err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
         m->err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS))
      return Status::Ok();
    Status s = ConsumerError(r, m.get());
    if (m->rkt) {  // a partition's fetch stopped: position again next time
      r.positioned = false;
      r.buffer.clear();
    }
    return s;
  }
  if (m->partition < 0 || static_cast<std::uint32_t>(m->partition) >= partitions_ || m->offset < 0) {
    r.positioned = false;
    r.buffer.clear();
    return Status::Corruption("kafka ledger: unexpected message from " + opts_.topic + " partition " +
                              std::to_string(m->partition) + " offset " + std::to_string(m->offset));
  }
  const auto p = static_cast<std::uint32_t>(m->partition);
  const auto kafka_offset = static_cast<std::uint64_t>(m->offset);
  const std::uint64_t expected = r.fetched.offset(p);  // our offset of the last one == Kafka's next
  if (kafka_offset < expected) return Status::Ok();    // left over from an earlier position
  if (kafka_offset > expected) {
    r.positioned = false;
    r.buffer.clear();
    return Status::Corruption("kafka ledger: " + opts_.topic + " partition " + std::to_string(p) + ": after event " +
                              PositionToString(MakePosition(p, expected)) + " comes " +
                              PositionToString(MakePosition(p, kafka_offset + 1)) +
                              ": events are missing (retention or compaction?); refusing to skip them");
  }
  const Position pos = MakePosition(p, kafka_offset + 1);
  const auto known = MessageAccount(m.get());
  r.buffer.push_back(
      StoredEvent{pos, m->payload ? std::string(static_cast<const char*>(m->payload), m->len) : std::string()});
  r.fetched.Advance(pos);
  state_.LearnEvent(p, kafka_offset + 1, known ? &known->account : nullptr, known ? known->seq : 0);
  return Status::Ok();
}

void KafkaReaders::LearnWatermarks(Reader& r) {
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    std::int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(r.rk.get(), opts_.topic.c_str(), static_cast<std::int32_t>(p), &lo, &hi) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    if (hi > 0) state_.LearnWatermarks(p, lo > 0 ? static_cast<std::uint64_t>(lo) : 0, static_cast<std::uint64_t>(hi));
  }
}

Status KafkaReaders::Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) {
  out->clear();
  if (after.partitions() != partitions_)
    return Status::InvalidArgument("kafka ledger: cursor of " + std::to_string(after.partitions()) +
                                   " partitions for a ledger of " + std::to_string(partitions_));
  if (max == 0) return Status::Ok();
  bool behind = false;
  if (Status s = state_.CheckCursor(after, &behind); !s.ok()) return s;
  if (!behind) return Status::Ok();
  if (tail_ && ReadOwn(after, max, out)) return Status::Ok();
  auto acquired = Acquire(after, /*wait=*/true);
  if (!acquired.ok()) return acquired.status();
  Reader& r = **acquired;
  Lease lease(this, &r);
  if (Status s = Seek(r, after); !s.ok()) return s;
  const auto deadline = SteadyClock::now() + kReadWait;
  Status error;
  while (r.buffer.size() < max) {
    int timeout = 0;
    if (r.buffer.empty()) {
      timeout = std::min(MsUntil(deadline), ClampMs(kPollSlice));
      if (timeout <= 0) break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(r.rk.get(), timeout);
    if (!m) {
      if (!r.buffer.empty()) break;
      continue;
    }
    if (Status s = Take(r, m); !s.ok()) {
      error = s;
      break;
    }
  }
  LearnWatermarks(r);
  if (!error.ok() && r.buffer.empty()) return error;  // else: deliver what is good, the error recurs if it lasts
  const std::size_t n = std::min(max, r.buffer.size());
  out->reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    r.cursor.Advance(r.buffer.front().position);
    out->push_back(std::move(r.buffer.front()));
    r.buffer.pop_front();
  }
  return Status::Ok();
}

bool KafkaReaders::ReadOwn(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) {
  const auto until = SteadyClock::now() + kOwnWait;
  for (;;) {
    const std::uint64_t generation = tail_->generation();
    const KafkaOwnTail::Cover cover = tail_->Serve(after, state_.Heads(), max, out);
    if (cover == KafkaOwnTail::Cover::kServed || (cover == KafkaOwnTail::Cover::kPending && !out->empty())) return true;
    out->clear();
    if (cover == KafkaOwnTail::Cover::kFetch || SteadyClock::now() >= until) return false;
    tail_->WaitChange(generation, until);  // our own batch in flight: its delivery report
  }
}

bool KafkaReaders::TakeFetched(const Cursor& after) {
  auto acquired = Acquire(after, /*wait=*/false);
  if (!acquired.ok() || !*acquired) return false;
  Reader& r = **acquired;
  Lease lease(this, &r);
  if (!Seek(r, after).ok() || !r.buffer.empty()) return false;
  // Passes over what is fetched already of the events up to `after` (ours, mostly).
  for (std::uint64_t i = 0; i <= kMaxSkip && r.buffer.empty(); ++i) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(r.rk.get(), 0);
    if (!m || !Take(r, m).ok()) break;
  }
  LearnWatermarks(r);
  return !r.buffer.empty();
}

Cursor KafkaReaders::WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  const std::uint64_t generation = state_.wake_generation();
  for (;;) {
    Cursor heads(partitions_);
    if (state_.Woken(after, generation, &heads) || SteadyClock::now() >= deadline) return heads;
    const int slice = std::min(MsUntil(deadline), ClampMs(kWaitSlice));
    if (tail_) {
      // A writer: its own deliveries move the heads (and wake us); a reader's fetches
      // bring others' events, taken without waiting for them.
      if (!TakeFetched(after)) state_.WaitWoken(after, generation, std::chrono::milliseconds(slice));
      continue;
    }
    auto acquired = Acquire(after, /*wait=*/false);
    bool polled = false;
    if (acquired.ok() && *acquired) {
      Reader& r = **acquired;
      Lease lease(this, &r);
      if (Seek(r, after).ok() && r.buffer.empty()) {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(r.rk.get(), slice)) {
          polled = Take(r, m).ok();
        } else {
          polled = true;
        }
        LearnWatermarks(r);
      }
    }
    if (!polled) state_.WaitWoken(after, generation, std::chrono::milliseconds(slice));  // don't spin
  }
}

}  // namespace authledger::kafka
