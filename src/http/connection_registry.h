// The set of live client connections, so that Server::Stop() can drain and then close them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace renkei::http {

// Live connections, so that Stop() can drain and then close them.
class ConnectionRegistry {
 public:
  class Entry {
   public:
    virtual ~Entry() = default;
    // Stop reading new requests; answer what was received, then close. Thread-safe.
    virtual void BeginShutdown() = 0;
    // Close now. Thread-safe.
    virtual void ForceClose() = 0;
  };

  // False (and not added) once shutdown has begun.
  bool Add(const std::shared_ptr<Entry>& entry);
  void Remove(Entry* entry);
  size_t size() const;
  // Marks the registry as stopping and asks every connection to shut down.
  void ShutdownAll();
  void CloseAll();
  // Waits until no connection is left or the timeout passes; true when empty.
  bool WaitEmpty(std::chrono::steady_clock::duration timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::unordered_map<Entry*, std::weak_ptr<Entry>> entries_;
  bool stopping_ = false;
};

}  // namespace renkei::http
