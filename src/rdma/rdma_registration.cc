// RdmaMemoryRegistration: an ibv_reg_mr of a MAP_DIRECT range as a
// long-term pin on its layout (include/mdfs/rdma_registration.h).
//
// Lock order: mu_ is never held while calling the lease manager,
// ibv_modify_qp, ibv_dereg_mr or on_teardown. Register holds mu_ across
// ibv_reg_mr only, so that a TearDown arriving meanwhile finds either no
// MR or the whole MR.
#include "lease/leases.h"
#include "mdfs/rdma_registration.h"

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace mdfs {
namespace {

std::string Hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%" PRIx64, value);
  return text;
}

// Whether the VMA holding `address` is writable, and its backing path.
struct VmaInfo {
  bool found = false;
  bool writable = false;
  std::string path;
};
VmaInfo FindVma(const void* address) {
  VmaInfo info;
  std::ifstream maps("/proc/self/maps");
  const auto target = reinterpret_cast<uintptr_t>(address);
  std::string line;
  while (std::getline(maps, line)) {
    uintptr_t begin = 0, end = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %7s", &begin, &end, perms) != 3) {
      continue;
    }
    if (target < begin || target >= end) continue;
    info.found = true;
    info.writable = perms[1] == 'w';
    const size_t slash = line.find('/');
    if (slash != std::string::npos) info.path = line.substr(slash);
    return info;
  }
  return info;
}

// ibv_reg_mr's errno, by cause.
Status RegisterError(int error, const DirectMapping& mapping, const void* address, int access) {
  const std::string what = "ibv_reg_mr of the MAP_DIRECT range at " +
                           Hex(reinterpret_cast<uintptr_t>(address)) + " (persistence mode " +
                           PersistenceModeName(mapping.persistence_mode()) + ")";
  const VmaInfo vma = FindVma(address);
  const std::string backing = vma.path.empty() ? "" : ", backed by " + vma.path;
  switch (error) {
    case EOPNOTSUPP:
      return NotSupported(what +
                          " failed with EOPNOTSUPP: the kernel refuses long-term pins "
                          "of fs-dax pages (a file system mounted -o dax" +
                          backing +
                          "); put mdfs on device-dax (/dev/daxN.M) to register its blocks");
    case EFAULT:
      if (mapping.torn_down()) {
        return Status(Code::kLeaseRevoked,
                      what + ": the mapping was recalled while it was being registered");
      }
      if (vma.found && !vma.writable &&
          (access & (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE)) != 0) {
        return InvalidArgument(what +
                               " failed with EFAULT: the range is not writable but "
                               "write access was asked (map it PROT_READ|PROT_WRITE, "
                               "or register with IBV_ACCESS_REMOTE_READ only)");
      }
      if (vma.found && !vma.writable) {
        // Before Linux 6.2, ib_umem_get pinned even a read-only registration
        // with FOLL_WRITE | FOLL_FORCE (to break copy-on-write), which a
        // read-only MAP_SHARED mapping refuses.
        return NotSupported(what +
                            " failed with EFAULT: the range is mapped read-only, and this "
                            "kernel pins even a read-only registration for writing (Linux "
                            "before 6.2: FOLL_FORCE), which a read-only shared mapping "
                            "refuses; map it PROT_READ|PROT_WRITE");
      }
      return NotSupported(what +
                          " failed with EFAULT: the kernel refuses long-term pins of "
                          "file-backed MAP_SHARED page-cache memory" +
                          backing + "; use device-dax, a memory device or tmpfs");
    case ENOMEM:
      return NoSpace(what +
                     " failed with ENOMEM: RLIMIT_MEMLOCK is too small for the "
                     "registration (ulimit -l)");
    case EINVAL:
      return InvalidArgument(what + " failed with EINVAL: access flags " + Hex(access) +
                             " not supported by the device");
    default:
      return IoError(what + " failed: " + std::strerror(error) + " (errno " +
                     std::to_string(error) + ")");
  }
}

}  // namespace

