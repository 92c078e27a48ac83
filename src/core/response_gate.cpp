#include "core/response_gate.h"

namespace renkei {
namespace {

thread_local ResponseGate* current_gate = nullptr;

}  // namespace

std::shared_ptr<ResponseGate> ResponseGate::Make() {
  std::shared_ptr<ResponseGate> gate(new ResponseGate());
  gate->self_ = gate;
  return gate;
}

ResponseGate* ResponseGate::Current() {
  return current_gate;
}

ResponseGate::Completion ResponseGate::Hold() {
  {
    std::lock_guard lock(mu_);
    ++pending_;
  }
  // The completion keeps the gate alive: the work may finish after the session let go of it.
  return [gate = self_.lock()](Status status) { gate->Complete(std::move(status)); };
}

void ResponseGate::Complete(Status status) {
  Completion settled;
  std::optional<Error> failure;
  {
    std::lock_guard lock(mu_);
    if (!status.ok() && !failure_) failure_ = status.error();
    if (--pending_ > 0 || !settled_) return;
    settled = std::move(settled_);
    settled_ = nullptr;
    failure = failure_;
  }
  settled(failure ? Status(*failure) : Ok());
}

void ResponseGate::OnSettled(Completion settled) {
  std::optional<Error> failure;
  {
    std::lock_guard lock(mu_);
    if (pending_ > 0) {
      settled_ = std::move(settled);
      return;
    }
    failure = failure_;
  }
  settled(failure ? Status(*failure) : Ok());
}

ResponseGate::Scope::Scope(std::shared_ptr<ResponseGate> gate)
    : gate_(std::move(gate)), previous_(current_gate) {
  current_gate = gate_.get();
}

ResponseGate::Scope::~Scope() {
  current_gate = previous_;
}

}  // namespace renkei
