// Shared by the lease tests: a file system on a memory device with a
// LeaseManager, and holders that behave as real in-process holders do.
#ifndef MDFS_SRC_LEASE_LEASE_TEST_UTIL_H_
#define MDFS_SRC_LEASE_LEASE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "lease/leases.h"
#include "mdfs/file_system.h"
#include "mdfs/lease.h"

namespace mdfs::lease_test {

inline constexpr uint64_t kMiB = 1 << 20;

// A holder that records its callbacks; releases inside OnRecall unless
// told to defer (then the test releases it, like an asynchronous holder).
class RecordingHolder : public LayoutHolder {
 public:
  explicit RecordingHolder(std::string name, bool release_on_recall = true)
      : name_(std::move(name)), release_on_recall_(release_on_recall) {
    Live().insert(this);
  }
  // A holder that goes away releases its layouts (holder death).
  ~RecordingHolder() override {
    Live().erase(this);
    if (manager_ != nullptr) manager_->ReleaseHolder(this);
  }
  // Every holder alive, so a fixture can detach them before its manager goes.
  static std::set<RecordingHolder*>& Live() {
    static std::set<RecordingHolder*> live;
    return live;
  }
  void set_manager(LeaseManager* manager) { manager_ = manager; }
  void OnRecall(const LayoutInfo& layout) override {
    Log("recall " + std::to_string(layout.offset));
    recalls.fetch_add(1);
    if (release_on_recall_) {
      EXPECT_TRUE(manager_->Release(layout.id).ok());
    }
  }
  void OnRevoke(const LayoutInfo& layout) override {
    Log("revoke " + std::to_string(layout.offset));
    revokes.fetch_add(1);
  }
  std::string Describe() const override { return "test holder " + name_; }
  void Log(const std::string& event) {
    std::lock_guard lock(mu_);
    events.push_back(name_ + ": " + event);
    if (shared_log != nullptr) shared_log->push_back(name_ + ": " + event);
  }

  std::atomic<int> recalls{0}, revokes{0};
  std::vector<std::string> events;
  std::vector<std::string>* shared_log = nullptr;  // guarded by the test's sequencing

 private:
  std::string name_;
  bool release_on_recall_;
  LeaseManager* manager_ = nullptr;
  std::mutex mu_;
};

class LeaseTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(1000); }
  // Before the holders (members of derived fixtures) go away.
  void TearDown() override {
    for (RecordingHolder* holder : RecordingHolder::Live()) {
      if (leases_ != nullptr) leases_->ReleaseHolder(holder);
      holder->set_manager(nullptr);
    }
    leases_.reset();
    fs_.reset();
  }
  void Start(uint64_t break_time_ms) {
    leases_.reset();
    fs_.reset();
    auto device = CreateMemoryDevice(128 * kMiB);
    ASSERT_TRUE(device.ok());
    device_ = std::move(device).value();
    FormatOptions format;
    format.lease_break_time_ms = break_time_ms;
    ASSERT_TRUE(FileSystem::Format(device_.get(), format).ok());
    auto fs = FileSystem::Open(device_.get());
    ASSERT_TRUE(fs.ok());
    fs_ = std::move(fs).value();
    LeaseOptions options;
    options.clock = &clock_;
    auto leases = LeaseManager::Attach(fs_.get(), options);
    ASSERT_TRUE(leases.ok());
    leases_ = std::move(leases).value();
  }
  // A regular file of `size` bytes, every block written.
  InodeNumber MakeFile(const std::string& name, uint64_t size) {
    auto file = fs_->Create(kRootInode, name, 0644);
    EXPECT_TRUE(file.ok());
    std::vector<std::byte> data(size, std::byte{'d'});
    EXPECT_TRUE(fs_->Write(file->ino, 0, data).ok());
    return file->ino;
  }
  // Grants a layout the way MapDirect does: inside PrepareDirectAccess.
  Result<LayoutId> Grant(RecordingHolder& holder, InodeNumber ino, uint64_t offset, uint64_t length,
                         LayoutMode mode = LayoutMode::kReadWrite) {
    holder.set_manager(leases_.get());
    LayoutId id = 0;
    Status status = GateOf(fs_.get())->PrepareDirectAccess(
        ino, offset, length, 0, [&](const Attributes&, const std::vector<ExtentInfo>&) -> Status {
          MDFS_ASSIGN_OR_RETURN(id, leases_->GrantLocked(&holder, ino, offset, length, mode));
          return Status::Ok();
        });
    if (!status.ok()) return status;
    return id;
  }
  LayoutState StateOf(LayoutId id) {
    for (const LayoutInfo& info : leases_->ListLayouts()) {
      if (info.id == id) return info.state;
    }
    return LayoutState::kReleased;  // gone (released or revoked)
  }

  ManualClock clock_;
  std::unique_ptr<Device> device_;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<LeaseManager> leases_;
};

}  // namespace mdfs::lease_test

#endif  // MDFS_SRC_LEASE_LEASE_TEST_UTIL_H_
