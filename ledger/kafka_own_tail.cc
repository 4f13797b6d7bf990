#include "ledger/kafka_own_tail.h"

#include <algorithm>
#include <utility>

namespace authledger::kafka {

KafkaOwnTail::KafkaOwnTail(KafkaTopicState& state, std::size_t max_bytes)
    : state_(state),
      partitions_(state.partitions()),
      max_part_bytes_(max_bytes / std::max<std::uint32_t>(1, state.partitions())),
      parts_(std::make_unique<Part[]>(state.partitions())) {}

void KafkaOwnTail::Expect(std::uint32_t p) {
  std::lock_guard<std::mutex> l(mu_);
  ++parts_[p].pending;
}

void KafkaOwnTail::Complete(std::uint32_t p, std::int64_t first_offset, std::vector<Event> events) {
  {
    std::lock_guard<std::mutex> l(mu_);
    Part& t = parts_[p];
    if (t.pending > 0) --t.pending;
    if (!events.empty() && first_offset >= 0) {
      const auto first = static_cast<std::uint64_t>(first_offset) + 1;  // the ledger's offset
      if (t.events.empty() || t.base + t.events.size() + 1 != first) {
        t.events.clear();
        t.bytes = 0;
        t.base = first - 1;
      }
      const std::size_t keep = events.size();
      for (Event& e : events) {
        t.bytes += e.bytes.size();
        t.events.push_back(std::move(e));
      }
      while (t.bytes > max_part_bytes_ && t.events.size() > keep) {
        t.bytes -= t.events.front().bytes.size();
        t.events.pop_front();
        ++t.base;
      }
    }
    ++generation_;
  }
  cv_.notify_all();
}

KafkaOwnTail::Cover KafkaOwnTail::Serve(const Cursor& after, const Cursor& heads, std::size_t max,
                                        std::vector<StoredEvent>* out) {
  std::lock_guard<std::mutex> l(mu_);
  Cover cover = Cover::kServed;
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    const std::uint64_t from = after.offset(p), head = heads.offset(p);
    if (from >= head) continue;
    const Part& t = parts_[p];
    const std::uint64_t end = t.base + t.events.size();
    if (!t.events.empty() && t.base <= from && from < end) {
      for (std::uint64_t o = from + 1; o <= std::min(head, end) && out->size() < max; ++o) {
        const Event& e = t.events[o - t.base - 1];
        out->push_back(StoredEvent{MakePosition(p, o), e.bytes});
        state_.LearnEvent(p, o, &e.account, e.seq);
      }
      continue;
    }
    if (t.pending > 0 && (t.events.empty() || from == end)) {
      if (cover == Cover::kServed) cover = Cover::kPending;
      continue;
    }
    cover = Cover::kFetch;
  }
  return cover;
}

std::uint64_t KafkaOwnTail::generation() const {
  std::lock_guard<std::mutex> l(mu_);
  return generation_;
}

void KafkaOwnTail::WaitChange(std::uint64_t generation, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_until(l, deadline, [&] { return generation_ != generation; });
}

}  // namespace authledger::kafka