RdmaMemoryRegistration::RdmaMemoryRegistration(LeaseManager* leases, const DirectMapping& mapping,
                                               ibv_pd* pd, void* address, size_t length,
                                               RdmaRegistrationOptions options)
    : leases_(leases),
      pd_(pd),
      ino_(mapping.ino()),
      mapping_offset_(mapping.file_offset()),
      mapping_data_(mapping.data()),
      address_(address),
      length_(length),
      layout_(mapping.layout()),
      options_(std::move(options)),
      device_name_(pd->context != nullptr && pd->context->device != nullptr
                       ? ibv_get_device_name(pd->context->device)
                       : "?") {}

Result<std::unique_ptr<RdmaMemoryRegistration>> RdmaMemoryRegistration::Register(
    LeaseManager* leases, const DirectMapping& mapping, ibv_pd* pd,
    RdmaRegistrationOptions options) {
  return Register(leases, mapping, pd, mapping.data(), mapping.size(), std::move(options));
}

Result<std::unique_ptr<RdmaMemoryRegistration>> RdmaMemoryRegistration::Register(
    LeaseManager* leases, const DirectMapping& mapping, ibv_pd* pd, void* address, size_t length,
    RdmaRegistrationOptions options) {
  if (leases == nullptr || pd == nullptr || address == nullptr) {
    return InvalidArgument(
        "RDMA registration needs the lease manager, a protection domain "
        "and an address");
  }
  const auto base = reinterpret_cast<uintptr_t>(mapping.data());
  const auto begin = reinterpret_cast<uintptr_t>(address);
  if (length == 0 || begin < base || length > mapping.size() ||
      begin - base > mapping.size() - length) {
    return InvalidArgument("RDMA registration of [" + Hex(begin) + ", +" + std::to_string(length) +
                           ") is empty or not inside the mapping [" + Hex(base) + ", +" +
                           std::to_string(mapping.size()) + ")");
  }
  if (mapping.torn_down()) {
    return Status(Code::kLeaseRevoked, "RDMA registration: the mapping at " + Hex(base) + " was " +
                                           (mapping.revoked() ? "revoked" : "recalled"));
  }
  std::unique_ptr<RdmaMemoryRegistration> registration(
      new RdmaMemoryRegistration(leases, mapping, pd, address, length, std::move(options)));
  RdmaMemoryRegistration& self = *registration;
  // The pin first, so that a recall from now on finds us; then the NIC.
  if (self.layout_ == 0) {
    MDFS_RETURN_IF_ERROR(leases->AddSealedMapping(self.ino_));
  } else {
    Status pinned = leases->AddLongTermPin(self.layout_, &self);
    if (!pinned.ok()) {
      if (pinned.code() == Code::kNotFound) {
        return Status(Code::kLeaseRevoked, "RDMA registration: " + pinned.message());
      }
      return pinned;
    }
  }
  {
    std::lock_guard lock(self.mu_);
    self.pinned_ = true;
  }
  MDFS_RETURN_IF_ERROR(self.RegisterWithDevice(mapping));  // the destructor undoes the pin
  return registration;
}

Status RdmaMemoryRegistration::RegisterWithDevice(const DirectMapping& mapping) {
  std::lock_guard lock(mu_);
  if (teardown_started_) {
    return Status(Code::kLeaseRevoked,
                  "RDMA registration: the layout was recalled while "
                  "registering");
  }
  errno = 0;
  ibv_mr* mr = ibv_reg_mr(pd_, address_, length_, options_.access);
  if (mr == nullptr) {
    const int error = errno != 0 ? errno : EIO;
    return RegisterError(error, mapping, address_, options_.access);
  }
  mr_ = mr;
  lkey_ = mr->lkey;
  rkey_ = mr->rkey;
  return Status::Ok();
}

RdmaMemoryRegistration::~RdmaMemoryRegistration() { Unregister(); }

uint64_t RdmaMemoryRegistration::file_offset() const {
  return mapping_offset_ + (static_cast<const std::byte*>(address_) - mapping_data_);
}

bool RdmaMemoryRegistration::registered() const {
  std::lock_guard lock(mu_);
  return mr_ != nullptr && !teardown_started_;
}

