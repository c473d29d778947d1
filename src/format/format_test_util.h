// Test helpers for the format layer: a small sparse in-memory Device that
// records the order of writes and flushes and can fail a chosen operation,
// and helpers to damage blocks. Only *_test.cc files include this.
#ifndef MDFS_SRC_FORMAT_FORMAT_TEST_UTIL_H_
#define MDFS_SRC_FORMAT_FORMAT_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "format/format.h"
#include "format/format_internal.h"
#include "mdfs/device.h"
#include "util/coding.h"

namespace mdfs::format::testing {

// A device of any size that stores only the 4 KiB pages that were written
// with something other than zeros. Not thread-safe (tests are single-threaded).
class SparseDevice : public Device {
 public:
  struct Operation {
    char kind;  // 'R', 'W' or 'F'
    uint64_t offset;
    uint64_t length;
  };

  explicit SparseDevice(uint64_t size_bytes) : size_bytes_(size_bytes) {}

  uint64_t size_bytes() const override { return size_bytes_; }

  Status Read(uint64_t offset, std::span<std::byte> out) override {
    MDFS_RETURN_IF_ERROR(Begin('R', offset, out.size()));
    ForEachPiece(offset, out.size(), [&](uint64_t page, size_t in_page, size_t done, size_t n) {
      auto it = pages_.find(page);
      std::byte* to = out.data() + done;
      if (it == pages_.end()) {
        std::fill_n(to, n, std::byte{0});
      } else {
        std::copy_n(it->second.begin() + in_page, n, to);
      }
    });
    return Status::Ok();
  }

  Status Write(uint64_t offset, std::span<const std::byte> data) override {
    MDFS_RETURN_IF_ERROR(Begin('W', offset, data.size()));
    ForEachPiece(offset, data.size(), [&](uint64_t page, size_t in_page, size_t done, size_t n) {
      std::span<const std::byte> piece = data.subspan(done, n);
      auto it = pages_.find(page);
      if (it == pages_.end()) {
        if (std::all_of(piece.begin(), piece.end(),
                        [](std::byte b) { return b == std::byte{0}; })) {
          return;  // zeros over an absent page: nothing to store
        }
        it = pages_.emplace(page, Page{}).first;
      }
      std::copy(piece.begin(), piece.end(), it->second.begin() + in_page);
    });
    return Status::Ok();
  }

  Status Flush() override { return Begin('F', 0, 0); }
  PersistenceMode persistence_mode() const override { return PersistenceMode::kVolatile; }
  std::string Describe() const override { return "sparse test device"; }

  // Fail the n-th operation from now (1-based) with kIoError.
  void FailOperation(uint64_t n) { fail_at_ = operations_.size() + n; }
  const std::vector<Operation>& operations() const { return operations_; }
  size_t stored_pages() const { return pages_.size(); }

  Block ReadBlockOrDie(uint64_t block_number) {
    Block block;
    EXPECT_TRUE(Read(block_number * kBlockSize, block).ok());
    return block;
  }

 private:
  using Page = std::array<std::byte, kBlockSize>;

  Status Begin(char kind, uint64_t offset, uint64_t length) {
    operations_.push_back({kind, offset, length});
    if (operations_.size() == fail_at_) return IoError("injected fault");
    if (offset > size_bytes_ || length > size_bytes_ - offset) {
      return InvalidArgument("past the end of the test device");
    }
    return Status::Ok();
  }
  // Calls fn(page, offset_in_page, bytes_done, length) for each page-sized
  // piece of [offset, offset + length).
  template <typename Fn>
  static void ForEachPiece(uint64_t offset, size_t length, Fn fn) {
    for (size_t done = 0; done < length;) {
      const uint64_t at = offset + done;
      const size_t in_page = at % kBlockSize;
      const size_t n = std::min<size_t>(length - done, kBlockSize - in_page);
      fn(at / kBlockSize, in_page, done, n);
      done += n;
    }
  }

  uint64_t size_bytes_;
  std::map<uint64_t, Page> pages_;
  std::vector<Operation> operations_;
  uint64_t fail_at_ = 0;
};

// Recomputes only the crc32c of a block whose bytes a test changed, so the
// damage reaches the decoder's field checks instead of the checksum check.
inline void Reseal(Block& block) {
  EncodeFixed32(block.data() + internal::kHeaderCrcOffset, internal::ComputeBlockCrc(block));
}

inline void Put32(Block& block, size_t offset, uint32_t value) {
  EncodeFixed32(block.data() + offset, value);
  Reseal(block);
}
inline void Put64(Block& block, size_t offset, uint64_t value) {
  EncodeFixed64(block.data() + offset, value);
  Reseal(block);
}

// Asserts a kCorruption whose message contains `text`.
inline ::testing::AssertionResult IsCorruption(const Status& status, const std::string& text) {
  if (status.code() != Code::kCorruption) {
    return ::testing::AssertionFailure() << "expected corruption, got " << status.ToString();
  }
  if (status.message().find(text) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message \"" << status.message() << "\" lacks \"" << text << "\"";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mdfs::format::testing

#endif  // MDFS_SRC_FORMAT_FORMAT_TEST_UTIL_H_
