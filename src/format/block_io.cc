// Whole-block reads and writes by block number.
#include "format/format.h"

namespace mdfs::format {
namespace {

Status CheckInside(const Device& device, uint64_t block_number, const char* verb) {
  const uint64_t device_blocks = device.size_bytes() / kBlockSize;
  if (block_number >= device_blocks) {
    return InvalidArgument(std::string(verb) + " block " + std::to_string(block_number) +
                           ": past the end of the device (" + std::to_string(device_blocks) +
                           " blocks)");
  }
  return Status::Ok();
}

}  // namespace

Status ReadBlock(Device* device, uint64_t block_number, Block& out) {
  MDFS_RETURN_IF_ERROR(CheckInside(*device, block_number, "reading"));
  return device->Read(block_number * kBlockSize, out)
      .WithContext("reading block " + std::to_string(block_number));
}

Status WriteBlock(Device* device, uint64_t block_number, const Block& block) {
  MDFS_RETURN_IF_ERROR(CheckInside(*device, block_number, "writing"));
  return device->Write(block_number * kBlockSize, block)
      .WithContext("writing block " + std::to_string(block_number));
}

}  // namespace mdfs::format
