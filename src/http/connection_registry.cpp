#include "http/connection_registry.h"

#include <vector>

namespace renkei::http {

bool ConnectionRegistry::Add(const std::shared_ptr<Entry>& entry) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;
  entries_.emplace(entry.get(), entry);
  return true;
}

void ConnectionRegistry::Remove(Entry* entry) {
  std::lock_guard lock(mu_);
  entries_.erase(entry);
  if (entries_.empty()) empty_.notify_all();
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void ConnectionRegistry::ShutdownAll() {
  std::vector<std::shared_ptr<Entry>> live;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [ptr, weak] : entries_)
      if (auto e = weak.lock()) live.push_back(std::move(e));
  }
  for (auto& e : live) e->BeginShutdown();
}

void ConnectionRegistry::CloseAll() {
  std::vector<std::shared_ptr<Entry>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [ptr, weak] : entries_)
      if (auto e = weak.lock()) live.push_back(std::move(e));
  }
  for (auto& e : live) e->ForceClose();
}

bool ConnectionRegistry::WaitEmpty(std::chrono::steady_clock::duration timeout) {
  std::unique_lock lock(mu_);
  return empty_.wait_for(lock, timeout, [this] { return entries_.empty(); });
}

}  // namespace renkei::http
