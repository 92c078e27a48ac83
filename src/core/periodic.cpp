#include "core/periodic.h"

namespace renkei {

PeriodicThread::~PeriodicThread() {
  Stop();
}

void PeriodicThread::Start(std::chrono::milliseconds interval, std::function<void()> job) {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this, interval, job = std::move(job)] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      job();
      lock.lock();
      wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void PeriodicThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace renkei
