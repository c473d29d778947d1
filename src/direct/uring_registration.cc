// UringBufferRegistration: io_uring fixed buffers as a long-term pin on a
// MAP_DIRECT layout (include/mdfs/uring_registration.h).
//
// Lock order: mu_ is never held while calling the lease manager, the
// kernel's unregister / cancel, or on_teardown. Register holds mu_ across
// io_uring_register_buffers only, so that a TearDown arriving meanwhile
// finds either nothing registered or the whole table.
#include "lease/leases.h"
#include "mdfs/uring_registration.h"

#include <liburing.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mdfs {
namespace {

constexpr size_t kMaxIovecs = 1u << 14;             // IORING_MAX_REG_BUFFERS
constexpr size_t kMaxIovecBytes = size_t{1} << 30;  // the kernel's per-buffer limit
// While counted operations are still in flight after the unregister, ask the
// kernel to cancel them again this often (one may have been submitted
// between the first cancel and the unregister).
constexpr auto kRecancelInterval = std::chrono::milliseconds(20);

std::string Hex(const void* address) {
  char text[32];
  std::snprintf(text, sizeof(text), "%p", address);
  return text;
}

// The permissions and the backing path of the mapping that contains
// `address`, from /proc/self/maps ("" when not found). Only used to explain
// an EFAULT.
struct VmaInfo {
  bool found = false;
  bool writable = false;
  bool shared = false;
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
    info.shared = perms[3] == 's';
    const size_t slash = line.find('/');
    if (slash != std::string::npos) info.path = line.substr(slash);
    return info;
  }
  return info;
}

Status RegisterError(int error, const DirectMapping& mapping, const iovec& first) {
  const std::string what = "io_uring_register_buffers";
  switch (error) {
    case EFAULT: {
      if (mapping.torn_down()) {
        return Status(Code::kLeaseRevoked,
                      what + ": the mapping was recalled while it was being registered");
      }
      const VmaInfo vma = FindVma(first.iov_base);
      if (vma.found && !vma.writable) {
        return InvalidArgument(what + " failed with EFAULT: the range at " + Hex(first.iov_base) +
                               " is not writable (io_uring pins buffers for writing; map it "
                               "with PROT_READ|PROT_WRITE)");
      }
      const std::string backing = vma.path.empty() ? "" : " (" + vma.path + ")";
      if (mapping.persistence_mode() == PersistenceMode::kVolatile &&
          vma.path.rfind("/memfd:", 0) == 0) {
        return IoError(what + " failed with EFAULT on memfd memory" + backing +
                       ", which the kernel normally registers");
      }
      return NotSupported(
          "the kernel refuses to register file-backed MAP_SHARED memory of this device "
          "(EFAULT); use a memory or tmpfs-backed device (persistence mode " +
          std::string(PersistenceModeName(mapping.persistence_mode())) + backing + ")");
    }
    case EBUSY:
      return Exists(what +
                    ": the ring already has a fixed-buffer table (EBUSY); one "
                    "registration per ring");
    case ENOMEM:
      return NoSpace(what +
                     ": the kernel could not pin the pages (ENOMEM): RLIMIT_MEMLOCK is "
                     "too small for the registration");
    case EEXIST:
      return InvalidArgument(what +
                             ": the ring refuses io_uring_register from this thread "
                             "(EEXIST: IORING_SETUP_SINGLE_ISSUER)");
    case ENOSYS:
    case EOPNOTSUPP:
      return NotSupported(what + ": io_uring fixed buffers are not available (" +
                          std::strerror(error) + ")");
    default:
      return IoError(what + " failed: " + std::strerror(error));
  }
}

}  // namespace

UringBufferRegistration::UringBufferRegistration(LeaseManager* leases, const DirectMapping& mapping,
                                                 io_uring* ring, std::span<const iovec> iovecs,
                                                 UringRegistrationOptions options)
    : leases_(leases),
      ring_(ring),
      ring_fd_(ring->ring_fd),
      ino_(mapping.ino()),
      mapping_offset_(mapping.file_offset()),
      mapping_data_(mapping.data()),
      mapping_size_(mapping.size()),
      layout_(mapping.layout()),
      iovecs_(iovecs.begin(), iovecs.end()),
      options_(std::move(options)) {}