bool RdmaMemoryRegistration::torn_down() const {
  std::lock_guard lock(mu_);
  return teardown_done_;
}

Status RdmaMemoryRegistration::BeginWork(uint64_t wr_id) {
  std::lock_guard lock(mu_);
  if (teardown_started_) {
    return Status(Code::kLeaseRevoked,
                  Describe() + " was torn down (its layout was recalled, revoked or released)");
  }
  if (mr_ == nullptr) return InvalidArgument(Describe() + " is not registered");
  ++in_flight_[wr_id];
  return Status::Ok();
}

void RdmaMemoryRegistration::EndWork(uint64_t wr_id) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(wr_id);
  if (it == in_flight_.end()) return;
  if (--it->second == 0) in_flight_.erase(it);
  changed_.notify_all();
}

void RdmaMemoryRegistration::TearDown() {
  DoTearDown();
  std::lock_guard lock(mu_);
  lease_manager_called_ = true;
  changed_.notify_all();
}

void RdmaMemoryRegistration::FlushQueuePairs() {
  uint64_t flushed = 0;
  for (ibv_qp* qp : options_.queue_pairs) {
    ibv_qp_attr attr{};
    attr.qp_state = IBV_QPS_ERR;
    if (qp != nullptr && ibv_modify_qp(qp, &attr, IBV_QP_STATE) == 0) ++flushed;
  }
  std::lock_guard lock(mu_);
  queue_pairs_flushed_ += flushed;
}

void RdmaMemoryRegistration::DoTearDown() {
  std::unique_lock lock(mu_);
  if (teardown_started_) {
    changed_.wait(lock, [&] { return teardown_done_; });
    return;
  }
  teardown_started_ = true;  // 1. BeginWork refuses from now on
  outstanding_at_teardown_ = in_flight_.size();
  ibv_mr* const mr = mr_;
  if (mr != nullptr) {
    // 2. Let counted work requests finish; 3. else flush their QPs.
    const auto drain = std::chrono::milliseconds(options_.drain_timeout_ms);
    if (!changed_.wait_for(lock, drain, [&] { return in_flight_.empty(); })) {
      lock.unlock();
      FlushQueuePairs();
      lock.lock();
      changed_.wait(lock, [&] { return in_flight_.empty(); });
    }
    lock.unlock();
    const int result = ibv_dereg_mr(mr);  // 4.
    lock.lock();
    dereg_errno_ = result;
    mr_ = nullptr;
  }
  lock.unlock();
  if (mr != nullptr && options_.on_teardown) options_.on_teardown();  // 5.
  lock.lock();
  teardown_done_ = true;
  changed_.notify_all();
}

void RdmaMemoryRegistration::Unregister() {
  bool pinned;
  {
    std::lock_guard lock(mu_);
    if (unregistered_) return;
    pinned = pinned_;
  }
  DoTearDown();
  if (pinned) {
    if (layout_ == 0) {
      leases_->RemoveSealedMapping(ino_);
    } else if (!leases_->RemoveLongTermPin(layout_, this).ok()) {
      // The lease manager took the pin (recall, revocation, release) and
      // calls our TearDown, perhaps not yet: it must not find us gone.
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return lease_manager_called_; });
    }
  }
  std::lock_guard lock(mu_);
  pinned_ = false;
  unregistered_ = true;
}

uint64_t RdmaMemoryRegistration::outstanding_at_teardown() const {
  std::lock_guard lock(mu_);
  return outstanding_at_teardown_;
}

uint64_t RdmaMemoryRegistration::queue_pairs_flushed() const {
  std::lock_guard lock(mu_);
  return queue_pairs_flushed_;
}

int RdmaMemoryRegistration::dereg_errno() const {
  std::lock_guard lock(mu_);
  return dereg_errno_;
}

std::string RdmaMemoryRegistration::Describe() const {
  return "RDMA MR rkey " + Hex(rkey_) + " on " + device_name_ + ", inode " + std::to_string(ino_) +
         " [" + std::to_string(file_offset()) + ", " + std::to_string(file_offset() + length_) +
         ")";
}

}  // namespace mdfs
