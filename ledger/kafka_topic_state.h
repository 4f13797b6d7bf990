// KafkaTopicState: what a KafkaLog knows of its topic (internal to ledger/kafka_*.cc),
// shared by its readers (ledger/kafka_readers.h) and its producer
// (ledger/kafka_producer.h) under one mutex: every partition's head and low
// watermark, every account's last known sequence and whether an Append of it is in
// flight (the conflict table), and per partition how far the account sequences are
// known to be complete.
//
// Contract:
//  - Heads, low watermarks and account sequences only grow. An offset here is the
//    ledger's (Kafka offset + 1): a head of n means events 1..n exist.
//  - A partition is synced once every event up to its target — its high watermark
//    at Open, or when last queried after a delivery that may have been persisted
//    although it failed — is reflected in the account sequences (read_through >=
//    target). Until then no Append may decide on them (KafkaProducer::Resync).
//  - BeginAppend and EndAppend bracket one Append: between them the account is in
//    flight and another BeginAppend of it is a Conflict.
//  - Every change of the heads wakes WaitWoken callers; WakeAll wakes them all.
//  - Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/status.h"
#include "ledger/position.h"

namespace authledger::kafka {

class KafkaTopicState {
 public:
  KafkaTopicState(std::string topic, std::uint32_t partitions);
  KafkaTopicState(const KafkaTopicState&) = delete;
  KafkaTopicState& operator=(const KafkaTopicState&) = delete;

  const std::string& topic() const { return topic_; }
  std::uint32_t partitions() const { return partitions_; }

  // At Open: partition p holds Kafka offsets [low, high); its target is high.
  void InitPartition(std::uint32_t p, std::uint64_t low, std::uint64_t high);

  Cursor Heads() const;
  std::uint64_t AccountSeq(const std::string& account) const;

  // ---- reading ----
  // Corruption if `after` (of partitions() partitions) lies before a partition's
  // first stored event (deleted by retention) or beyond its head; else OK, with
  // *behind set if some partition has events after it.
  Status CheckCursor(const Cursor& after, bool* behind) const;
  // The event at ledger offset `offset` of partition p was read; `account` (null if
  // unknown) is at sequence `seq`.
  void LearnEvent(std::uint32_t p, std::uint64_t offset, const std::string* account, std::uint64_t seq);
  // A fetch reported partition p's watermarks (ledger offsets: events low+1..high exist).
  void LearnWatermarks(std::uint32_t p, std::uint64_t low, std::uint64_t high);

  // ---- waiting ----
  std::uint64_t wake_generation() const;
  // Sets *heads; true if a waiter for anything beyond `after`, which started at
  // `generation`, may return: the heads moved beyond it, WakeAll was called, or
  // `after` does not fit this topic.
  bool Woken(const Cursor& after, std::uint64_t generation, Cursor* heads) const;
  // Blocks up to `slice` until Woken would be true.
  void WaitWoken(const Cursor& after, std::uint64_t generation, std::chrono::milliseconds slice);
  void WakeAll();

  // ---- appending ----
  // Conflict if an Append of `account` is in flight, the account is not at
  // `expected_seq`, or `expected_head` is set and partition p does not end there;
  // else marks the account in flight.
  Status BeginAppend(const std::string& account, std::uint64_t expected_seq,
                     const std::optional<Position>& expected_head, std::uint32_t p);
  // Ends the Append BeginAppend began: offsets[i] is the Kafka offset its i-th
  // produced event landed at in partition p (-1: not delivered), the i-th carrying
  // sequence expected_seq+i+1. `maybe_persisted`: a failed delivery may be stored,
  // so the partition must be synced again.
  void EndAppend(const std::string& account, std::uint32_t p, std::uint64_t expected_seq,
                 const std::vector<std::int64_t>& offsets, bool maybe_persisted);

  // ---- re-synchronising ----
  bool Synced(std::uint32_t p) const;
  // True if the target of p must be queried again before syncing.
  bool NeedsQuery(std::uint32_t p) const;
  // The queried high watermark of p (a ledger offset) becomes its target; the
  // query is no longer needed.
  void SetQueriedTarget(std::uint32_t p, std::uint64_t high);
  // How far p's account sequences are complete, how far they must be, and the heads.
  void SyncProgress(std::uint32_t p, std::uint64_t* read_through, std::uint64_t* target, Cursor* heads) const;

 private:
  struct AccountState {
    std::uint64_t seq = 0;
    bool in_flight = false;
  };
  struct PartitionState {
    std::uint64_t low = 0;           // events 1..low are gone (Kafka low watermark)
    std::uint64_t target = 0;        // account seqs are complete once read_through reaches it
    std::uint64_t read_through = 0;  // every event up to here is reflected in accounts_
    bool needs_query = false;        // a failed delivery may have been persisted
  };
  void AdvanceHeadLocked(std::uint32_t p, std::uint64_t offset);
  static bool Beyond(const Cursor& heads, const Cursor& after);

  const std::string topic_;
  const std::uint32_t partitions_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // heads advanced, or WakeAll
  Cursor heads_;
  std::unique_ptr<PartitionState[]> parts_;
  std::unordered_map<std::string, AccountState> accounts_;
  std::uint64_t wake_generation_ = 0;
};

}  // namespace authledger::kafka