Result<std::unique_ptr<UringBufferRegistration>> UringBufferRegistration::Register(
    LeaseManager* leases, const DirectMapping& mapping, io_uring* ring,
    std::span<const iovec> iovecs, UringRegistrationOptions options) {
  if (leases == nullptr || ring == nullptr) {
    return InvalidArgument("io_uring registration needs the lease manager and a ring");
  }
  if (ring->flags & IORING_SETUP_SINGLE_ISSUER) {
    return InvalidArgument(
        "io_uring registration: the ring was set up with IORING_SETUP_SINGLE_ISSUER, which "
        "refuses io_uring_register from the breaker's thread that tears the registration down");
  }
  if (iovecs.empty() || iovecs.size() > kMaxIovecs) {
    return InvalidArgument("io_uring registration of " + std::to_string(iovecs.size()) +
                           " iovecs (1 to " + std::to_string(kMaxIovecs) + ")");
  }
  const auto base = reinterpret_cast<uintptr_t>(mapping.data());
  for (size_t i = 0; i < iovecs.size(); ++i) {
    const auto begin = reinterpret_cast<uintptr_t>(iovecs[i].iov_base);
    const size_t length = iovecs[i].iov_len;
    if (length == 0 || length > kMaxIovecBytes || begin < base || length > mapping.size() ||
        begin - base > mapping.size() - length) {
      return InvalidArgument("iovec " + std::to_string(i) + " [" + Hex(iovecs[i].iov_base) + ", +" +
                             std::to_string(length) +
                             ") is empty, larger than 1 GiB or not inside the mapping [" +
                             Hex(mapping.data()) + ", +" + std::to_string(mapping.size()) + ")");
    }
  }
  if (mapping.torn_down()) {
    return Status(Code::kLeaseRevoked, "io_uring registration: the mapping at " +
                                           Hex(mapping.data()) + " was " +
                                           (mapping.revoked() ? "revoked" : "recalled"));
  }
  std::unique_ptr<UringBufferRegistration> registration(
      new UringBufferRegistration(leases, mapping, ring, iovecs, std::move(options)));
  UringBufferRegistration& self = *registration;
  // The pin first, so that a recall from now on finds us; then the kernel.
  if (self.layout_ == 0) {
    // A sealed file (its mapping has no layout): the registration counts as
    // a lease-free mapping of its own, so Unseal waits for it. Safe outside
    // a DirectAccessGrant because the live mapping's own count keeps the
    // file sealed while we add ours.
    MDFS_RETURN_IF_ERROR(leases->AddSealedMapping(self.ino_));
  } else {
    Status pinned = leases->AddLongTermPin(self.layout_, &self);
    if (!pinned.ok()) {
      if (pinned.code() == Code::kNotFound) {  // released, revoked or being recalled
        return Status(Code::kLeaseRevoked, "io_uring registration: " + pinned.message());
      }
      return pinned;
    }
  }
  {
    std::lock_guard lock(self.mu_);
    self.pinned_ = true;
  }
  MDFS_RETURN_IF_ERROR(self.RegisterWithKernel(mapping));  // the destructor undoes the pin
  return registration;
}

Status UringBufferRegistration::RegisterWithKernel(const DirectMapping& mapping) {
  std::lock_guard lock(mu_);
  if (teardown_started_) {
    return Status(Code::kLeaseRevoked,
                  "io_uring registration: the layout was recalled while registering");
  }
  const int result =
      io_uring_register_buffers(ring_, iovecs_.data(), static_cast<unsigned>(iovecs_.size()));
  if (result < 0) return RegisterError(-result, mapping, iovecs_.front());
  kernel_registered_ = true;
  return Status::Ok();
}

UringBufferRegistration::~UringBufferRegistration() { Unregister(); }

bool UringBufferRegistration::registered() const {
  std::lock_guard lock(mu_);
  return kernel_registered_ && !teardown_started_;
}

bool UringBufferRegistration::torn_down() const {
  std::lock_guard lock(mu_);
  return teardown_done_;
}

Status UringBufferRegistration::BeginFixedIo(uint64_t user_data) {
  std::lock_guard lock(mu_);
  if (teardown_started_) {
    return Status(Code::kLeaseRevoked, Describe() +
                                           " was torn down (its layout was recalled, "
                                           "revoked or released)");
  }
  if (!kernel_registered_) return InvalidArgument(Describe() + " is not registered");
  ++in_flight_[user_data];
  return Status::Ok();
}

