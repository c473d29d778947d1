// MapDirect: reserve the addresses, then PrepareDirectAccess with a grant
// that maps the extents and takes the layout, retrying after a breaker
// that held the range is done (doc/map_direct.md, "The flow").
#include "direct/map_direct_engine.h"
#include "lease/leases.h"
#include "mdfs/map_direct.h"

#include <sys/mman.h>

#include <cstdio>

#include "direct/direct_mapping_impl.h"
#include "direct/virtual_range.h"

namespace mdfs {
namespace {

using direct_internal::DirectMappingImpl;
using direct_internal::DirectMappingParameters;
using direct_internal::VirtualRange;

constexpr uint64_t kPageBytes = 4096;  // the contract's unit (map_direct.h)

std::string HexBits(uint64_t bits) {
  char text[24];
  std::snprintf(text, sizeof(text), "%#llx", static_cast<unsigned long long>(bits));
  return text;
}

Status CheckProtection(int prot) {
  if (prot == PROT_READ || prot == (PROT_READ | PROT_WRITE)) return Status::Ok();
  return NotSupported("map_direct prot " + HexBits(static_cast<unsigned>(prot)) +
                      ": only PROT_READ or PROT_READ|PROT_WRITE");
}

Status CheckArguments(FileSystem* fs, LeaseManager* leases, uint64_t offset, uint64_t length,
                      int prot, uint32_t flags) {
  if (fs == nullptr || leases == nullptr || GateOf(fs) == nullptr) {
    return InvalidArgument("map_direct needs an mdfs engine and its lease manager");
  }
  MDFS_RETURN_IF_ERROR(CheckProtection(prot));
  if (flags & ~kMapDirectKnownFlags) {
    return NotSupported("map_direct flags " + HexBits(flags & ~kMapDirectKnownFlags) +
                        " are not supported");
  }
  if (offset % kPageBytes != 0) {
    return InvalidArgument("map_direct offset " + std::to_string(offset) +
                           " is not a multiple of " + std::to_string(kPageBytes));
  }
  if (length == 0) return InvalidArgument("map_direct of an empty range");
  if (offset > kMaxFileSize || length > kMaxFileSize - offset) {
    return FileTooLarge("map_direct range [" + std::to_string(offset) + ", +" +
                        std::to_string(length) + ") passes the maximum file size (16 TiB)");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<DirectMapping>> MapDirect(FileSystem* fs, LeaseManager* leases,
                                                 InodeNumber ino, uint64_t offset, uint64_t length,
                                                 int prot, uint32_t flags,
                                                 MapDirectOptions options) {
  MDFS_ASSIGN_OR_RETURN(std::unique_ptr<DirectMappingImpl> mapping,
                        direct_internal::MapDirectFor(fs, leases, ino, offset, length, prot, flags,
                                                      std::move(options), nullptr));
  return std::unique_ptr<DirectMapping>(std::move(mapping));
}

namespace direct_internal {

Result<std::unique_ptr<DirectMappingImpl>> MapDirectFor(FileSystem* fs, LeaseManager* leases,
                                                        InodeNumber ino, uint64_t offset,
                                                        uint64_t length, int prot, uint32_t flags,
                                                        MapDirectOptions options,
                                                        const void* owner) {
  MDFS_RETURN_IF_ERROR(CheckArguments(fs, leases, offset, length, prot, flags));
  const uint64_t mapped_length = (length + kPageBytes - 1) / kPageBytes * kPageBytes;
  MDFS_ASSIGN_OR_RETURN(std::unique_ptr<VirtualRange> range,
                        VirtualRange::Reserve(offset, mapped_length));
  DirectMappingParameters parameters{.leases = leases,
                                     .device = fs->device(),
                                     .ino = ino,
                                     .offset = offset,
                                     .length = mapped_length,
                                     .writable = (prot & PROT_WRITE) != 0,
                                     .options = std::move(options),
                                     .owner = owner};
  auto mapping = std::make_unique<DirectMappingImpl>(std::move(parameters), std::move(range));
  const uint32_t direct_flags = (flags & kMapDirectAllocate) ? kDirectAllocate : 0;
  // Whether the lease manager answered kWouldBlock in this attempt's grant
  // (an attempt may fail before the grant runs, with kHole say).
  bool lease_would_block = false;
  const DirectAccessGrant grant = [&mapping, &lease_would_block](
                                      const Attributes& attributes,
                                      const std::vector<ExtentInfo>& extents) {
    Status status = mapping->GrantLocked(attributes, extents);
    lease_would_block = mapping->grant_would_block();
    return status;
  };
  for (;;) {
    lease_would_block = false;
    // The caller's length, not the rounded one: with kMapDirectAllocate the
    // file grows to offset + length, and the engine maps the last block whole.
    Status status = GateOf(fs)->PrepareDirectAccess(ino, offset, length, direct_flags, grant);
    if (status.ok()) return mapping;
    if (!lease_would_block) return status;
    // A breaker holds part of the range: wait outside the engine, then retry.
    MDFS_RETURN_IF_ERROR(leases->WaitForRange(ino, offset, mapped_length));
  }
}

}  // namespace direct_internal
}  // namespace mdfs
