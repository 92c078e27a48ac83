// A background job run at once and then every interval on a thread of its own, until stopped.
// Stop() interrupts the wait at once; a run in progress finishes first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace renkei {

class PeriodicThread {
 public:
  PeriodicThread() = default;
  ~PeriodicThread();  // Stop()s
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts running job; does nothing when already running.
  void Start(std::chrono::milliseconds interval, std::function<void()> job);
  // Returns once the thread has ended; Start may be called again afterwards.
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace renkei
