#include "ledger/kafka_log.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "ledger/partitioner.h"
#include "ledger/position.h"

namespace authledger {
namespace {

using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kMaxReaders = 4;
constexpr auto kReadWait = 1000ms;          // Read waits this long for a first event
constexpr auto kPollSlice = 100ms;          // one consumer poll inside Read
constexpr auto kWaitSlice = 50ms;           // one consumer poll inside WaitForAppend
constexpr auto kProbeTimeout = 250ms;       // metadata probe while the brokers are down
constexpr auto kResyncQueryTimeout = 1000ms;
constexpr auto kResyncBudget = 1000ms;      // reading done by one Append to re-synchronise
constexpr std::size_t kResyncBatch = 1000;
constexpr int kFlushTimeoutMs = 5000;

constexpr const char* kContentType = "application/cloudevents+json";
// Envelope attributes copied into headers as "ce_<name>"; accountseq (a number) follows.
constexpr const char* kStringAttributes[] = {"specversion", "id",   "source",      "type",
                                             "subject",     "time", "partitionkey"};

int ClampMs(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(d.count(), 0, std::numeric_limits<int>::max()));
}
int MsUntil(SteadyClock::time_point deadline) {
  return ClampMs(std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()));
}

std::string ErrText(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

// The CloudEvents attributes of one envelope, ready to become headers.
struct Attributes {
  std::string account;
  std::uint64_t seq = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // "ce_*" -> value
};

Status ParseEnvelope(std::string_view bytes, Attributes* out) {
  auto j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::InvalidArgument("not a JSON object");
  for (const char* name : kStringAttributes) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string())
      return Status::InvalidArgument(std::string("missing CloudEvents attribute '") + name + "'");
    out->headers.emplace_back(std::string("ce_") + name, it->get<std::string>());
  }
  auto seq = j.find("accountseq");
  if (seq == j.end() || !seq->is_number_unsigned())
    return Status::InvalidArgument("missing CloudEvents attribute 'accountseq'");
  out->seq = seq->get<std::uint64_t>();
  out->account = j["partitionkey"].get<std::string>();
  out->headers.emplace_back("ce_accountseq", std::to_string(out->seq));
  return Status::Ok();
}

bool ParseUnsigned(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

// The account and account sequence of a stored message: its headers, else its value.
bool MessageAccount(const rd_kafka_message_t* m, std::string* account, std::uint64_t* seq) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
    const void* acct = nullptr;
    const void* sq = nullptr;
    std::size_t acct_size = 0, sq_size = 0;
    if (rd_kafka_header_get_last(hdrs, "ce_partitionkey", &acct, &acct_size) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(hdrs, "ce_accountseq", &sq, &sq_size) == RD_KAFKA_RESP_ERR_NO_ERROR && acct &&
        sq && acct_size > 0 &&
        ParseUnsigned(std::string_view(static_cast<const char*>(sq), sq_size), seq)) {
      account->assign(static_cast<const char*>(acct), acct_size);
      return true;
    }
  }
  if (!m->payload) return false;
  const char* p = static_cast<const char*>(m->payload);
  auto j = nlohmann::json::parse(p, p + m->len, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto a = j.find("partitionkey");
  auto s = j.find("accountseq");
  if (a == j.end() || !a->is_string() || s == j.end() || !s->is_number_unsigned()) return false;
  *account = a->get<std::string>();
  *seq = s->get<std::uint64_t>();
  return true;
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

// librdkafka's own log lines go to spdlog (stderr, timestamped like ours), not
// straight to stderr. AUTOCREATE is debug: old brokers (and the mock) cannot be
// told not to auto-create, and we never rely on it (Open checks the topic).
void LogToSpdlog(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  const std::string_view fac(facility ? facility : "");
  // librdkafka logs every refused connection at level 3; what matters reaches
  // the caller as a Status, so its errors are warnings here.
  spdlog::level::level_enum l = level <= 2 ? spdlog::level::err
                                : level <= 4 ? spdlog::level::warn
                                : level <= 6 ? spdlog::level::info
                                             : spdlog::level::debug;
  if (fac == "AUTOCREATE") l = spdlog::level::debug;
  spdlog::log(l, "kafka {} {}: {}", rd_kafka_name(rk), fac, line ? line : "");
}

Result<ConfPtr> NewConf(const std::vector<std::pair<std::string, std::string>>& base,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  ConfPtr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &LogToSpdlog);
  char errstr[512];
  for (const auto* list : {&base, &extra}) {
    for (const auto& [k, v] : *list) {
      if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        // The value is left out: it may be a credential (sasl.password, ssl.key.password).
        return Status::InvalidArgument("kafka ledger: property " + k + ": " + errstr);
    }
  }
  return conf;
}

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

