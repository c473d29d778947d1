#include "engine/extent_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace mdfs {
namespace {

TEST(ExtentMap, InsertMergesContiguousNeighbours) {
  ExtentMap map;
  map.Insert({0, 100, 2, false});
  map.Insert({2, 102, 3, false});
  EXPECT_EQ(map.extent_count(), 1u);
  map.Insert({5, 200, 1, false});  // not contiguous on the device
  EXPECT_EQ(map.extent_count(), 2u);
  map.Insert({6, 201, 1, true});  // different state
  EXPECT_EQ(map.extent_count(), 3u);
}

TEST(ExtentMap, PiecesSplitHolesAndExtents) {
  ExtentMap map;
  map.Insert({2, 50, 2, false});
  auto pieces = map.Pieces(0, 6);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_FALSE(pieces[0].mapped);
  EXPECT_EQ(pieces[0].count, 2u);
  EXPECT_TRUE(pieces[1].mapped);
  EXPECT_EQ(pieces[1].device_block, 50u);
  EXPECT_FALSE(pieces[2].mapped);
  EXPECT_EQ(pieces[2].file_block, 4u);
}

TEST(ExtentMap, RemoveSplitsAndReturnsDeviceRuns) {
  ExtentMap map;
  map.Insert({0, 100, 10, false});
  auto removed = map.Remove(3, 5);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].device_block, 103u);
  EXPECT_EQ(removed[0].count, 2u);
  EXPECT_EQ(map.extent_count(), 2u);
  EXPECT_EQ(map.mapped_blocks(), 8u);
}

TEST(ExtentMap, MarkWrittenMergesBackToOneExtent) {
  ExtentMap map;
  map.Insert({0, 100, 8, true});
  map.MarkWritten(2, 4);
  EXPECT_EQ(map.extent_count(), 3u);
  map.MarkWritten(0, 2);
  map.MarkWritten(4, 8);
  EXPECT_EQ(map.extent_count(), 1u);
  EXPECT_FALSE(map.extents().begin()->second.unwritten);
}

TEST(ExtentMap, ShiftDownAndUp) {
  ExtentMap map;
  map.Insert({0, 100, 2, false});
  map.Insert({4, 104, 2, false});
  map.ShiftDown(4, 2);  // collapse blocks 2..3 (a hole)
  // File blocks 0..3 now, but device 100..101 and 104..105: still two extents.
  EXPECT_EQ(map.extent_count(), 2u);
  EXPECT_EQ(map.Pieces(0, 4).size(), 2u);
  map.SplitAt(1);
  map.ShiftUp(1, 3);
  auto pieces = map.Pieces(0, 8);
  ASSERT_GE(pieces.size(), 3u);
  EXPECT_TRUE(pieces[0].mapped);
  EXPECT_FALSE(pieces[1].mapped);
  EXPECT_EQ(pieces[1].count, 3u);
}

TEST(ExtentMap, FromRecordsRejectsOverlap) {
  std::vector<format::ExtentRecord> records = {{0, 10, 4, 0}, {2, 20, 1, 0}};
  EXPECT_EQ(ExtentMap::FromRecords(records).status().code(), Code::kCorruption);
}

// Random operations against a block-by-block model: after each one the
// invariants hold and every file block maps where the model says.
TEST(ExtentMap, RandomOperationsKeepTheInvariantsAndMatchABlockModel) {
  struct Block {
    uint64_t device;
    bool unwritten;
  };
  std::mt19937_64 random(7);
  ExtentMap map;
  std::map<uint64_t, Block> model;  // file block -> where it maps
  uint64_t next_device = 1000;
  auto pick = [&](uint64_t n) { return random() % n; };
  for (int step = 0; step < 5000; ++step) {
    const uint64_t begin = pick(200), end = begin + 1 + pick(40);
    switch (pick(5)) {
      case 0:  // insert into the holes of [begin, end)
        for (const MapPiece& piece : map.Pieces(begin, end)) {
          if (piece.mapped) continue;
          const bool unwritten = pick(2);
          map.Insert({piece.file_block, next_device, piece.count, unwritten});
          for (uint64_t i = 0; i < piece.count; ++i) {
            model[piece.file_block + i] = {next_device + i, unwritten};
          }
          next_device += piece.count + pick(2);  // sometimes contiguous on the device
        }
        break;
      case 1:
        map.Remove(begin, end);
        for (uint64_t b = begin; b < end; ++b) model.erase(b);
        break;
      case 2:
        map.MarkUnwritten(begin, end);
        for (uint64_t b = begin; b < end; ++b) {
          if (model.count(b)) model[b].unwritten = true;
        }
        break;
      case 3:
        map.SplitAt(begin);
        break;
      case 4: {
        bool fully_mapped = true;
        for (uint64_t b = begin; b < end; ++b) fully_mapped = fully_mapped && model.count(b);
        if (!fully_mapped) break;
        map.MarkWritten(begin, end);
        for (uint64_t b = begin; b < end; ++b) model[b].unwritten = false;
        break;
      }
    }
    ASSERT_EQ(map.CheckInvariants(), "") << "step " << step;
    uint64_t mapped = 0;
    for (const MapPiece& piece : map.Pieces(0, 260)) {
      for (uint64_t i = 0; i < piece.count; ++i) {
        const uint64_t b = piece.file_block + i;
        ASSERT_EQ(piece.mapped, model.count(b) == 1) << "step " << step << " block " << b;
        if (!piece.mapped) continue;
        ++mapped;
        ASSERT_EQ(piece.device_block + i, model[b].device) << "step " << step << " block " << b;
        ASSERT_EQ(piece.unwritten, model[b].unwritten) << "step " << step << " block " << b;
      }
    }
    ASSERT_EQ(mapped, model.size());
    ASSERT_EQ(map.mapped_blocks(), model.size());
  }
}

}  // namespace
}  // namespace mdfs
