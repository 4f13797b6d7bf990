// PeriodicTask: runs a function on its own thread every `interval` until
// Stop(). Stop wakes the thread at once (no waiting out the interval) and joins
// it; the function is not run again after Stop returns. Start/Stop from one
// owner thread; Stop is idempotent and called by the destructor.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace authledger {

class PeriodicTask {
 public:
  PeriodicTask() = default;
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start(std::chrono::milliseconds interval, std::function<void()> fn) {
    stop_ = false;
    thread_ = std::thread([this, interval, fn = std::move(fn)] {
      for (;;) {
        {
          std::unique_lock lock(mu_);
          if (wake_.wait_for(lock, interval, [&] { return stop_; })) return;
        }
        fn();
      }
    });
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace authledger
