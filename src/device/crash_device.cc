// CrashDevice: holds unflushed writes aside and, at a simulated power loss,
// keeps, drops or tears each of them (SQLite's test6.c idea).
#include <algorithm>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

#include "device/posix_file.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

// The unit a torn write is torn at: a disk writes whole sectors or nothing.
constexpr uint64_t kSectorBytes = 512;

struct HeldWrite {
  uint64_t offset;
  std::vector<std::byte> bytes;
};

Status CrashedError() { return IoError("device crashed (simulated power loss)"); }

// A uniform double in [0, 1) from the top 53 bits: the same on every
// standard library, unlike std::uniform_real_distribution, so a seed replays
// the same crash everywhere.
double UniformUnit(std::mt19937_64& random) {
  return static_cast<double>(random() >> 11) * 0x1.0p-53;
}

// Copies the part of `write` that overlaps [offset, offset + out.size()) into out.
void Overlay(const HeldWrite& write, uint64_t offset, std::span<std::byte> out) {
  const uint64_t begin = std::max(offset, write.offset);
  const uint64_t end = std::min(offset + out.size(), write.offset + write.bytes.size());
  if (begin >= end) return;
  std::memcpy(out.data() + (begin - offset), write.bytes.data() + (begin - write.offset),
              end - begin);
}

// Applies each 512-byte-aligned piece of `write` with probability 1/2.
void ApplyTorn(Device& base, const HeldWrite& write, std::mt19937_64& random) {
  const uint64_t end = write.offset + write.bytes.size();
  uint64_t piece = write.offset;
  while (piece < end) {
    const uint64_t piece_end = std::min(end, (piece / kSectorBytes + 1) * kSectorBytes);
    if (random() & 1) {
      std::span<const std::byte> bytes(write.bytes.data() + (piece - write.offset),
                                       piece_end - piece);
      (void)base.Write(piece, bytes);  // best effort: the machine is losing power
    }
    piece = piece_end;
  }
}

// The first held write that overlaps [offset, offset + length), or nullptr.
const HeldWrite* FirstOverlap(const std::vector<HeldWrite>& held, uint64_t offset,
                              uint64_t length) {
  for (const HeldWrite& write : held) {
    if (write.offset < offset + length && offset < write.offset + write.bytes.size()) {
      return &write;
    }
  }
  return nullptr;
}

}  // namespace

// Every operation runs under `mutex`, base calls included.
struct CrashDevice::State {
  explicit State(Device* device) : base(device) {}

  // Applies a seeded subset of `held` to the base device, then enters the
  // crashed state. REQUIRES: mutex held.
  void CrashLocked(const CrashOptions& options);

  Device* const base;
  mutable std::mutex mutex;
  std::vector<HeldWrite> held;    // GUARDED_BY(mutex): in arrival order
  bool crashed = false;           // GUARDED_BY(mutex)
  uint64_t writes_seen = 0;       // GUARDED_BY(mutex)
  uint64_t crash_at_write = 0;    // GUARDED_BY(mutex): a writes_seen value; 0 = disarmed
  uint64_t flushes_seen = 0;      // GUARDED_BY(mutex)
  uint64_t crash_at_flush = 0;    // GUARDED_BY(mutex): a flushes_seen value; 0 = disarmed
  CrashOptions crash_at_options;  // GUARDED_BY(mutex)
};

void CrashDevice::State::CrashLocked(const CrashOptions& options) {
  std::mt19937_64 random(options.seed);
  for (const HeldWrite& write : held) {
    const double draw = UniformUnit(random);
    if (draw < options.keep_probability) {
      (void)base->Write(write.offset, write.bytes);  // best effort, as in ApplyTorn
    } else if (draw >= options.keep_probability + options.drop_probability) {
      ApplyTorn(*base, write, random);
    }
  }
  // What reached the "media" must stay there for whoever reopens the base.
  if (!held.empty()) (void)base->Flush();
  held.clear();
  crashed = true;
  crash_at_write = 0;
  crash_at_flush = 0;
}

