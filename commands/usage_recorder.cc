#include "commands/usage_recorder.h"

#include <algorithm>
#include <map>

namespace authledger {

namespace {
std::atomic<std::uint64_t> next_instance{1};
}

void UsageRecorder::Pending::Merge(const Pending& o) {
  uses += o.uses;
  due_at = std::max(due_at, o.due_at);
  if (o.last_at >= last_at) {
    last_at = o.last_at;
    ip = o.ip;
  }
}

UsageRecorder::UsageRecorder(CommandContext& ctx, TimeMs resolution)
    : ctx_(ctx), resolution_(resolution), instance_(next_instance.fetch_add(1)) {}

UsageRecorder::~UsageRecorder() { Stop(); }

UsageRecorder::ThreadBuffer& UsageRecorder::LocalBuffer() {
  // One buffer per (thread, recorder). Threads are few and long-lived (I/O and
  // command threads), so this list stays short.
  thread_local std::vector<std::pair<std::uint64_t, std::shared_ptr<ThreadBuffer>>> mine;
  for (auto& [id, buffer] : mine)
    if (id == instance_) return *buffer;
  auto buffer = std::make_shared<ThreadBuffer>();
  {
    std::lock_guard lock(registry_mu_);
    buffers_.push_back(buffer);
  }
  mine.emplace_back(instance_, buffer);
  return *buffer;
}

void UsageRecorder::Note(std::string_view account_id, std::string_view key_id, std::string_view ip, TimeMs at) {
  if (disabled_.load(std::memory_order_relaxed)) return;
  ThreadBuffer& b = LocalBuffer();
  std::lock_guard lock(b.mu);
  auto it = b.pending.find(key_id);
  if (it == b.pending.end()) {
    if (b.pending.size() >= kMaxPendingPerThread) return;
    it = b.pending.emplace(std::string(key_id), Pending{std::string(account_id), at, std::string(ip), 0}).first;
  }
  Pending& p = it->second;
  if (at >= p.last_at) {
    p.last_at = at;
    if (p.ip != ip) p.ip.assign(ip);
  }
  ++p.uses;
}

std::size_t UsageRecorder::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  {
    std::lock_guard lock(registry_mu_);
    buffers = buffers_;
  }
  PendingMap all;
  all.swap(carry_);
  for (auto& b : buffers) {
    {
      // The thread goes on with the map drained last time: its buckets are
      // still there, so its next second of uses does not rehash from scratch.
      std::lock_guard lock(b->mu);
      b->pending.swap(b->spare);
    }
    for (auto& [key_id, p] : b->spare) {
      auto [it, inserted] = all.try_emplace(key_id, p);
      if (!inserted) it->second.Merge(p);
    }
    b->spare.clear();
  }
  // One command per account, with an event for every key whose use is due; keys
  // known not to be due yet are not even read (they wait in carry_).
  const TimeMs now = ctx_.clock().Now();
  std::map<std::string, std::vector<std::string>> by_account;
  for (const auto& [key_id, p] : all) {
    if (p.due_at > now) carry_.emplace(key_id, p);
    else by_account[p.account_id].push_back(key_id);
  }
  std::size_t appended = 0;
  const Actor actor = Actor::System("usage-recorder");
  for (const auto& [account_id, keys] : by_account) {
    std::vector<std::string> recorded;
    auto out = ctx_.Execute(account_id, actor, EntityRefs::Keys(keys), [&](const AccountState& s, TimeMs now) {
      std::vector<EventData> events;
      recorded.clear();
      for (const auto& key_id : keys) {
        Pending& p = all.at(key_id);
        const KeyState* k = s.FindKey(key_id);
        // Due once the previously recorded use is at least `resolution` old.
        if (k && k->last_used_at && now - *k->last_used_at < resolution_) {
          p.due_at = *k->last_used_at + resolution_;
          continue;
        }
        auto d = DecideRecordUsage(s, key_id, p.last_at, p.ip, p.uses);
        if (!d.ok()) return d;
        for (auto& e : *d) events.push_back(std::move(e));
        recorded.push_back(key_id);
      }
      return Decision(std::move(events));
    });
    if (out.ok()) {
      appended += out->events.size();
      for (const auto& key_id : recorded) all.erase(key_id);
    }
    // Keys not due yet (or whose append failed) wait for a later flush; each is
    // due within `resolution`, so carry_ never outgrows the set of used keys.
    for (const auto& key_id : keys)
      if (auto it = all.find(key_id); it != all.end()) carry_.emplace(key_id, it->second);
  }
  return appended;
}

void UsageRecorder::Start(std::chrono::milliseconds interval) {
  task_.Start(interval, [this] { Flush(); });
}

void UsageRecorder::Stop() { task_.Stop(); }

}  // namespace authledger