struct KafkaLog::Impl {
  struct AccountState {
    std::uint64_t seq = 0;
    bool in_flight = false;  // an Append of this account is waiting for its reports
  };
  struct PartitionState {
    std::shared_mutex append_mu;  // normal Appends shared, expected_head Appends exclusive
    std::mutex resync_mu;
    // Guarded by state_mu:
    std::uint64_t low = 0;           // events 1..low are gone (Kafka low watermark)
    std::uint64_t target = 0;        // account seqs are complete once read_through reaches it
    std::uint64_t read_through = 0;  // every event up to here is reflected in accounts
    bool needs_query = false;        // a failed delivery may have been persisted
    // Only the poll thread (OnDelivery) touches these: the offset our next
    // delivered message must get if nobody else writes to this partition.
    std::int64_t own_next = -1;      // -1: not known (start, or after a failed delivery)
  };
  struct Reader {
    rd_kafka_t* rk = nullptr;
    bool busy = false;
    bool positioned = false;
    Cursor cursor;   // what callers have been given
    Cursor fetched;  // cursor + buffer: where the consumer stands
    std::deque<StoredEvent> buffer;
    std::uint64_t last_used = 0;
  };
  class Lease {  // a Reader taken from the pool
   public:
    Lease(Impl* impl, Reader* r) : impl_(impl), r_(r) {}
    ~Lease() {
      if (r_) impl_->Release(r_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Reader* get() const { return r_; }

   private:
    Impl* impl_;
    Reader* r_;
  };

  KafkaLogOptions opts;
  std::uint32_t partitions = 0;

  rd_kafka_t* producer = nullptr;
  rd_kafka_topic_t* producer_topic = nullptr;
  std::thread poll_thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> brokers_down{false};
  std::atomic<bool> purge_queued{false};  // all brokers down: fail the waiting Appends now
  std::atomic<bool> fatal{false};
  // Another producer appended to a partition between two of our deliveries: we
  // are not the only writer (decisions.md 30), so this log appends no more.
  std::atomic<bool> foreign_writer{false};
  std::mutex error_mu;
  std::string last_error;  // the producer's most recent client error, for messages

  std::unique_ptr<PartitionState[]> parts;

  mutable std::mutex state_mu;
  std::condition_variable state_cv;  // heads advanced, or WakeAll
  Cursor heads;
  std::unordered_map<std::string, AccountState> accounts;
  std::uint64_t wake_generation = 0;

  std::mutex pool_mu;
  std::condition_variable pool_cv;
  std::vector<std::unique_ptr<Reader>> readers;
  std::uint64_t use_clock = 0;

  ~Impl() {
    if (producer) {
      rd_kafka_flush(producer, kFlushTimeoutMs);
      stop = true;
      if (poll_thread.joinable()) poll_thread.join();
      if (producer_topic) rd_kafka_topic_destroy(producer_topic);
      rd_kafka_destroy(producer);
    }
    for (auto& r : readers) {
      rd_kafka_consumer_close(r->rk);
      rd_kafka_destroy(r->rk);
    }
  }

  // ---- clients ----

  std::vector<std::pair<std::string, std::string>> CommonConf() const {
    return {{"bootstrap.servers", opts.brokers},
            {"allow.auto.create.topics", "false"},
            {"reconnect.backoff.max.ms", "1000"}};
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* d = static_cast<Delivery*>(m->_private);
    if (!d) return;
    static_cast<Impl*>(opaque)->CheckOwnOffsets(m);
    Completion* c = d->completion;
    std::lock_guard<std::mutex> l(c->mu);
    d->err = m->err;
    d->offset = m->offset;
    d->status = rd_kafka_message_status(m);
    ++c->reported;
    c->cv.notify_all();  // under the lock: the Append may free *c as soon as it sees the count
  }

  // Delivery reports of one partition arrive in offset order. If ours are not
  // contiguous, another producer wrote in between: stop appending.
  void CheckOwnOffsets(const rd_kafka_message_t* m) {
    if (m->partition < 0 || static_cast<std::uint32_t>(m->partition) >= partitions) return;
    PartitionState& ps = parts[m->partition];
    if (m->err || m->offset < 0) {
      ps.own_next = -1;  // what happened to it is unknown: re-learn from the next success
      return;
    }
    if (ps.own_next >= 0 && m->offset != ps.own_next && !foreign_writer.exchange(true))
      spdlog::error("kafka ledger: {} partition {}: our message landed at offset {}, not {}: another producer is "
                    "appending to this topic; this writer stops appending (one writer per topic)",
                    opts.topic, m->partition, m->offset, ps.own_next);
    ps.own_next = m->offset + 1;
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto code = static_cast<rd_kafka_resp_err_t>(err);
    std::string text = std::string(rd_kafka_err2name(code)) + ": " + (reason ? reason : "");
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
      text = "fatal " + std::string(rd_kafka_err2name(orig)) + ": " + buf;
      self->fatal = true;
    }
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT)
      self->brokers_down = true;
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->purge_queued = true;
    std::lock_guard<std::mutex> l(self->error_mu);
    self->last_error = std::move(text);
  }