CrashDevice::CrashDevice(Device* base) : state_(std::make_unique<State>(base)) {}
CrashDevice::~CrashDevice() = default;

void CrashDevice::Crash(const CrashOptions& options) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->CrashLocked(options);
}

void CrashDevice::Reset() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->held.clear();
  state_->crashed = false;
  state_->crash_at_write = 0;
  state_->crash_at_flush = 0;
}

void CrashDevice::CrashAtWrite(uint64_t n, const CrashOptions& options) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->crash_at_write = n == 0 ? 0 : state_->writes_seen + n;
  state_->crash_at_options = options;
}

void CrashDevice::CrashAtFlush(uint64_t n, const CrashOptions& options) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->crash_at_flush = n == 0 ? 0 : state_->flushes_seen + n;
  state_->crash_at_options = options;
}

uint64_t CrashDevice::flushes_seen() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->flushes_seen;
}

bool CrashDevice::crashed() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->crashed;
}

uint64_t CrashDevice::unflushed_write_count() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->held.size();
}

uint64_t CrashDevice::writes_seen() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->writes_seen;
}

uint64_t CrashDevice::size_bytes() const { return state_->base->size_bytes(); }

Status CrashDevice::Read(uint64_t offset, std::span<std::byte> out) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->crashed) return CrashedError();
  MDFS_RETURN_IF_ERROR(state_->base->Read(offset, out));
  for (const HeldWrite& write : state_->held) Overlay(write, offset, out);
  return Status::Ok();
}

// writes_seen counts writes that passed the range check while not crashed:
// the held ones and the one that triggers CrashAtWrite.
Status CrashDevice::Write(uint64_t offset, std::span<const std::byte> data) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->crashed) return CrashedError();
  MDFS_RETURN_IF_ERROR(
      device_internal::CheckRange("write", offset, data.size(), state_->base->size_bytes()));
  const uint64_t number = ++state_->writes_seen;
  if (number == state_->crash_at_write) {
    state_->CrashLocked(state_->crash_at_options);
    return IoError("device crashed (simulated power loss) at write #" + std::to_string(number));
  }
  state_->held.push_back({offset, std::vector<std::byte>(data.begin(), data.end())});
  return Status::Ok();
}

// Applies the held writes in order. On a base error the writes already
// applied are forgotten, the rest stay held, and the error is returned.
Status CrashDevice::Flush() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->crashed) return CrashedError();
  uint64_t number = ++state_->flushes_seen;
  if (number == state_->crash_at_flush) {
    // Power fails while the device is flushing: each held write may or may
    // not have reached the media (kept, dropped or torn per sector).
    state_->CrashLocked(state_->crash_at_options);
    return IoError("device crashed (simulated power loss) during flush #" + std::to_string(number));
  }
  auto& held = state_->held;
  for (size_t i = 0; i < held.size(); ++i) {
    Status status = state_->base->Write(held[i].offset, held[i].bytes);
    if (!status.ok()) {
      held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(i));
      return status;
    }
  }
  held.clear();
  return state_->base->Flush();
}

// A mapping of the base shows the base's bytes, not the held writes, so a
// range with held writes cannot be mapped honestly: refuse it.
Status CrashDevice::MapAt(void* address, uint64_t offset, uint64_t length, bool writable) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->crashed) {
    return IoError("map device offset " + std::to_string(offset) + " length " +
                   std::to_string(length) + ": device crashed (simulated power loss)");
  }
  const uint64_t end = length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
  if (const HeldWrite* write = FirstOverlap(state_->held, offset, end - offset)) {
    return InvalidArgument("map device offset " + std::to_string(offset) + " length " +
                           std::to_string(length) + ": an unflushed write (offset " +
                           std::to_string(write->offset) + " length " +
                           std::to_string(write->bytes.size()) +
                           ") overlaps it and a mapping would not see it; Flush first");
  }
  return state_->base->MapAt(address, offset, length, writable);
}

PersistenceMode CrashDevice::persistence_mode() const { return state_->base->persistence_mode(); }

std::string CrashDevice::Describe() const { return "crash(" + state_->base->Describe() + ")"; }

}  // namespace mdfs
