// Transient pins, long-term pins (registrations) and sealed mappings.
#include <algorithm>

#include "lease/lease_manager.h"
#include "lease/leases.h"

namespace mdfs {

Result<PinId> LeaseManagerImpl::Pin(InodeNumber ino, uint64_t offset, uint64_t length) {
  if (length == 0 || offset + length < offset) {
    return InvalidArgument("pin range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                           ") is empty or overflows");
  }
  const bool nonblocking = BreakScope::Current().nonblocking;
  std::unique_lock lock(mu_);
  // Behind a breaker that holds the range: it must not be starved.
  bool waited = false;
  while (BreakerHoldsLocked(ino, offset, offset + length)) {
    if (nonblocking) {
      return WouldBlock("inode " + std::to_string(ino) + ": a block-map change holds the range");
    }
    if (!waited) ++counters_.pin_waits;
    waited = true;
    changed_.wait(lock);
  }
  PinId id = next_id_++;
  pins_.emplace(id, FileRange{ino, offset, offset + length});
  IndexPinLocked(id, ino);
  ++counters_.pins;
  return id;
}

Status LeaseManagerImpl::Unpin(PinId id) {
  std::lock_guard lock(mu_);
  auto it = pins_.find(id);
  if (it == pins_.end()) return NotFound("pin " + std::to_string(id) + " is not held");
  UnindexPinLocked(id, it->second.ino);
  pins_.erase(it);
  changed_.notify_all();
  return Status::Ok();
}

Status LeaseManagerImpl::AddLongTermPin(LayoutId layout_id, LongTermRegistrar* registrar) {
  if (registrar == nullptr) return InvalidArgument("no registrar");
  if (!registrar->CanTearDown()) {
    return NotSupported(registrar->Describe() +
                        " cannot tear down its registrations, so it cannot be revoked: "
                        "long-term pins are refused");
  }
  std::lock_guard lock(mu_);
  auto it = layouts_.find(layout_id);
  if (it == layouts_.end()) {
    return NotFound("long-term pin needs a held layout; layout " + std::to_string(layout_id) +
                    " is not held");
  }
  if (it->second.state != LayoutState::kGranted) {
    // Not would-block: a recall is never cancelled, so a retry cannot succeed.
    return NotFound("long-term pin needs a granted layout; layout " + std::to_string(layout_id) +
                    " is being recalled");
  }
  it->second.registrars.push_back(registrar);
  return Status::Ok();
}

Status LeaseManagerImpl::RemoveLongTermPin(LayoutId layout_id, LongTermRegistrar* registrar) {
  std::lock_guard lock(mu_);
  auto it = layouts_.find(layout_id);
  if (it == layouts_.end()) return NotFound("layout " + std::to_string(layout_id) + " is not held");
  auto& registrars = it->second.registrars;
  auto found = std::find(registrars.begin(), registrars.end(), registrar);
  if (found == registrars.end()) {
    return NotFound(registrar->Describe() + " is not registered on layout " +
                    std::to_string(layout_id));
  }
  registrars.erase(found);
  return Status::Ok();
}

Status LeaseManagerImpl::AddSealedMapping(InodeNumber ino) {
  std::lock_guard lock(mu_);
  ++sealed_mappings_[ino];
  return Status::Ok();
}

void LeaseManagerImpl::RemoveSealedMapping(InodeNumber ino) {
  std::lock_guard lock(mu_);
  auto it = sealed_mappings_.find(ino);
  if (it == sealed_mappings_.end()) return;
  if (--it->second == 0) sealed_mappings_.erase(it);
}

}  // namespace mdfs