void UringBufferRegistration::EndFixedIo(uint64_t user_data) {
  std::lock_guard lock(mu_);
  auto it = in_flight_.find(user_data);
  if (it == in_flight_.end()) return;
  if (--it->second == 0) in_flight_.erase(it);
  changed_.notify_all();
}

void UringBufferRegistration::TearDown() {
  DoTearDown();
  std::lock_guard lock(mu_);
  lease_manager_called_ = true;
  changed_.notify_all();
}

void UringBufferRegistration::DoTearDown() {
  std::unique_lock lock(mu_);
  if (teardown_started_) {
    // At most once: a second caller (the lease manager while Unregister
    // runs, or the other way round) returns when the first one is done.
    changed_.wait(lock, [&] { return teardown_done_; });
    return;
  }
  teardown_started_ = true;  // BeginFixedIo refuses from now on
  const bool unregister = kernel_registered_;
  auto cancel_in_flight = [&](std::unique_lock<std::mutex>& held) {
    std::vector<uint64_t> flying;
    for (const auto& [user_data, count] : in_flight_) flying.push_back(user_data);
    held.unlock();
    uint64_t cancelled = 0;
    for (uint64_t user_data : flying) {
      io_uring_sync_cancel_reg cancel{};
      cancel.addr = user_data;
      cancel.fd = -1;
      cancel.timeout.tv_sec = options_.cancel_timeout_ms / 1000;
      cancel.timeout.tv_nsec = (options_.cancel_timeout_ms % 1000) * 1'000'000LL;
      if (io_uring_register_sync_cancel(ring_, &cancel) >= 0) ++cancelled;
    }
    held.lock();
    cancelled_ += cancelled;
  };
  if (unregister) {
    if (!in_flight_.empty()) {
      waited_ += in_flight_.size();
      // Cancel first: on kernels before 6.13 the unregister itself waits
      // for the operations using the table, and a blocked read would never
      // let it return.
      cancel_in_flight(lock);
    }
    lock.unlock();
    const int result = io_uring_unregister_buffers(ring_);
    lock.lock();
    unregister_errno_ = result < 0 ? -result : 0;
    kernel_registered_ = false;
    // From 6.13 on the unregister does not wait for operations in flight
    // (they keep the buffer until they complete): wait for their
    // EndFixedIo, cancelling again those that were submitted meanwhile.
    while (!in_flight_.empty()) {
      if (changed_.wait_for(lock, kRecancelInterval, [&] { return in_flight_.empty(); })) break;
      cancel_in_flight(lock);
    }
  }
  lock.unlock();
  if (unregister && options_.on_teardown) options_.on_teardown();
  lock.lock();
  teardown_done_ = true;
  changed_.notify_all();
}

void UringBufferRegistration::Unregister() {
  bool pinned;
  {
    std::lock_guard lock(mu_);
    if (unregistered_) return;
    pinned = pinned_;
  }
  // Undo the registration while the lease manager still knows of it (so a
  // breaker arriving meanwhile waits in our TearDown), then forget the pin.
  DoTearDown();
  if (pinned) {
    if (layout_ == 0) {
      leases_->RemoveSealedMapping(ino_);
    } else if (!leases_->RemoveLongTermPin(layout_, this).ok()) {
      // The lease manager took the pin away (recall, revocation, release)
      // and calls our TearDown — perhaps not yet: it must not find us gone.
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return lease_manager_called_; });
    }
  }
  std::lock_guard lock(mu_);
  pinned_ = false;
  unregistered_ = true;
}

uint64_t UringBufferRegistration::file_offset_of(size_t i) const {
  return mapping_offset_ +
         (reinterpret_cast<const std::byte*>(iovecs_.at(i).iov_base) - mapping_data_);
}

int UringBufferRegistration::unregister_errno() const {
  std::lock_guard lock(mu_);
  return unregister_errno_;
}

uint64_t UringBufferRegistration::cancelled_at_teardown() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

uint64_t UringBufferRegistration::waited_at_teardown() const {
  std::lock_guard lock(mu_);
  return waited_;
}

std::string UringBufferRegistration::Describe() const {
  return "io_uring fixed buffers (" + std::to_string(iovecs_.size()) + " iovec" +
         (iovecs_.size() == 1 ? "" : "s") + ", ring fd " + std::to_string(ring_fd_) +
         ") on inode " + std::to_string(ino_) + " [" + std::to_string(mapping_offset_) + ", " +
         std::to_string(mapping_offset_ + mapping_size_) + ")";
}

}  // namespace mdfs
