// Work that must finish before a response may leave, without blocking the handler's thread.
//
// DESIGN.md §7: a read's audit entry is committed before its data leaves. A handler that records
// an entry would otherwise block its worker until the group commit is done; the server instead
// opens a gate around each handler call, and the audit log registers its commit with the gate
// and returns at once. The server sends the response when the gate settles, or an error in its
// place when the held work failed. Without an open gate (tools, tests calling a handler
// directly, background jobs) nothing changes: the audit log waits as before.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "core/status.h"

namespace renkei {

class ResponseGate {
 public:
  using Completion = std::function<void(Status)>;

  // The gate of the handler running on this thread, or null when none is open.
  static ResponseGate* Current();

  // Registers one piece of work the response must wait for. The returned completion must be
  // called exactly once, from any thread, with the work's outcome.
  Completion Hold();

  // Called once, after the handler returned: `settled` runs when every held piece has completed
  // (at once, on this thread, when none was held or all are done), with the first failure.
  void OnSettled(Completion settled);

  // Opens `gate` for the handler about to run on this thread; closes it when destroyed.
  class Scope {
   public:
    explicit Scope(std::shared_ptr<ResponseGate> gate);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::shared_ptr<ResponseGate> gate_;
    ResponseGate* previous_;
  };

  // For Hold(): the gate must outlive every completion it handed out.
  static std::shared_ptr<ResponseGate> Make();

 private:
  ResponseGate() = default;
  void Complete(Status status);

  std::weak_ptr<ResponseGate> self_;
  std::mutex mu_;
  int pending_ = 0;
  std::optional<Error> failure_;
  Completion settled_;
};

}  // namespace renkei
