#include "engine/extent_map.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mdfs
