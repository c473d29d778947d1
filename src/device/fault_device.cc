// FaultDevice: fails the Nth matching operation of a wrapped device.
#include <mutex>

#include "mdfs/device.h"

namespace mdfs {

// Operations run under `mutex` (base call included), so "the Nth operation"
// is well defined when many threads use the device.
struct FaultDevice::State {
  explicit State(Device* device) : base(device) {}

  // Counts an operation of `kind` and returns the injected fault if it is
  // due. REQUIRES: mutex held.
  Status CountAndCheck(unsigned kind);

  Device* const base;
  mutable std::mutex mutex;
  unsigned kinds = kAll;  // GUARDED_BY(mutex): the kinds counted and failed
  uint64_t seen = 0;      // GUARDED_BY(mutex): matching operations since FailNth
  uint64_t fail_at = 0;   // GUARDED_BY(mutex): 0 = disarmed
  bool sticky = false;    // GUARDED_BY(mutex)
  bool fired = false;     // GUARDED_BY(mutex)
};

namespace {

const char* KindName(unsigned kind) {
  switch (kind) {
    case FaultDevice::kRead:
      return "read";
    case FaultDevice::kWrite:
      return "write";
    default:
      return "flush";
  }
}

}  // namespace

Status FaultDevice::State::CountAndCheck(unsigned kind) {
  if ((kinds & kind) == 0) return Status::Ok();
  const uint64_t number = ++seen;
  if (fail_at == 0) return Status::Ok();
  const bool hit = number == fail_at || (sticky && number > fail_at);
  if (!hit) return Status::Ok();
  fired = true;
  return IoError(std::string("injected fault: ") + KindName(kind) + " #" + std::to_string(number));
}

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
  MDFS_RETURN_IF_ERROR(state_->CountAndCheck(kRead));
  return state_->base->Read(offset, out);
}

Status FaultDevice::Write(uint64_t offset, std::span<const std::byte> data) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  MDFS_RETURN_IF_ERROR(state_->CountAndCheck(kWrite));
  return state_->base->Write(offset, data);
}

Status FaultDevice::Flush() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  MDFS_RETURN_IF_ERROR(state_->CountAndCheck(kFlush));
  return state_->base->Flush();
}

Status FaultDevice::MapAt(void* address, uint64_t offset, uint64_t length, bool writable) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->base->MapAt(address, offset, length, writable);
}

PersistenceMode FaultDevice::persistence_mode() const { return state_->base->persistence_mode(); }

std::string FaultDevice::Describe() const { return "fault(" + state_->base->Describe() + ")"; }

}  // namespace mdfs
