// mdfs get -r IMAGE PATH DIR: copy a directory tree out of the image,
// everything that can be read, on sound and damaged images alike.
#ifndef MDFS_TOOLS_GET_TREE_H_
#define MDFS_TOOLS_GET_TREE_H_

#include <string>

#include "command.h"

namespace mdfs::cli {

struct GetTreeArgs {
  std::string image;
  std::string path;       // the directory in the image
  std::string directory;  // DIR on the host
  bool json = false;
};

// Copies the tree at `args.path` into `args.directory` (doc/cli.md, "get
// -r"). Each object that cannot be read or written is one error line on
// stderr and the walk goes on; a summary (or with --json one object) goes
// to stdout. Returns 0 when everything was copied, 1 when anything was
// not (or nothing could start: the image, PATH or DIR), 2 for DIR '-'.
int RunGetTree(const GetTreeArgs& args, const GlobalOptions& globals);

}  // namespace mdfs::cli

#endif  // MDFS_TOOLS_GET_TREE_H_
