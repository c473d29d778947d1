// CheckFileSystem: runs the fsck passes (checker.h) in order.
#include "mdfs/fsck.h"

#include "fsck/checker.h"

namespace mdfs {

Result<FsckReport> CheckFileSystem(Device* device) {
  fsck::Context ctx;
  ctx.device = device;
  MDFS_RETURN_IF_ERROR(fsck::CheckSuperblocks(ctx));
  // The journal first: every later pass reads through its overlay.
  fsck::CheckJournal(ctx);
  fsck::CheckBitmap(ctx);
  fsck::ScanInodes(ctx);
  fsck::CheckExtentMaps(ctx);
  fsck::CheckOwnership(ctx);
  fsck::CheckDirectories(ctx);
  fsck::CheckNamespace(ctx);
  return std::move(ctx.report);
}

}  // namespace mdfs
