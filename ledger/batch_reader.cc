#include "ledger/batch_reader.h"

#include <algorithm>
#include <system_error>

namespace authledger {

Status DecodedBatch::Read(EventLog& log, const Cursor& from, std::size_t max, const Cursor* limit, bool decode) {
  decoded.clear();
  hashes.clear();
  Status s = log.Read(from, max, &events);
  if (!s.ok()) return s;
  if (limit) std::erase_if(events, [&](const StoredEvent& e) { return !limit->Covers(e.position); });
  if (!decode) return s;
  decoded.reserve(events.size());
  hashes.reserve(events.size());
  for (const StoredEvent& e : events) {
    decoded.push_back(DecodeEvent(e.bytes));
    hashes.push_back(EventHash(e.bytes));
  }
  return s;
}

BatchReader::BatchReader(EventLog& log, const Cursor& from, const Cursor& limit, std::size_t batch_events, bool decode)
    : log_(log),
      heads_(log.Heads()),
      target_(log.Partitions()),
      at_(from),
      batch_events_(batch_events),
      decode_(decode) {
  for (std::uint32_t p = 0; p < target_.partitions() && p < limit.partitions(); ++p)
    target_.Advance(MakePosition(p, std::min(limit.offset(p), heads_.offset(p))));
  if (!done()) Prefetch();
}

BatchReader::~BatchReader() {
  if (next_.valid()) next_.wait();
}

void BatchReader::Prefetch(DecodedBatch reuse) {
  Cursor from = at_;
  std::uint64_t wanted = 0;
  for (std::uint32_t p = 0; p < target_.partitions(); ++p) {
    if (at_.offset(p) >= target_.offset(p)) from.Advance(heads_.at(p));
    else wanted += target_.offset(p) - at_.offset(p);
  }
  const std::size_t max = static_cast<std::size_t>(std::min<std::uint64_t>(batch_events_, wanted));
  // The batch to reuse is cleared there too: freeing its events is work of that thread.
  spare_ = std::move(reuse);
  auto read = [this, from, max] {
    std::pair<Status, DecodedBatch> r{Status::Ok(), std::move(spare_)};
    r.first = r.second.Read(log_, from, max, &target_, decode_);
    return r;
  };
  try {
    next_ = std::async(std::launch::async, read);
  } catch (const std::system_error&) {
    next_ = std::async(std::launch::deferred, read);  // no thread to be had: read when asked, on the caller's
  }
}

Status BatchReader::Next(DecodedBatch* out) {
  if (!failed_.ok()) return failed_;
  if (done()) return failed_ = Status::FailedPrecondition("the reader is already at its limit " + target_.ToString());
  for (int idle_reads = 0;;) {
    auto [s, batch] = next_.get();
    if (!s.ok()) return failed_ = s;
    if (!batch.events.empty()) {
      for (const StoredEvent& e : batch.events) at_.Advance(e.position);
      DecodedBatch used = std::move(*out);  // the caller is done with it: its buffers are reused
      *out = std::move(batch);
      if (!done()) Prefetch(std::move(used));
      return Status::Ok();
    }
    if (++idle_reads > kMaxIdleReads)
      return failed_ = Status::Unavailable("the ledger stopped returning events at " + at_.ToString() + " before " +
                                           target_.ToString());
    Prefetch(std::move(batch));
  }
}

}  // namespace authledger
