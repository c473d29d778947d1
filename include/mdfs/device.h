// The device layer: the only place mdfs touches storage.
//
// Everything above this interface (format, journal, engine, fsck, tools)
// reads and writes the device through Device; nothing above it calls POSIX
// I/O on the image. Implementations:
//   OpenFileDevice     regular file or block device; pread/pwrite; Flush = fdatasync
//   OpenMappedDevice   the DAX path: the device mapped MAP_SHARED, MAP_SYNC when it can
//   CreateMemoryDevice a memfd, for tests (no root, nothing survives)
//   FaultDevice        wraps a device; fails the Nth read / write / flush with EIO
//   CrashDevice        wraps a device; keeps unflushed writes aside and, at a
//                      simulated crash, keeps, drops or tears each of them
//
// Offsets and lengths are in bytes and need not be aligned; a Read or Write
// that would pass the end of the device fails with kInvalidArgument.
//
// Thread-safety: Read, Write and Flush may be called concurrently from many
// threads on the same device (they are positional, as pread/pwrite are);
// FaultDevice and CrashDevice serialize internally.
#ifndef MDFS_INCLUDE_MDFS_DEVICE_H_
#define MDFS_INCLUDE_MDFS_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "mdfs/status.h"

namespace mdfs {

// What makes a write durable on this device, as observed when it was opened.
// Values are reported by `mdfs df/stat` and may cross the wire: never renumber.
enum class PersistenceMode : int {
  // Stores reach the persistence domain with a CPU cache flush + fence:
  // device-dax on persistent memory, or fs-dax mapped with MAP_SYNC.
  kCpuCache = 0,
  // A mapping of an ordinary file: durable only after msync of the range.
  kMsync = 1,
  // pread/pwrite device: durable only after fdatasync (Flush()).
  kFdatasync = 2,
  // tmpfs, memfd, anonymous memory, device-dax over RAM: nothing survives a reboot.
  kVolatile = 3,
};

// "cpu-cache", "msync", "fdatasync", "volatile".
const char* PersistenceModeName(PersistenceMode mode);

class Device {
 public:
  virtual ~Device() = default;

  virtual uint64_t size_bytes() const = 0;
  virtual Status Read(uint64_t offset, std::span<std::byte> out) = 0;
  virtual Status Write(uint64_t offset, std::span<const std::byte> data) = 0;
  // Makes every completed Write durable (as durable as persistence_mode() allows).
  virtual Status Flush() = 0;
  virtual PersistenceMode persistence_mode() const = 0;
  // One line for humans: "file /tmp/a.img", "mmap /dev/dax0.0 (MAP_SYNC)", "memory 64 MiB".
  virtual std::string Describe() const = 0;

  // The DAX path. When the device is memory mapped, the start of the mapping
  // (device offset 0), else nullptr. Stores through it must be followed by
  // Persist() of the range to be durable.
  virtual std::byte* mapped_base() { return nullptr; }
  // Makes the byte range durable after stores through mapped_base():
  // cache-line flush + fence (kCpuCache), msync (kMsync), nothing (kVolatile).
  // Devices without a mapping implement it as Flush().
  virtual Status Persist(uint64_t offset, uint64_t length) { return Flush(); }

  // The MAP_DIRECT path: maps device bytes [offset, offset+length) at
  // `address` (MAP_FIXED | MAP_SHARED, with MAP_SYNC where the device was
  // opened with it), replacing whatever was mapped there. All three must be
  // multiples of the page size. Stores through such a mapping are made
  // durable as persistence_mode() says (a kFdatasync device: msync of the
  // pages). kNotSupported for devices that cannot be mapped.
  virtual Status MapAt(void* address, uint64_t offset, uint64_t length, bool writable) {
    return Status(Code::kNotSupported, Describe() + " cannot be mapped");
  }
};

struct FileDeviceOptions {
  bool read_only = false;
  bool create = false;          // create the file if it does not exist
  uint64_t create_size = 0;     // REQUIRES: create; the size of a new file (ftruncate)
};

// A regular file or a block device accessed with pread/pwrite.
Result<std::unique_ptr<Device>> OpenFileDevice(const std::string& path,
                                               const FileDeviceOptions& options = {});

// The device mapped MAP_SHARED. Tries MAP_SHARED_VALIDATE|MAP_SYNC first and
// reports kCpuCache only if that succeeded on a file, or the path is a
// device-dax character device carved from a persistent-memory region (sysfs:
// an nd_pmem region above it; device-dax over RAM is kVolatile); an
// ordinary file gives kMsync, tmpfs gives kVolatile (doc/hardware.md).
// device-dax maps only whole units of its alignment: MapAt refuses other
// ranges with kInvalidArgument naming the rule.
Result<std::unique_ptr<Device>> OpenMappedDevice(const std::string& path,
                                                 const FileDeviceOptions& options = {});

// A memfd of `size_bytes`, mapped; persistence kVolatile.
Result<std::unique_ptr<Device>> CreateMemoryDevice(uint64_t size_bytes);

// Fails chosen operations of a wrapped device with kIoError. Operations are
// numbered from 1 across reads, writes and flushes in the order they arrive.
class FaultDevice : public Device {
 public:
  enum OperationKind : unsigned { kRead = 1, kWrite = 2, kFlush = 4, kAll = 7 };

