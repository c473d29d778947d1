#include "engine/block_map_gate.h"
#include "engine/break_gate.h"

#include <string>

namespace mdfs {

namespace {
thread_local OperationBreak* current_operation = nullptr;
}  // namespace

OperationBreak::OperationBreak() : previous_(current_operation) { current_operation = this; }

OperationBreak::~OperationBreak() {
  current_operation = previous_;
  if (listener_ != nullptr && id_ != 0) listener_->EndBlockMapChange(id_);
}

OperationBreak* OperationBreak::Current() { return current_operation; }

Status OperationBreak::Begin(BlockMapListener* listener, const BlockMapChange& change) {
  if (listener_ != nullptr && listener_ != listener) {
    // The listener was replaced between two attempts: end the old registration.
    listener_->EndBlockMapChange(id_);
    id_ = 0;
  }
  listener_ = listener;
  MDFS_ASSIGN_OR_RETURN(BreakTicket ticket, listener->BeginBlockMapChange(change, id_));
  id_ = ticket.id;
  if (!ticket.must_wait) return Status::Ok();
  must_wait_ = true;
  return WouldBlock("inode " + std::to_string(change.ino) + ": layouts or pins on the range are being recalled");
}

Status OperationBreak::Wait() {
  must_wait_ = false;
  return listener_->WaitForBreak(id_);
}

const char* BlockMapChangeKindName(BlockMapChangeKind kind) {
  switch (kind) {
    case BlockMapChangeKind::kWriteAllocate: return "write-allocate";
    case BlockMapChangeKind::kTruncate: return "truncate";
    case BlockMapChangeKind::kFallocate: return "fallocate";
    case BlockMapChangeKind::kPunchHole: return "punch-hole";
    case BlockMapChangeKind::kZeroRange: return "zero-range";
    case BlockMapChangeKind::kCollapseRange: return "collapse-range";
    case BlockMapChangeKind::kInsertRange: return "insert-range";
    case BlockMapChangeKind::kFreeInode: return "free-inode";
    case BlockMapChangeKind::kSeal: return "seal";
    case BlockMapChangeKind::kUnseal: return "unseal";
    case BlockMapChangeKind::kDirectAccess: return "direct-access";
  }
  return "unknown";
}

}  // namespace mdfs
