#include "ledger/kafka_topic_state.h"

#include <algorithm>
#include <utility>

namespace authledger::kafka {

KafkaTopicState::KafkaTopicState(std::string topic, std::uint32_t partitions)
    : topic_(std::move(topic)),
      partitions_(partitions),
      heads_(partitions),
      parts_(std::make_unique<PartitionState[]>(partitions)) {}

void KafkaTopicState::InitPartition(std::uint32_t p, std::uint64_t low, std::uint64_t high) {
  std::lock_guard<std::mutex> l(mu_);
  parts_[p].low = low;
  parts_[p].target = high;  // read this far before deciding on sequences
  AdvanceHeadLocked(p, high);
}

Cursor KafkaTopicState::Heads() const {
  std::lock_guard<std::mutex> l(mu_);
  return heads_;
}

std::uint64_t KafkaTopicState::AccountSeq(const std::string& account) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = accounts_.find(account);
  return it == accounts_.end() ? 0 : it->second.seq;
}

void KafkaTopicState::AdvanceHeadLocked(std::uint32_t p, std::uint64_t offset) {
  if (offset > heads_.offset(p)) heads_.Advance(MakePosition(p, offset));
}

bool KafkaTopicState::Beyond(const Cursor& heads, const Cursor& after) {
  if (heads.partitions() != after.partitions()) return false;
  for (std::uint32_t p = 0; p < heads.partitions(); ++p)
    if (heads.offset(p) > after.offset(p)) return true;
  return false;
}

// ---- reading ----

Status KafkaTopicState::CheckCursor(const Cursor& after, bool* behind) const {
  *behind = false;
  std::lock_guard<std::mutex> l(mu_);
  for (std::uint32_t p = 0; p < partitions_; ++p) {
    if (after.offset(p) < parts_[p].low)
      return Status::Corruption("kafka ledger: " + topic_ + " partition " + std::to_string(p) + " starts after event " +
                                PositionToString(MakePosition(p, parts_[p].low)) +
                                " (deleted by retention; the ledger topic needs retention.ms=-1): cannot read after " +
                                PositionToString(after.at(p)));
    if (after.offset(p) > heads_.offset(p))
      return Status::Corruption("kafka ledger: cursor " + PositionToString(after.at(p)) + " is beyond the end of " +
                                topic_ + " partition " + std::to_string(p) + " (last event " +
                                PositionToString(heads_.at(p)) + "): events were lost or this is another topic");
    if (after.offset(p) < heads_.offset(p)) *behind = true;
  }
  return Status::Ok();
}

void KafkaTopicState::LearnEvent(std::uint32_t p, std::uint64_t offset, const std::string* account, std::uint64_t seq) {
  {
    std::lock_guard<std::mutex> l(mu_);
    AdvanceHeadLocked(p, offset);
    if (account && seq) {
      AccountState& a = accounts_[*account];
      a.seq = std::max(a.seq, seq);
    }
    PartitionState& ps = parts_[p];
    if (offset > ps.read_through && offset - 1 <= ps.read_through) ps.read_through = offset;
  }
  cv_.notify_all();
}

void KafkaTopicState::LearnWatermarks(std::uint32_t p, std::uint64_t low, std::uint64_t high) {
  std::lock_guard<std::mutex> l(mu_);
  if (low > parts_[p].low) parts_[p].low = low;
  if (high > heads_.offset(p)) {
    AdvanceHeadLocked(p, high);
    cv_.notify_all();
  }
}

// ---- waiting ----

std::uint64_t KafkaTopicState::wake_generation() const {
  std::lock_guard<std::mutex> l(mu_);
  return wake_generation_;
}

bool KafkaTopicState::Woken(const Cursor& after, std::uint64_t generation, Cursor* heads) const {
  std::lock_guard<std::mutex> l(mu_);
  *heads = heads_;
  return Beyond(heads_, after) || wake_generation_ != generation || after.partitions() != partitions_;
}

void KafkaTopicState::WaitWoken(const Cursor& after, std::uint64_t generation, std::chrono::milliseconds slice) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, slice, [&] { return wake_generation_ != generation || Beyond(heads_, after); });
}

void KafkaTopicState::WakeAll() {
  std::lock_guard<std::mutex> l(mu_);
  ++wake_generation_;
  cv_.notify_all();
}

// ---- appending ----

Status KafkaTopicState::BeginAppend(const std::string& account, std::uint64_t expected_seq,
                                    const std::optional<Position>& expected_head, std::uint32_t p) {
  std::lock_guard<std::mutex> l(mu_);
  AccountState& a = accounts_[account];
  if (a.in_flight) return Status::Conflict("kafka ledger: another append of account " + account + " is in flight");
  if (a.seq != expected_seq)
    return Status::Conflict("kafka ledger: account " + account + " is at sequence " + std::to_string(a.seq) +
                            ", the batch expects " + std::to_string(expected_seq));
  if (expected_head && heads_.at(p) != *expected_head)
    return Status::Conflict("kafka ledger: partition " + std::to_string(p) + " ends at " +
                            PositionToString(heads_.at(p)) + ", the batch expects " + PositionToString(*expected_head));
  a.in_flight = true;
  return Status::Ok();
}

void KafkaTopicState::EndAppend(const std::string& account, std::uint32_t p, std::uint64_t expected_seq,
                                const std::vector<std::int64_t>& offsets, bool maybe_persisted) {
  std::size_t delivered = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    AccountState& a = accounts_[account];
    a.in_flight = false;
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      if (offsets[i] < 0) continue;
      ++delivered;
      AdvanceHeadLocked(p, static_cast<std::uint64_t>(offsets[i]) + 1);
      a.seq = std::max(a.seq, expected_seq + i + 1);
    }
    // Our own contiguous batch right after what is known extends the known range.
    PartitionState& ps = parts_[p];
    if (delivered == offsets.size() && delivered > 0 &&
        static_cast<std::uint64_t>(offsets.back() - offsets.front()) + 1 == delivered &&
        static_cast<std::uint64_t>(offsets.front()) <= ps.read_through)
      ps.read_through = std::max(ps.read_through, static_cast<std::uint64_t>(offsets.back()) + 1);
    if (maybe_persisted) ps.needs_query = true;
  }
  if (delivered > 0) cv_.notify_all();
}

// ---- re-synchronising ----

bool KafkaTopicState::Synced(std::uint32_t p) const {
  std::lock_guard<std::mutex> l(mu_);
  return !parts_[p].needs_query && parts_[p].read_through >= parts_[p].target;
}

bool KafkaTopicState::NeedsQuery(std::uint32_t p) const {
  std::lock_guard<std::mutex> l(mu_);
  return parts_[p].needs_query;
}

void KafkaTopicState::SetQueriedTarget(std::uint32_t p, std::uint64_t high) {
  std::lock_guard<std::mutex> l(mu_);
  parts_[p].target = std::max(parts_[p].target, high);
  AdvanceHeadLocked(p, parts_[p].target);
  parts_[p].needs_query = false;
}

void KafkaTopicState::SyncProgress(std::uint32_t p, std::uint64_t* read_through, std::uint64_t* target,
                                   Cursor* heads) const {
  std::lock_guard<std::mutex> l(mu_);
  *read_through = parts_[p].read_through;
  *target = parts_[p].target;
  *heads = heads_;
}

}  // namespace authledger::kafka