  std::string LastError() {
    std::lock_guard<std::mutex> l(error_mu);
    return last_error.empty() ? "no answer" : last_error;
  }

  Status StartProducer() {
    auto base = CommonConf();
    base.insert(base.end(), {{"client.id", "authledger-ledger"},
                             {"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"linger.ms", "2"},
                             // One request in flight per broker: a retried request can never be
                             // overtaken by the next one, even by a broker that checks idempotent
                             // sequences loosely (librdkafka's mock stored a later record and then
                             // dropped the retried earlier one as a duplicate). Appends are
                             // latency-bound anyway (docs/performance.md).
                             {"max.in.flight.requests.per.connection", "1"},
                             {"message.timeout.ms", std::to_string(opts.delivery_timeout.count())},
                             {"request.timeout.ms", std::to_string(opts.delivery_timeout.count())}});
    auto conf = NewConf(base, opts.extra);
    if (!conf.ok()) return conf.status();
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &Impl::OnDelivery);
    rd_kafka_conf_set_error_cb(conf->get(), &Impl::OnError);
    rd_kafka_conf_set_opaque(conf->get(), this);
    char errstr[512];
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr, sizeof errstr);
    if (!producer) return Status::InvalidArgument(std::string("kafka ledger: cannot create the producer: ") + errstr);
    conf->release();  // owned by the producer now
    producer_topic = rd_kafka_topic_new(producer, opts.topic.c_str(), nullptr);
    if (!producer_topic) return Status::Internal("kafka ledger: " + ErrText(rd_kafka_last_error()));
    poll_thread = std::thread([this] {
      while (!stop.load()) {
        rd_kafka_poll(producer, 100);
        // Messages still queued while no broker is reachable fail now (not persisted)
        // instead of at message.timeout.ms: Append fails fast.
        if (purge_queued.exchange(false) && brokers_down.load()) rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE);
      }
    });
    return Status::Ok();
  }

  Result<std::unique_ptr<Reader>> NewReader() {
    auto base = CommonConf();
    base.insert(base.end(), {{"client.id", "authledger-reader"},
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
                             {"queued.max.messages.kbytes", "32768"}});
    auto conf = NewConf(base, opts.extra);
    if (!conf.ok()) return conf.status();
    char errstr[512];
    auto r = std::make_unique<Reader>();
    r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), errstr, sizeof errstr);
    if (!r->rk) return Status::InvalidArgument(std::string("kafka ledger: cannot create a consumer: ") + errstr);
    conf->release();
    rd_kafka_poll_set_consumer(r->rk);  // client errors arrive through rd_kafka_consumer_poll
    return r;
  }

  // ---- Open ----

  Status Start() {
    const auto deadline = SteadyClock::now() + opts.open_timeout;
    rd_kafka_t* meta = nullptr;
    if (opts.producer) {
      if (Status s = StartProducer(); !s.ok()) return s;
      meta = producer;
    } else {
      auto r = NewReader();
      if (!r.ok()) return r.status();
      meta = (*r)->rk;
      readers.push_back(std::move(*r));
    }
    rd_kafka_topic_t* rkt = opts.producer ? producer_topic : rd_kafka_topic_new(meta, opts.topic.c_str(), nullptr);
    if (!rkt) return Status::Internal("kafka ledger: " + ErrText(rd_kafka_last_error()));
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(meta, 0, rkt, &md, MsUntil(deadline));
    if (!opts.producer) rd_kafka_topic_destroy(rkt);
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> hold(md, &rd_kafka_metadata_destroy);
    if (err) {
      return Status::Unavailable("kafka ledger: no broker of '" + opts.brokers + "' answered within " +
                                 std::to_string(opts.open_timeout.count()) + " ms (" + ErrText(err) + ")");
    }
    const rd_kafka_metadata_topic_t* t = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (opts.topic == md->topics[i].topic) t = &md->topics[i];
    std::string create_hint = "create it: kafka-topics.sh --bootstrap-server " + opts.brokers + " --create --topic " +
                              opts.topic + " --partitions " +
                              (opts.partitions ? std::to_string(opts.partitions) : std::string("N")) +
                              " --replication-factor 3 --config min.insync.replicas=2 --config retention.ms=-1";
    if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (t->err == 0 && t->partition_cnt == 0))
      return Status::NotFound("kafka ledger: topic '" + opts.topic + "' does not exist on " + opts.brokers +
                              "; " + create_hint);
    if (t->err)
      return Status::Unavailable("kafka ledger: topic '" + opts.topic + "': " + ErrText(t->err));
    const auto count = static_cast<std::uint32_t>(t->partition_cnt);
    if (count > kMaxPartitions)
      return Status::InvalidArgument("kafka ledger: topic '" + opts.topic + "' has " + std::to_string(count) +
                                     " partitions; at most " + std::to_string(kMaxPartitions) + " are supported");
    if (opts.partitions != 0 && opts.partitions != count)
      return Status::InvalidArgument("kafka ledger: topic '" + opts.topic + "' has " + std::to_string(count) +
                                     " partitions, configured " + std::to_string(opts.partitions));
    partitions = count;
    heads = Cursor(partitions);
    parts = std::make_unique<PartitionState[]>(partitions);
    for (std::uint32_t p = 0; p < partitions; ++p) {
      std::int64_t lo = 0, hi = 0;
      err = rd_kafka_query_watermark_offsets(meta, opts.topic.c_str(), static_cast<std::int32_t>(p), &lo, &hi,
                                             MsUntil(deadline));
      if (err)
        return Status::Unavailable("kafka ledger: cannot read the end of " + opts.topic + " partition " +
                                   std::to_string(p) + " on " + opts.brokers + " within " +
                                   std::to_string(opts.open_timeout.count()) + " ms (" + ErrText(err) + ")");
      lo = std::max<std::int64_t>(lo, 0);
      hi = std::max<std::int64_t>(hi, 0);
      parts[p].low = static_cast<std::uint64_t>(lo);
      parts[p].target = static_cast<std::uint64_t>(hi);  // read this far before deciding on sequences
      heads.Advance(MakePosition(p, static_cast<std::uint64_t>(hi)));
    }
    for (auto& r : readers) r->cursor = r->fetched = Cursor(partitions);
    return Status::Ok();
  }

  // ---- knowledge ----

  // Records an event at `offset` of partition p (seq 0: account unknown). Caller holds state_mu.
  void LearnLocked(std::uint32_t p, std::uint64_t offset, const std::string* account, std::uint64_t seq) {
    if (offset > heads.offset(p)) heads.Advance(MakePosition(p, offset));
    if (account && seq) {
      auto& a = accounts[*account];
      a.seq = std::max(a.seq, seq);
    }
    auto& ps = parts[p];
    if (offset > ps.read_through && offset - 1 <= ps.read_through) ps.read_through = offset;
  }

  void LearnHead(std::uint32_t p, std::uint64_t head, std::uint64_t low) {
    std::lock_guard<std::mutex> l(state_mu);
    if (low > parts[p].low) parts[p].low = low;
    if (head > heads.offset(p)) {
      heads.Advance(MakePosition(p, head));
      state_cv.notify_all();
    }
  }

  static bool Beyond(const Cursor& heads, const Cursor& after) {
    if (heads.partitions() != after.partitions()) return false;
    for (std::uint32_t p = 0; p < heads.partitions(); ++p)
      if (heads.offset(p) > after.offset(p)) return true;
    return false;
  }

  // ---- readers ----

  // A reader, preferably one already at `at`; nullptr if none is free and !wait.
  Result<Reader*> Acquire(const Cursor& at, bool wait) {
    std::unique_lock<std::mutex> l(pool_mu);
    for (;;) {
      Reader* pick = nullptr;
      for (auto& r : readers)
        if (!r->busy && r->positioned && r->cursor == at) pick = r.get();
      if (!pick && readers.size() < kMaxReaders) {
        auto r = NewReader();
        if (!r.ok()) return r.status();
        (*r)->cursor = (*r)->fetched = Cursor(partitions);
        readers.push_back(std::move(*r));
        pick = readers.back().get();
      }
      if (!pick) {
        for (auto& r : readers) {
          if (r->busy) continue;
          if (!pick || (pick->positioned && (!r->positioned || r->last_used < pick->last_used))) pick = r.get();
        }
      }
      if (pick) {
        pick->busy = true;
        return pick;
      }
      if (!wait) return static_cast<Reader*>(nullptr);
      pool_cv.wait(l);
    }
  }

  void Release(Reader* r) {
    std::lock_guard<std::mutex> l(pool_mu);
    r->busy = false;
    r->last_used = ++use_clock;
    pool_cv.notify_one();
  }

  Status Seek(Reader& r, const Cursor& at) {
    if (r.positioned && r.cursor == at) return Status::Ok();
    r.buffer.clear();
    r.positioned = false;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions));
    for (std::uint32_t p = 0; p < partitions; ++p)
      rd_kafka_topic_partition_list_add(list, opts.topic.c_str(), static_cast<std::int32_t>(p))->offset =
          static_cast<std::int64_t>(at.offset(p));
    rd_kafka_resp_err_t err = rd_kafka_assign(r.rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err) return Status::Unavailable("kafka ledger: cannot assign " + opts.topic + ": " + ErrText(err));
    r.cursor = r.fetched = at;
    r.positioned = true;
    return Status::Ok();
  }

  Status ConsumerError(const Reader& r, const rd_kafka_message_t* m) const {
    std::string where = m->rkt ? opts.topic + " partition " + std::to_string(m->partition) : opts.topic;
    std::string reason = rd_kafka_message_errstr(m);
    switch (m->err) {
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: {
        std::string at = m->partition >= 0 && static_cast<std::uint32_t>(m->partition) < partitions
                             ? " after offset " + std::to_string(r.fetched.offset(static_cast<std::uint32_t>(m->partition)))
                             : "";
        return Status::Corruption("kafka ledger: " + where + ": cannot read" + at +
                                  ": out of range (" + reason +
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
      default:
        return Status::Unavailable("kafka ledger: " + where + ": " + rd_kafka_err2name(m->err) + ": " + reason);
    }
  }

  // Takes one polled message (destroying it) into r's buffer after checking that it is
  // exactly the next event of its partition.
  Status Take(Reader& r, rd_kafka_message_t* raw) {
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> m(raw);
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return Status::Ok();
      // The group is never joined (assign only): its coordinator's troubles don't matter.
      if (!m->rkt && (m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
                      m->err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
                      m->err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                      m->err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS))
        return Status::Ok();
      Status s = ConsumerError(r, m.get());
      if (m->rkt) {  // a partition's fetch stopped: position again next time
        r.positioned = false;
        r.buffer.clear();
      }
      return s;
    }
    if (m->partition < 0 || static_cast<std::uint32_t>(m->partition) >= partitions || m->offset < 0) {
      r.positioned = false;
      r.buffer.clear();
      return Status::Corruption("kafka ledger: unexpected message from " + opts.topic + " partition " +
                                std::to_string(m->partition) + " offset " + std::to_string(m->offset));
    }
    const auto p = static_cast<std::uint32_t>(m->partition);
    const auto kafka_offset = static_cast<std::uint64_t>(m->offset);
    const std::uint64_t expected = r.fetched.offset(p);  // our offset of the last one == Kafka's next
    if (kafka_offset < expected) return Status::Ok();    // left over from an earlier position
    if (kafka_offset > expected) {
      r.positioned = false;
      r.buffer.clear();
      return Status::Corruption("kafka ledger: " + opts.topic + " partition " + std::to_string(p) +
                                ": after event " + PositionToString(MakePosition(p, expected)) + " comes " +
                                PositionToString(MakePosition(p, kafka_offset + 1)) +
                                ": events are missing (retention or compaction?); refusing to skip them");
    }
    const Position pos = MakePosition(p, kafka_offset + 1);
    std::string account;
    std::uint64_t seq = 0;
    bool known = MessageAccount(m.get(), &account, &seq);
    r.buffer.push_back(StoredEvent{
        pos, m->payload ? std::string(static_cast<const char*>(m->payload), m->len) : std::string()});
    r.fetched.Advance(pos);
    std::lock_guard<std::mutex> l(state_mu);
    LearnLocked(p, kafka_offset + 1, known ? &account : nullptr, known ? seq : 0);
    state_cv.notify_all();
    return Status::Ok();
  }

  // Heads learnt from the watermarks the reader's fetches brought back (no network).
  void LearnWatermarks(Reader& r) {
    for (std::uint32_t p = 0; p < partitions; ++p) {
      std::int64_t lo = -1, hi = -1;
      if (rd_kafka_get_watermark_offsets(r.rk, opts.topic.c_str(), static_cast<std::int32_t>(p), &lo, &hi) !=
          RD_KAFKA_RESP_ERR_NO_ERROR)
        continue;
      if (hi > 0) LearnHead(p, static_cast<std::uint64_t>(hi), lo > 0 ? static_cast<std::uint64_t>(lo) : 0);
    }
  }

  Status Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) {
    out->clear();
    if (after.partitions() != partitions)
      return Status::InvalidArgument("kafka ledger: cursor of " + std::to_string(after.partitions()) +
                                     " partitions for a ledger of " + std::to_string(partitions));
    if (max == 0) return Status::Ok();
    bool beyond = false;
    {
      std::lock_guard<std::mutex> l(state_mu);
      for (std::uint32_t p = 0; p < partitions; ++p) {
        if (after.offset(p) < parts[p].low)
          return Status::Corruption("kafka ledger: " + opts.topic + " partition " + std::to_string(p) +
                                    " starts after event " + PositionToString(MakePosition(p, parts[p].low)) +
                                    " (deleted by retention; the ledger topic needs retention.ms=-1): cannot read after " +
                                    PositionToString(after.at(p)));
        if (after.offset(p) > heads.offset(p))
          return Status::Corruption("kafka ledger: cursor " + PositionToString(after.at(p)) + " is beyond the end of " +
                                    opts.topic + " partition " + std::to_string(p) + " (last event " +
                                    PositionToString(heads.at(p)) + "): events were lost or this is another topic");
        if (after.offset(p) < heads.offset(p)) beyond = true;
      }
    }
    if (!beyond) return Status::Ok();
    auto acquired = Acquire(after, /*wait=*/true);
    if (!acquired.ok()) return acquired.status();
    Lease lease(this, *acquired);
    Reader& r = **acquired;
    if (Status s = Seek(r, after); !s.ok()) return s;
    const auto deadline = SteadyClock::now() + kReadWait;
    Status error;
    while (r.buffer.size() < max) {
      int timeout = 0;
      if (r.buffer.empty()) {
        timeout = std::min(MsUntil(deadline), ClampMs(kPollSlice));
        if (timeout <= 0) break;
      }
      rd_kafka_message_t* m = rd_kafka_consumer_poll(r.rk, timeout);
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

  Cursor WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    std::uint64_t generation;
    {
      std::lock_guard<std::mutex> l(state_mu);
      generation = wake_generation;
    }
    for (;;) {
      {
        std::lock_guard<std::mutex> l(state_mu);
        if (Beyond(heads, after) || wake_generation != generation || SteadyClock::now() >= deadline ||
            after.partitions() != partitions)
          return heads;
      }
      const int slice = std::min(MsUntil(deadline), ClampMs(kWaitSlice));
      auto acquired = Acquire(after, /*wait=*/false);
      bool polled = false;
      if (acquired.ok() && *acquired) {
        Lease lease(this, *acquired);
        Reader& r = **acquired;
        if (Seek(r, after).ok() && r.buffer.empty()) {
          if (rd_kafka_message_t* m = rd_kafka_consumer_poll(r.rk, slice)) {
            polled = Take(r, m).ok();
          } else {
            polled = true;
          }
          LearnWatermarks(r);
        }
      }
      if (!polled) {  // no reader free, or an error: don't spin
        std::unique_lock<std::mutex> l(state_mu);
        state_cv.wait_for(l, std::chrono::milliseconds(slice),
                          [&] { return wake_generation != generation || Beyond(heads, after); });
      }
    }
  }

  void WakeAll() {
    std::lock_guard<std::mutex> l(state_mu);
    ++wake_generation;
    state_cv.notify_all();
  }

  // ---- Append ----

  Status ProbeIfDown() {
    if (!brokers_down.load()) return Status::Ok();
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(producer, 0, producer_topic, &md, ClampMs(kProbeTimeout));
    if (md) rd_kafka_metadata_destroy(md);
    if (err)
      return Status::Unavailable("kafka ledger: brokers " + opts.brokers + " unreachable (" + LastError() +
                                 "); retry");
    brokers_down = false;
    return Status::Ok();
  }

  // Makes sure the account sequences of partition p are complete: reads it up to the
  // watermark recorded at Open or after a delivery that may have been persisted.
  Status Resync(std::uint32_t p) {
    PartitionState& ps = parts[p];
    {
      std::lock_guard<std::mutex> l(state_mu);
      if (!ps.needs_query && ps.read_through >= ps.target) return Status::Ok();
    }
    std::lock_guard<std::mutex> serial(ps.resync_mu);
    bool query;
    {
      std::lock_guard<std::mutex> l(state_mu);
      query = ps.needs_query;
      if (!query && ps.read_through >= ps.target) return Status::Ok();
    }
    const std::string where = opts.topic + " partition " + std::to_string(p);
    if (query) {
      std::int64_t lo = 0, hi = 0;
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(producer, opts.topic.c_str(),
                                                                 static_cast<std::int32_t>(p), &lo, &hi,
                                                                 ClampMs(kResyncQueryTimeout));
      if (err)
        return Status::Unavailable("kafka ledger: ledger is re-synchronising (" + where + ": " + ErrText(err) +
                                   "); retry");
      std::lock_guard<std::mutex> l(state_mu);
      ps.target = std::max(ps.target, static_cast<std::uint64_t>(std::max<std::int64_t>(hi, 0)));
      if (ps.target > heads.offset(p)) heads.Advance(MakePosition(p, ps.target));
      ps.needs_query = false;
    }
    const auto deadline = SteadyClock::now() + kResyncBudget;
    std::vector<StoredEvent> scratch;
    for (;;) {
      Cursor from(partitions);
      std::uint64_t through, target;
      {
        std::lock_guard<std::mutex> l(state_mu);
        through = ps.read_through;
        target = ps.target;
        from = heads;
      }
      if (through >= target) return Status::Ok();
      if (SteadyClock::now() >= deadline)
        return Status::Unavailable("kafka ledger: ledger is re-synchronising (" + where + ": read " +
                                   std::to_string(through) + " of " + std::to_string(target) + " events); retry");
      from.Advance(MakePosition(p, through));
      if (Status s = Read(from, kResyncBatch, &scratch); !s.ok()) return s;
    }
  }

  Result<Position> Append(AppendBatch batch) {
    if (!producer)
      return Status::FailedPrecondition("kafka ledger: opened read-only (producer=false); cannot append");
    if (batch.account_id.empty()) return Status::InvalidArgument("kafka ledger: batch without account id");
    if (batch.events.empty()) return Status::InvalidArgument("kafka ledger: empty batch");
    const std::string& account = batch.account_id;
    std::vector<Attributes> attrs(batch.events.size());
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      Status s = ParseEnvelope(batch.events[i], &attrs[i]);
      if (!s.ok()) return Status::InvalidArgument("kafka ledger: event " + std::to_string(i) + " of the batch: " + s.message());
      if (attrs[i].account != account)
        return Status::InvalidArgument("kafka ledger: event " + std::to_string(i) + " has partitionkey '" +
                                       attrs[i].account + "' in a batch of account '" + account + "'");
      if (attrs[i].seq != batch.expected_seq + i + 1)
        return Status::InvalidArgument("kafka ledger: event " + std::to_string(i) + " has accountseq " +
                                       std::to_string(attrs[i].seq) + ", expected " +
                                       std::to_string(batch.expected_seq + i + 1));
    }
    const std::uint32_t p = PartitionFor(account, partitions);
    if (batch.expected_head && PartitionOf(*batch.expected_head) != p)
      return Status::InvalidArgument("kafka ledger: expected head " + PositionToString(*batch.expected_head) +
                                     " is not in partition " + std::to_string(p) + " of account " + account);
    if (fatal.load())
      return Status::Unavailable("kafka ledger: the producer failed (" + LastError() + "); reopen the ledger");
    if (foreign_writer.load())
      return Status::Unavailable("kafka ledger: another producer appended to " + opts.topic +
                                 " while this writer was appending; it appends no more (one writer per topic): "
                                 "stop the other writer, then restart this one");
    if (Status s = ProbeIfDown(); !s.ok()) return s;

    PartitionState& ps = parts[p];
    std::shared_lock<std::shared_mutex> shared(ps.append_mu, std::defer_lock);
    std::unique_lock<std::shared_mutex> exclusive(ps.append_mu, std::defer_lock);
    if (batch.expected_head) exclusive.lock();
    else shared.lock();
    if (Status s = Resync(p); !s.ok()) return s;
    {
      std::lock_guard<std::mutex> l(state_mu);
      AccountState& a = accounts[account];
      if (a.in_flight) return Status::Conflict("kafka ledger: another append of account " + account + " is in flight");
      if (a.seq != batch.expected_seq)
        return Status::Conflict("kafka ledger: account " + account + " is at sequence " + std::to_string(a.seq) +
                                ", the batch expects " + std::to_string(batch.expected_seq));
      if (batch.expected_head && heads.at(p) != *batch.expected_head)
        return Status::Conflict("kafka ledger: partition " + std::to_string(p) + " ends at " +
                                PositionToString(heads.at(p)) + ", the batch expects " +
                                PositionToString(*batch.expected_head));
      a.in_flight = true;
    }

    Completion done(batch.events.size());
    std::size_t produced = 0;
    rd_kafka_resp_err_t produce_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      rd_kafka_headers_t* hdrs = rd_kafka_headers_new(attrs[i].headers.size() + 1);
      rd_kafka_header_add(hdrs, "content-type", -1, kContentType, -1);
      for (const auto& [name, value] : attrs[i].headers)
        rd_kafka_header_add(hdrs, name.c_str(), -1, value.data(), static_cast<ssize_t>(value.size()));
      std::string& value = batch.events[i];
      produce_err = rd_kafka_producev(producer, RD_KAFKA_V_RKT(producer_topic),
                                      RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(p)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_KEY(account.data(), account.size()),
                                      RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_HEADERS(hdrs),
                                      RD_KAFKA_V_OPAQUE(&done.messages[i]), RD_KAFKA_V_END);
      if (produce_err) {
        rd_kafka_headers_destroy(hdrs);  // not taken over on failure
        break;
      }
      ++produced;
    }
    {
      std::unique_lock<std::mutex> l(done.mu);
      done.cv.wait(l, [&] { return done.reported == produced; });
    }

    rd_kafka_resp_err_t first_err = produce_err;
    bool maybe_persisted = false;
    std::size_t delivered = 0;
    std::int64_t first_offset = -1, last_offset = -1;
    for (std::size_t i = 0; i < produced; ++i) {
      const Delivery& d = done.messages[i];
      if (d.err) {
        if (!first_err) first_err = d.err;
        if (d.status != RD_KAFKA_MSG_STATUS_NOT_PERSISTED) maybe_persisted = true;
        continue;
      }
      ++delivered;
      if (first_offset < 0) first_offset = d.offset;
      last_offset = d.offset;
    }
    {
      std::lock_guard<std::mutex> l(state_mu);
      AccountState& a = accounts[account];
      a.in_flight = false;
      for (std::size_t i = 0; i < produced; ++i) {
        const Delivery& d = done.messages[i];
        if (d.err || d.offset < 0) continue;
        if (static_cast<std::uint64_t>(d.offset) + 1 > heads.offset(p))
          heads.Advance(MakePosition(p, static_cast<std::uint64_t>(d.offset) + 1));
        a.seq = std::max(a.seq, batch.expected_seq + i + 1);
      }
      // Our own contiguous batch right after what is known extends the known range.
      if (delivered == produced && produced > 0 &&
          static_cast<std::uint64_t>(last_offset - first_offset) + 1 == produced &&
          static_cast<std::uint64_t>(first_offset) <= ps.read_through)
        ps.read_through = std::max(ps.read_through, static_cast<std::uint64_t>(last_offset) + 1);
      if (maybe_persisted) ps.needs_query = true;
      if (delivered > 0) state_cv.notify_all();
    }
    if (delivered > 0) brokers_down = false;
    if (first_err || delivered != batch.events.size()) {
      return Status::Unavailable("kafka ledger: " + std::string(rd_kafka_err2name(first_err)) + ": " +
                                 rd_kafka_err2str(first_err) + " (account " + account + ", " + opts.topic +
                                 " partition " + std::to_string(p) + ", " + std::to_string(delivered) + " of " +
                                 std::to_string(batch.events.size()) + " events delivered" +
                                 // part of a batch is stored: for the caller that is "possibly persisted" too
                                 (maybe_persisted || delivered > 0 ? ", " + std::string(kPossiblyPersisted) : std::string()) + ")");
    }
    return MakePosition(p, static_cast<std::uint64_t>(last_offset) + 1);
  }
};

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
  if (Status s = impl->Start(); !s.ok()) return s;
  return std::unique_ptr<KafkaLog>(new KafkaLog(std::move(impl)));
}

std::uint32_t KafkaLog::Partitions() const { return impl_->partitions; }
Result<Position> KafkaLog::Append(AppendBatch batch) { return impl_->Append(std::move(batch)); }
Status KafkaLog::Read(const Cursor& after, std::size_t max, std::vector<StoredEvent>* out) {
  return impl_->Read(after, max, out);
}
Cursor KafkaLog::Heads() const {
  std::lock_guard<std::mutex> l(impl_->state_mu);
  return impl_->heads;
}
std::uint64_t KafkaLog::AccountSeq(const std::string& account_id) const {
  std::lock_guard<std::mutex> l(impl_->state_mu);
  auto it = impl_->accounts.find(account_id);
  return it == impl_->accounts.end() ? 0 : it->second.seq;
}
Cursor KafkaLog::WaitForAppend(const Cursor& after, std::chrono::milliseconds timeout) {
  return impl_->WaitForAppend(after, timeout);
}
void KafkaLog::WakeAll() { impl_->WakeAll(); }
const KafkaLogOptions& KafkaLog::options() const { return impl_->opts; }

}  // namespace authledger
