#include <string>

#include "gtest/gtest.h"
#include "mdfs/device.h"

namespace mdfs {
namespace {

TEST(PersistenceMode, NamesAreStable) {
  EXPECT_EQ(std::string(PersistenceModeName(PersistenceMode::kCpuCache)), "cpu-cache");
  EXPECT_EQ(std::string(PersistenceModeName(PersistenceMode::kMsync)), "msync");
  EXPECT_EQ(std::string(PersistenceModeName(PersistenceMode::kFdatasync)), "fdatasync");
  EXPECT_EQ(std::string(PersistenceModeName(PersistenceMode::kVolatile)), "volatile");
}

TEST(PersistenceMode, ValuesAreFrozen) {
  EXPECT_EQ(static_cast<int>(PersistenceMode::kCpuCache), 0);
  EXPECT_EQ(static_cast<int>(PersistenceMode::kMsync), 1);
  EXPECT_EQ(static_cast<int>(PersistenceMode::kFdatasync), 2);
  EXPECT_EQ(static_cast<int>(PersistenceMode::kVolatile), 3);
}

}  // namespace
}  // namespace mdfs
