// Volume: the engine and its lease manager, opened and closed together.
#include <unistd.h>

#include <algorithm>

#include "lease/leases.h"
#include "session/session_impl.h"

namespace mdfs {

Credentials Credentials::OfThisProcess() {
  Credentials credentials;
  credentials.uid = ::getuid();
  credentials.gid = ::getgid();
  credentials.pid = ::getpid();
  int count = ::getgroups(0, nullptr);
  if (count > 0) {
    std::vector<gid_t> groups(static_cast<size_t>(count));
    count = ::getgroups(count, groups.data());
    for (int i = 0; i < count; ++i) credentials.groups.push_back(groups[static_cast<size_t>(i)]);
  }
  return credentials;
}

bool Credentials::InGroup(uint32_t group) const {
  return group == gid || std::find(groups.begin(), groups.end(), group) != groups.end();
}

namespace session_internal {
namespace {

class VolumeImpl final : public Volume {
 public:
  explicit VolumeImpl(VolumeParts parts) : parts_(std::move(parts)) {}
  // The lease manager goes first (it revokes what is left and detaches),
  // then the engine, then the device.
  ~VolumeImpl() override {
    parts_.leases.reset();
    parts_.fs.reset();
    parts_.owned_device.reset();
  }

  Result<std::unique_ptr<Session>> OpenSession(const Credentials& credentials) override {
    return std::unique_ptr<Session>(std::make_unique<SessionImpl>(&parts_, credentials));
  }
  Result<FileSystemStats> StatFs() override { return parts_.fs->StatFs(); }
  std::vector<LayoutInfo> ListLayouts() override { return parts_.leases->ListLayouts(); }
  LeaseManager* leases() override { return parts_.leases.get(); }

 private:
  VolumeParts parts_;
};

Result<std::unique_ptr<Volume>> OpenOn(Device* device, std::unique_ptr<Device> owned,
                                       const VolumeOptions& options) {
  if (device == nullptr) return InvalidArgument("a volume needs a device");
  VolumeParts parts;
  parts.owned_device = std::move(owned);
  parts.clock = options.clock != nullptr ? options.clock : SystemClock();
  OpenOptions open{.read_only = options.read_only,
                   .clock = parts.clock,
                   .lease_break_time_ms = options.lease_break_time_ms};
  MDFS_ASSIGN_OR_RETURN(parts.fs, FileSystem::Open(device, open));
  parts.engine = static_cast<FileSystemImpl*>(parts.fs.get());
  LeaseOptions lease_options{.clock = parts.clock,
                             .lease_break_time_ms = options.lease_break_time_ms};
  MDFS_ASSIGN_OR_RETURN(parts.leases, LeaseManager::Attach(parts.fs.get(), lease_options));
  return std::unique_ptr<Volume>(std::make_unique<VolumeImpl>(std::move(parts)));
}

}  // namespace
}  // namespace session_internal

Result<std::unique_ptr<Volume>> Volume::Open(const std::string& path,
                                             const VolumeOptions& options) {
  MDFS_ASSIGN_OR_RETURN(std::unique_ptr<Device> device,
                        OpenFileDevice(path, {.read_only = options.read_only}));
  Device* raw = device.get();
  return session_internal::OpenOn(raw, std::move(device), options);
}

Result<std::unique_ptr<Volume>> Volume::Open(Device* device, const VolumeOptions& options) {
  return session_internal::OpenOn(device, nullptr, options);
}

}  // namespace mdfs
