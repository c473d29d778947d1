// FaultDevice: fails the Nth matching operation of a wrapped device.
#include <mutex>

#include "mdfs/device.h"

namespace mdfs {

// Operations run under `mutex` (base call included), so "the Nth operation"
// is well defined when many threads use the device.
struct FaultDevice::State {
  explicit State(Device* device) : base(device) {}

  Device* const base;
  mutable std::mutex mutex;
  unsigned kinds = kAll;    // GUARDED_BY(mutex): the kinds counted and failed
  uint64_t seen = 0;        // GUARDED_BY(mutex): matching operations since FailNth
  uint64_t fail_at = 0;     // GUARDED_BY(mutex): 0 = disarmed
  bool sticky = false;      // GUARDED_BY(mutex)
  bool fired = false;       // GUARDED_BY(mutex)
};

namespace {

const char* KindName(unsigned kind) {
  switch (kind) {
    case FaultDevice::kRead: return "read";
    case FaultDevice::kWrite: return "write";
    default: return "flush";
  }
}

// Counts the operation and decides whether it fails. REQUIRES: state.mutex held.
template <typename State>
Status CountAndCheck(State& state, unsigned kind) {
  if ((state.kinds & kind) == 0) return Status::Ok();
  const uint64_t number = ++state.seen;
  if (state.fail_at == 0) return Status::Ok();
  const bool hit = number == state.fail_at || (state.sticky && number > state.fail_at);
  if (!hit) return Status::Ok();
  state.fired = true;
  return IoError(std::string("injected fault: ") + KindName(kind) + " #" + std::to_string(number));
}

}  // namespace

FaultDevice::FaultDevice(Device* base) : state_(std::make_unique<State>(base)) {}
FaultDevice::~FaultDevice() = default;

void FaultDevice::FailNth(uint64_t n, unsigned kinds, bool sticky) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->kinds = kinds;
  state_->seen = 0;
  state_->fail_at = n;  // n == 0 (outside the contract) arms nothing
  state_->sticky = sticky;
  state_->fired = false;
}

void FaultDevice::Disarm() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->fail_at = 0;
  state_->sticky = false;
}

uint64_t FaultDevice::operations_seen() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->seen;
}

bool FaultDevice::fault_fired() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->fired;
}

uint64_t FaultDevice::size_bytes() const { return state_->base->size_bytes(); }

Status FaultDevice::Read(uint64_t offset, std::span<std::byte> out) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  MDFS_RETURN_IF_ERROR(CountAndCheck(*state_, kRead));
  return state_->base->Read(offset, out);
}

Status FaultDevice::Write(uint64_t offset, std::span<const std::byte> data) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  MDFS_RETURN_IF_ERROR(CountAndCheck(*state_, kWrite));
  return state_->base->Write(offset, data);
}

Status FaultDevice::Flush() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  MDFS_RETURN_IF_ERROR(CountAndCheck(*state_, kFlush));
  return state_->base->Flush();
}

PersistenceMode FaultDevice::persistence_mode() const { return state_->base->persistence_mode(); }

std::string FaultDevice::Describe() const { return "fault(" + state_->base->Describe() + ")"; }

}  // namespace mdfs
