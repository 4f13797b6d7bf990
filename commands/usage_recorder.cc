#include "commands/usage_recorder.h"

namespace authledger {

UsageRecorder::UsageRecorder(CommandContext& ctx, TimeMs resolution) : ctx_(ctx), resolution_(resolution) {}

UsageRecorder::~UsageRecorder() { Stop(); }

UsageRecorder::Shard& UsageRecorder::ShardFor(std::string_view key_id) {
  return shards_[std::hash<std::string_view>{}(key_id) % kShards];
}

void UsageRecorder::Note(std::string_view account_id, std::string_view key_id, std::string_view ip, TimeMs at) {
  Shard& shard = ShardFor(key_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.pending.find(key_id);
  if (it == shard.pending.end()) {
    if (shard.pending.size() >= kMaxPendingPerShard) return;
    it = shard.pending.emplace(std::string(key_id), Pending{std::string(account_id), at, std::string(ip), 0}).first;
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
  std::size_t appended = 0;
  const Actor actor{"system", "usage-recorder", "", ""};
  for (Shard& shard : shards_) {
    PendingMap batch;
    {
      std::lock_guard lock(shard.mu);
      batch.swap(shard.pending);
    }
    for (auto& [key_id, p] : batch) {
      auto rec = recorded_.find(key_id);
      bool due = rec == recorded_.end() || p.last_at - rec->second >= resolution_;
      if (due) {
        auto out = ctx_.Execute(p.account_id, actor, [&](const AccountState& s, TimeMs) {
          const KeyState* k = s.FindKey(key_id);
          if (k && k->last_used_at && p.last_at - *k->last_used_at < resolution_) return Decision(std::vector<EventData>{});
          return DecideRecordUsage(s, key_id, p.last_at, p.ip, p.uses);
        });
        if (out.ok() && out->position != 0) {
          recorded_[key_id] = p.last_at;
          ++appended;
          continue;
        }
        if (out.ok()) {  // already recorded recently (e.g. before a restart)
          auto k = ctx_.queries().Key(p.account_id, key_id);
          if (k.ok() && k->last_used_at) recorded_[key_id] = *k->last_used_at;
        }
      }
      // Not due (or failed): keep counting toward the next event.
      std::lock_guard lock(shard.mu);
      auto [it, inserted] = shard.pending.try_emplace(key_id, p);
      if (!inserted) {
        it->second.uses += p.uses;
        if (p.last_at > it->second.last_at) {
          it->second.last_at = p.last_at;
          it->second.ip = p.ip;
        }
      }
    }
  }
  return appended;
}

void UsageRecorder::Start(std::chrono::milliseconds interval) {
  stop_.store(false);
  thread_ = std::thread([this, interval] {
    while (!stop_.load()) {
      {
        std::unique_lock lock(wake_mu_);
        wake_.wait_for(lock, interval, [&] { return stop_.load(); });
      }
      Flush();
    }
  });
}

void UsageRecorder::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace authledger
