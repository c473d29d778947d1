// Facts about the machine that the benchmarks print in their headers, so a
// figure can be read next to the load and the file system it ran on.
#ifndef MDFS_BENCH_HOST_INFO_H_
#define MDFS_BENCH_HOST_INFO_H_

#include <string>

namespace mdfs::bench {

std::string LoadAverage();                                            // "0.52 0.40 0.31"
std::string FirstLineWith(const char* path, const std::string& key);  // /proc/cpuinfo etc.
// "ext4 /dev/vda on /": the mount that holds `dir`, from /proc/self/mounts.
std::string MountOf(const std::string& dir);
std::string ReadFirstLine(const char* path);  // "" if unreadable

}  // namespace mdfs::bench

#endif  // MDFS_BENCH_HOST_INFO_H_