  explicit FaultDevice(Device* base);  // does not take ownership
  ~FaultDevice() override;

  // Fail the `n`-th operation counted from now whose kind is in `kinds`
  // (n >= 1). When `sticky`, every later matching operation fails too (a
  // device that died); otherwise only that one (a transient error).
  void FailNth(uint64_t n, unsigned kinds = kAll, bool sticky = false);
  void Disarm();
  // Operations of a kind in `kinds` seen since construction (or the last FailNth).
  uint64_t operations_seen() const;
  bool fault_fired() const;

  uint64_t size_bytes() const override;
  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush() override;
  PersistenceMode persistence_mode() const override;
  std::string Describe() const override;
  // Delegates to the wrapped device; not counted as an operation, never failed.
  Status MapAt(void* address, uint64_t offset, uint64_t length, bool writable) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Simulates power loss. Writes since the last Flush are held aside (reads
// see them); Flush applies them to the wrapped device. Crash() decides, for
// each held write, per 512-byte sector, whether it reached the media: kept,
// dropped, or (per sector) torn — using a seeded generator, so a failure
// replays exactly. After Crash() the wrapped device holds the post-crash
// image; reopen the file system on it.
class CrashDevice : public Device {
 public:
  struct CrashOptions {
    uint64_t seed = 1;
    double keep_probability = 0.4;   // the whole write reached the media
    double drop_probability = 0.3;   // none of it did; otherwise torn per sector
  };

  explicit CrashDevice(Device* base);  // does not take ownership
  ~CrashDevice() override;

  // Applies a random subset of the unflushed writes to the base device and
  // forgets the rest. Later calls on this CrashDevice fail with kIoError
  // (the machine is off) until Reset().
  void Crash(const CrashOptions& options);
  // Forget held writes and start accepting I/O again (after a Crash).
  void Reset();
  // Crash automatically when the `n`-th write (counted from now) arrives:
  // that write and all later ones fail with kIoError and are lost. 0 disarms.
  void CrashAtWrite(uint64_t n, const CrashOptions& options);
  // Crash when the `n`-th flush (counted from now) arrives: every write held
  // since the last flush is kept, dropped or torn per `options` — the crash
  // point that tears a journal commit. 0 disarms.
  void CrashAtFlush(uint64_t n, const CrashOptions& options);
  uint64_t flushes_seen() const;
  bool crashed() const;
  uint64_t unflushed_write_count() const;
  uint64_t writes_seen() const;

  uint64_t size_bytes() const override;
  Status Read(uint64_t offset, std::span<std::byte> out) override;
  Status Write(uint64_t offset, std::span<const std::byte> data) override;
  Status Flush() override;
  PersistenceMode persistence_mode() const override;
  std::string Describe() const override;
  // Maps the wrapped device. Refused (kInvalidArgument) while unflushed
  // writes overlap the range — the mapping would not see them — and
  // (kIoError) after a crash. Stores through the mapping go straight to the
  // wrapped device: a later Crash() neither drops nor tears them, and
  // Writes held after the MapAt are not seen through it until Flush.
  Status MapAt(void* address, uint64_t offset, uint64_t length, bool writable) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mdfs

#endif  // MDFS_INCLUDE_MDFS_DEVICE_H_
