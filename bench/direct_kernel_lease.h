// The kernel's own lease-break round trip, the baseline of the recall
// tables: `count` child processes each hold a read lease (fcntl F_SETLEASE
// F_RDLCK) on one host file and give it back (F_SETLEASE F_UNLCK) as soon as
// the kernel's lease-break signal reaches them; the parent breaks the leases
// with open(O_WRONLY), which blocks until every lease is gone.
//
// Each child: open(path, O_RDONLY); F_SETSIG SIGIO (so the signal carries
// si_fd); F_SETOWN to itself; SIGIO blocked and taken with sigwaitinfo. It
// takes its lease when the parent asks (a byte on a pipe) and acknowledges,
// so every sample starts with all `count` leases held. The children run only
// async-signal-safe calls after fork and die with the parent
// (PR_SET_PDEATHSIG).
//
// Leases need the caller to own the file or CAP_LEASE, and a read lease needs
// the file not to be open for writing anywhere (so the caller must not keep a
// writable descriptor of `path` open). A holder that does not answer is
// revoked by the kernel after /proc/sys/fs/lease-break-time seconds.
#ifndef MDFS_BENCH_DIRECT_KERNEL_LEASE_H_
#define MDFS_BENCH_DIRECT_KERNEL_LEASE_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace mdfs::bench::direct {

class KernelLeaseHolders {
 public:
  // Forks `count` holders (count may be 0: Break then times a plain open).
  KernelLeaseHolders(const std::string& path, int count);
  // Kills and reaps the children.
  ~KernelLeaseHolders();
  KernelLeaseHolders(const KernelLeaseHolders&) = delete;
  KernelLeaseHolders& operator=(const KernelLeaseHolders&) = delete;

  // Every child takes its read lease; returns once all of them hold one.
  // Fails the run if a child's F_SETLEASE fails.
  void Acquire();
  // Times open(path, O_WRONLY), which returns once every lease was released;
  // closes the descriptor (untimed). Returns the open's time in ns.
  double Break();
  int count() const { return static_cast<int>(children_.size()); }

 private:
  struct Child {
    pid_t pid = -1;
    int command_fd = -1;  // parent writes 'l' (take the lease)
    int ack_fd = -1;      // child answers one byte: 0, or the errno of F_SETLEASE
  };
  std::string path_;
  std::vector<Child> children_;
};

// Leases on `path` listed in /proc/locks right now (any holder).
int CountLeasesInProcLocks(const std::string& path);

}  // namespace mdfs::bench::direct

#endif  // MDFS_BENCH_DIRECT_KERNEL_LEASE_H_
