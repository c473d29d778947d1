// OpenFileDevice: a regular file or block device accessed with pread/pwrite.
// Thread-safety: stateless after construction; pread/pwrite are positional.
#include <unistd.h>

#include <cerrno>

#include "device/map_file_at.h"
#include "device/posix_file.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

using device_internal::CheckRange;
using device_internal::ErrnoStatus;
using device_internal::FileKind;
using device_internal::OpenedFile;
using device_internal::UniqueFd;

class FileDevice final : public Device {
 public:
  FileDevice(std::string path, OpenedFile file, bool read_only)
      : path_(std::move(path)),
        fd_(std::move(file.fd)),
        kind_(file.kind),
        size_bytes_(file.size_bytes),
        read_only_(read_only),
        mode_(file.ram_backed ? PersistenceMode::kVolatile : PersistenceMode::kFdatasync) {}

  uint64_t size_bytes() const override { return size_bytes_; }
  PersistenceMode persistence_mode() const override { return mode_; }

  std::string Describe() const override {
    std::string text = (kind_ == FileKind::kBlock ? "block " : "file ") + path_;
    if (read_only_) text += " (read-only)";
    return text;
  }

  // Loops over short reads and EINTR; hitting end of file early (the file
  // shrank under us) is an I/O error, not a short result.
  Status Read(uint64_t offset, std::span<std::byte> out) override {
    MDFS_RETURN_IF_ERROR(CheckRange("read", offset, out.size(), size_bytes_));
    while (!out.empty()) {
      const ssize_t n = pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("read", path_, errno);
      if (n == 0) {
        return IoError("read " + path_ + ": unexpected end of file at offset " +
                       std::to_string(offset));
      }
      out = out.subspan(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    if (read_only_) return ReadOnly("write " + path_ + ": device opened read-only");
    MDFS_RETURN_IF_ERROR(CheckRange("write", offset, data.size(), size_bytes_));
    while (!data.empty()) {
      const ssize_t n = pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("write", path_, errno);
      if (n == 0)
        return IoError("write " + path_ + ": no progress at offset " + std::to_string(offset));
      data = data.subspan(static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Flush() override {
    if (read_only_) return Status::Ok();  // nothing of ours to make durable
    int rc;
    do {
      rc = fdatasync(fd_.get());
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }

  // mmap of the same descriptor: stores reach the page cache, durable
  // after msync of the pages (or Flush(), which fdatasyncs the whole file).
  Status MapAt(void* address, uint64_t offset, uint64_t length, bool writable) override {
    const device_internal::MappableFile file{
        .fd = fd_.get(), .name = path_, .size_bytes = size_bytes_, .read_only = read_only_};
    return device_internal::MapFileAt(file, {address, offset, length, writable});
  }

 private:
  const std::string path_;
  const UniqueFd fd_;
  const FileKind kind_;
  const uint64_t size_bytes_;
  const bool read_only_;
  const PersistenceMode mode_;
};

}  // namespace

Result<std::unique_ptr<Device>> OpenFileDevice(const std::string& path,
                                               const FileDeviceOptions& options) {
  // device-dax has no read(2)/write(2): its only access is a mapping, which
  // is also the only way its persistence (a cache flush) can be reached.
  if (device_internal::IsDeviceDaxPath(path)) return OpenMappedDevice(path, options);
  MDFS_ASSIGN_OR_RETURN(OpenedFile file,
                        device_internal::OpenDevicePath(path, options, /*allow_character=*/false));
  return std::unique_ptr<Device>(new FileDevice(path, std::move(file), options.read_only));
}

}  // namespace mdfs
