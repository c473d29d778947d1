// The permission matrix: every operation, by the owner, a group member,
// another user and root, over many mode bits (sticky and setgid
// directories, setuid files included), done on mdfs through a session with
// those credentials and on a tmpfs directory (/dev/shm) by a real child
// process that setgroups/setgid/setuid to the same ids. The errno and, on
// success, the resulting owner, group and mode must be the same.
//
// Needs root (the children switch uid) and a tmpfs at /dev/shm; skipped
// otherwise, saying why. fs.protected_hardlinks is read from /proc: mdfs
// implements the value 1 (Debian's default), so link cases are compared only
// when the machine has it.
#include <dirent.h>
#include <grp.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "session/session_test_util.h"

namespace mdfs::session_test {
namespace {

struct Actor {
  const char* name;
  Credentials credentials;
};

const std::vector<Actor>& Actors() {
  static const std::vector<Actor> actors = {
      {"owner", User(1000, 1000, {3000})},
      {"member", User(1001, 1001, {2000})},
      {"other", User(1002, 1002)},
      {"root", User(0, 0)},
  };
  return actors;
}

// What each case operates on, under a fresh base directory (0755, root):
//   d    directory, 1000:2000, the case's directory mode
//   d/f  file "data", 1000:2000, the case's file mode
//   d/g  file, 1001:1001, 0666 (someone else's, for sticky directories)
//   d/s  empty directory, 1000:2000, 0755
enum class Op {
  kOpenRead,
  kOpenWrite,
  kOpenReadWrite,
  kOpenTrunc,
  kWrite,
  kCreate,
  kCreateSetgid,
  kMkdir,
  kLookup,
  kReadDirectory,
  kUnlink,
  kUnlinkOthers,
  kRmdir,
  kRename,
  kRenameOthers,
  kRenameDirectoryOut,
  kChmod,
  kChownToUser,
  kChownToOwnGroup,
  kChownTo3000,
  kUtimesExplicit,
  kUtimesNow,
  kTruncate,
  kLink,
  kSymlink,
  kUnlinkMissing,
  kMkdirExisting,
  kSymlinkExisting,
};
const char* OpName(Op op) {
  static const char* names[] = {
      "open O_RDONLY",   "open O_WRONLY",  "open O_RDWR",        "open O_WRONLY|O_TRUNC",
      "write",           "create 0644",    "create 02755",       "mkdir",
      "stat d/f",        "readdir d",      "unlink d/f",         "unlink d/g",
      "rmdir d/s",       "rename d/f d/h", "rename d/g d/h",     "rename d/s ../s2",
      "chmod 02755",     "chown uid",      "chown own gid",      "chown :3000",
      "utimes explicit", "utimes now",     "truncate",           "link d/f d/l",
      "symlink d/sl",    "unlink d/none",  "mkdir d/s (exists)", "symlink d/f (exists)"};
  return names[static_cast<int>(op)];
}
// The object whose owner, group and mode are compared after a success.
const char* ResultPath(Op op) {
  switch (op) {
    case Op::kCreate:
    case Op::kCreateSetgid:
      return "d/new";
    case Op::kMkdir:
      return "d/newdir";
    case Op::kRename:
      return "d/h";
    default:
      return "d/f";
  }
}

struct Outcome {
  int error = 0;  // errno, 0 on success
  uint32_t mode = 0, uid = 0, gid = 0;
  bool operator==(const Outcome&) const = default;
};
std::string Describe(const Outcome& o) {
  char text[96];
  std::snprintf(text, sizeof(text), "errno %d (%s), mode %04o, %u:%u", o.error,
                o.error ? std::strerror(o.error) : "ok", o.mode & 07777, o.uid, o.gid);
  return text;
}

// ---- tmpfs, by real processes

int RunAs(const Credentials& who, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<gid_t> groups(who.groups.begin(), who.groups.end());
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(who.gid) != 0 ||
        ::setuid(who.uid) != 0) {
      ::_exit(255);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 254;
}

int Errno(int result) { return result < 0 ? errno : 0; }

int TmpfsOp(Op op, const std::string& base, const Credentials& who) {
  auto at = [&](const char* p) { return base + "/" + p; };
  auto open_close = [&](const char* p, int flags) {
    int fd = ::open(at(p).c_str(), flags, 0644);
    if (fd < 0) return errno;
    ::close(fd);
    return 0;
  };
  switch (op) {
    case Op::kOpenRead:
      return open_close("d/f", O_RDONLY);
    case Op::kOpenWrite:
      return open_close("d/f", O_WRONLY);
    case Op::kOpenReadWrite:
      return open_close("d/f", O_RDWR);
    case Op::kOpenTrunc:
      return open_close("d/f", O_WRONLY | O_TRUNC);
    case Op::kWrite: {
      int fd = ::open(at("d/f").c_str(), O_WRONLY);
      if (fd < 0) return errno;
      int e = Errno(static_cast<int>(::write(fd, "w", 1)));
      ::close(fd);
      return e;
    }
    case Op::kCreate:
      return open_close("d/new", O_CREAT | O_EXCL | O_WRONLY);
    case Op::kCreateSetgid: {
      int fd = ::open(at("d/new").c_str(), O_CREAT | O_EXCL | O_WRONLY, 02755);
      if (fd < 0) return errno;
      ::close(fd);
      return 0;
    }
    case Op::kMkdir:
      return Errno(::mkdir(at("d/newdir").c_str(), 0755));
    case Op::kLookup: {
      struct stat st {};
      return Errno(::lstat(at("d/f").c_str(), &st));
    }
    case Op::kReadDirectory: {
      DIR* dir = ::opendir(at("d").c_str());
      if (dir == nullptr) return errno;
      ::closedir(dir);
      return 0;
    }
    case Op::kUnlink:
      return Errno(::unlink(at("d/f").c_str()));
    case Op::kUnlinkOthers:
      return Errno(::unlink(at("d/g").c_str()));
    case Op::kRmdir:
      return Errno(::rmdir(at("d/s").c_str()));
    case Op::kRename:
      return Errno(::rename(at("d/f").c_str(), at("d/h").c_str()));
    case Op::kRenameOthers:
      return Errno(::rename(at("d/g").c_str(), at("d/h").c_str()));
    case Op::kRenameDirectoryOut:
      return Errno(::rename(at("d/s").c_str(), at("s2").c_str()));
    case Op::kChmod:
      return Errno(::chmod(at("d/f").c_str(), 02755));
    case Op::kChownToUser:
      return Errno(::chown(at("d/f").c_str(), who.uid, -1));
    case Op::kChownToOwnGroup:
      return Errno(::chown(at("d/f").c_str(), -1, who.gid));
    case Op::kChownTo3000:
      return Errno(::chown(at("d/f").c_str(), -1, 3000));
    case Op::kUtimesExplicit: {
      struct timespec times[2] = {{1, 0}, {2, 0}};
      return Errno(::utimensat(AT_FDCWD, at("d/f").c_str(), times, 0));
    }
    case Op::kUtimesNow:
      return Errno(::utimensat(AT_FDCWD, at("d/f").c_str(), nullptr, 0));
    case Op::kTruncate:
      return Errno(::truncate(at("d/f").c_str(), 0));
    case Op::kLink:
      return Errno(::link(at("d/f").c_str(), at("d/l").c_str()));
    case Op::kSymlink:
      return Errno(::symlink("f", at("d/sl").c_str()));
    case Op::kUnlinkMissing:
      return Errno(::unlink(at("d/none").c_str()));
    case Op::kMkdirExisting:
      return Errno(::mkdir(at("d/s").c_str(), 0755));
    case Op::kSymlinkExisting:
      return Errno(::symlink("x", at("d/f").c_str()));
  }
  return EINVAL;
}

void TmpfsSetup(const std::string& base, uint32_t dir_mode, uint32_t file_mode) {
  auto make = [&](const std::string& path, bool dir, uint32_t mode, uid_t uid, gid_t gid) {
    if (dir) {
      ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
    } else {
      std::ofstream(path) << "data";
    }
    ASSERT_EQ(::chown(path.c_str(), uid, gid), 0) << path;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
  };
  make(base, true, 0755, 0, 0);
  make(base + "/d", true, 0700, 1000, 2000);
  make(base + "/d/f", false, file_mode, 1000, 2000);
  make(base + "/d/g", false, 0666, 1001, 1001);
  make(base + "/d/s", true, 0755, 1000, 2000);
  ASSERT_EQ(::chmod((base + "/d").c_str(), dir_mode), 0);
}

Outcome TmpfsCase(const std::string& base, Op op, const Actor& actor, uint32_t dir_mode,
                  uint32_t file_mode) {
  TmpfsSetup(base, dir_mode, file_mode);
  Outcome outcome;
  outcome.error = RunAs(actor.credentials, [&] { return TmpfsOp(op, base, actor.credentials); });
  struct stat st {};
  if (outcome.error == 0 && ::lstat((base + "/" + ResultPath(op)).c_str(), &st) == 0) {
    outcome.mode = st.st_mode;
    outcome.uid = st.st_uid;
    outcome.gid = st.st_gid;
  }
  std::filesystem::remove_all(base);
  return outcome;
}

// ---- mdfs, through a session with the same credentials

class PermissionMatrixTest : public SessionTest {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "needs root: the tmpfs side runs children as other uids";
    struct statfs fs {};
    if (::statfs("/dev/shm", &fs) != 0 || fs.f_type != TMPFS_MAGIC) {
      GTEST_SKIP() << "needs a tmpfs at /dev/shm to compare with";
    }
    std::ifstream("/proc/sys/fs/protected_hardlinks") >> protected_hardlinks_;
    char pattern[] = "/dev/shm/mdfs-permissions-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    tmpfs_root_ = pattern;
    ASSERT_EQ(::chmod(pattern, 0755), 0);  // mkdtemp makes it 0700: the actors walk through it
    SessionTest::SetUp();
  }
  void TearDown() override {
    if (!tmpfs_root_.empty()) std::filesystem::remove_all(tmpfs_root_);
  }

  Attributes MakeNode(const std::string& path, bool dir, uint32_t mode, uint32_t uid,
                      uint32_t gid) {
    auto parent = session_->Resolve(std::filesystem::path(path).parent_path().string());
    EXPECT_TRUE(parent.ok()) << path;
    const std::string name = std::filesystem::path(path).filename();
    Result<Attributes> made =
        dir ? session_->Mkdir(Handle::Of(*parent), name, 0700) : Result<Attributes>(NotFound(""));
    if (!dir) {
      auto file = session_->Open(Handle::Of(*parent), name, O_WRONLY | O_CREAT, 0600);
      EXPECT_TRUE(file.ok()) << path;
      EXPECT_TRUE((*file)->Write(0, Bytes("data")).ok());
      made = (*file)->Stat();
    }
    EXPECT_TRUE(made.ok()) << path << ": " << made.status().ToString();
    SetAttributesRequest request;
    request.mask = kSetUid | kSetGid;
    request.uid = uid;
    request.gid = gid;
    EXPECT_TRUE(session_->SetAttributes(Handle::Of(*made), request).ok());
    request.mask = kSetMode;
    request.mode = mode;
    auto done = session_->SetAttributes(Handle::Of(*made), request);
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return *done;
  }

  Outcome MdfsCase(Op op, const Actor& actor, uint32_t dir_mode, uint32_t file_mode) {
    const std::string base = "/case" + std::to_string(++cases_);
    MakeNode(base, true, 0755, 0, 0);
    Attributes d = MakeNode(base + "/d", true, 0700, 1000, 2000);
    MakeNode(base + "/d/f", false, file_mode, 1000, 2000);
    MakeNode(base + "/d/g", false, 0666, 1001, 1001);
    MakeNode(base + "/d/s", true, 0755, 1000, 2000);
    SetAttributesRequest chmod;
    chmod.mask = kSetMode;
    chmod.mode = dir_mode;
    EXPECT_TRUE(session_->SetAttributes(Handle::Of(d), chmod).ok());
    auto session = OpenSession(actor.credentials);
    Outcome outcome;
    outcome.error = MdfsOp(*session, op, base, actor.credentials).ToErrno();
    if (outcome.error == 0) {
      auto result = session_->Resolve(base + "/" + ResultPath(op), false);
      if (result.ok()) {
        outcome.mode = result->mode;
        outcome.uid = result->uid;
        outcome.gid = result->gid;
      }
    }
    return outcome;
  }

  static Status MdfsOp(Session& s, Op op, const std::string& base, const Credentials& who) {
    auto at = [&](const char* p) { return base + "/" + p; };
    auto open_close = [&](const char* p, int flags, uint32_t mode = 0644) {
      return s.OpenPath(at(p), flags, mode).status();
    };
    auto handle = [&](const char* p) -> Result<Handle> {
      MDFS_ASSIGN_OR_RETURN(Attributes a, s.Resolve(at(p), false));
      return Handle::Of(a);
    };
    auto set = [&](const char* p, SetAttributesRequest request) -> Status {
      MDFS_ASSIGN_OR_RETURN(Handle h, handle(p));
      return s.SetAttributes(h, request).status();
    };
    SetAttributesRequest request;
    switch (op) {
      case Op::kOpenRead:
        return open_close("d/f", O_RDONLY);
      case Op::kOpenWrite:
        return open_close("d/f", O_WRONLY);
      case Op::kOpenReadWrite:
        return open_close("d/f", O_RDWR);
      case Op::kOpenTrunc:
        return open_close("d/f", O_WRONLY | O_TRUNC);
      case Op::kWrite: {
        MDFS_ASSIGN_OR_RETURN(std::unique_ptr<File> file, s.OpenPath(at("d/f"), O_WRONLY, 0));
        return file->Write(0, Bytes("w")).status();
      }
      case Op::kCreate:
        return open_close("d/new", O_CREAT | O_EXCL | O_WRONLY);
      case Op::kCreateSetgid:
        return open_close("d/new", O_CREAT | O_EXCL | O_WRONLY, 02755);
      case Op::kMkdir: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Mkdir(d, "newdir", 0755).status();
      }
      case Op::kLookup:
        return s.Resolve(at("d/f"), false).status();
      case Op::kReadDirectory: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.ReadDirectory(d).status();
      }
      case Op::kUnlink:
      case Op::kUnlinkOthers:
      case Op::kRmdir: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        if (op == Op::kRmdir) return s.Rmdir(d, "s");
        return s.Unlink(d, op == Op::kUnlink ? "f" : "g");
      }
      case Op::kRename:
      case Op::kRenameOthers: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Rename(d, op == Op::kRename ? "f" : "g", d, "h");
      }
      case Op::kRenameDirectoryOut: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        MDFS_ASSIGN_OR_RETURN(Attributes b, s.Resolve(base));
        return s.Rename(d, "s", Handle::Of(b), "s2");
      }
      case Op::kChmod:
        request.mask = kSetMode, request.mode = 02755;
        return set("d/f", request);
      case Op::kChownToUser:
        request.mask = kSetUid, request.uid = who.uid;
        return set("d/f", request);
      case Op::kChownToOwnGroup:
        request.mask = kSetGid, request.gid = who.gid;
        return set("d/f", request);
      case Op::kChownTo3000:
        request.mask = kSetGid, request.gid = 3000;
        return set("d/f", request);
      case Op::kUtimesExplicit:
        request.mask = kSetAtime | kSetMtime;
        request.atime.ns = 1'000'000'000;
        request.mtime.ns = 2'000'000'000;
        return set("d/f", request);
      case Op::kUtimesNow:
        request.mask = kSetAtimeNow | kSetMtimeNow;
        return set("d/f", request);
      case Op::kTruncate:
        request.mask = kSetSize, request.size = 0;
        return set("d/f", request);
      case Op::kLink: {
        MDFS_ASSIGN_OR_RETURN(Handle f, handle("d/f"));
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Link(f, d, "l").status();
      }
      case Op::kSymlink: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Symlink(d, "sl", "f").status();
      }
      case Op::kUnlinkMissing: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Unlink(d, "none");
      }
      case Op::kMkdirExisting: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Mkdir(d, "s", 0755).status();
      }
      case Op::kSymlinkExisting: {
        MDFS_ASSIGN_OR_RETURN(Handle d, handle("d"));
        return s.Symlink(d, "f", "x").status();
      }
    }
    return InvalidArgument("op");
  }

  // Runs `op` for every actor over the modes; returns the mismatches.
  int Compare(Op op, const std::vector<uint32_t>& dir_modes,
              const std::vector<uint32_t>& file_modes) {
    int mismatches = 0;
    for (const Actor& actor : Actors()) {
      for (uint32_t dir_mode : dir_modes) {
        for (uint32_t file_mode : file_modes) {
          Outcome tmpfs = TmpfsCase(tmpfs_root_ + "/c", op, actor, dir_mode, file_mode);
          Outcome mdfs = MdfsCase(op, actor, dir_mode, file_mode);
          ++compared_;
          if (tmpfs == mdfs) continue;
          ++mismatches;
          ADD_FAILURE() << OpName(op) << " by " << actor.name << ", d " << std::oct << dir_mode
                        << " f " << file_mode << std::dec << ": tmpfs " << Describe(tmpfs)
                        << ", mdfs " << Describe(mdfs);
        }
      }
    }
    return mismatches;
  }

  std::string tmpfs_root_;
  int protected_hardlinks_ = -1;
  int cases_ = 0;
  int compared_ = 0;
};

const std::vector<uint32_t> kFileModes = {0644, 0600, 0060,  0006,  0444,  0222,
                                          0000, 0666, 06755, 06777, 02755, 04711};
const std::vector<uint32_t> kDirModes = {0755, 0700, 0070,  0007,  0300,  0500,
                                         0600, 0777, 01777, 02777, 03777, 0711};

TEST_F(PermissionMatrixTest, FileOperationsMatchTmpfs) {
  for (Op op : {Op::kOpenRead, Op::kOpenWrite, Op::kOpenReadWrite, Op::kOpenTrunc, Op::kWrite,
                Op::kChmod, Op::kChownToUser, Op::kChownToOwnGroup, Op::kChownTo3000,
                Op::kUtimesExplicit, Op::kUtimesNow, Op::kTruncate}) {
    EXPECT_EQ(Compare(op, {0755}, kFileModes), 0) << OpName(op);
  }
  std::printf("file operations: %d cases compared with tmpfs\n", compared_);
}

TEST_F(PermissionMatrixTest, DirectoryOperationsMatchTmpfs) {
  for (Op op :
       {Op::kCreate, Op::kCreateSetgid, Op::kMkdir, Op::kLookup, Op::kReadDirectory, Op::kUnlink,
        Op::kUnlinkOthers, Op::kRmdir, Op::kRename, Op::kRenameOthers, Op::kRenameDirectoryOut,
        Op::kSymlink, Op::kUnlinkMissing, Op::kMkdirExisting, Op::kSymlinkExisting}) {
    EXPECT_EQ(Compare(op, kDirModes, {0644}), 0) << OpName(op);
  }
  std::printf("directory operations: %d cases compared with tmpfs\n", compared_);
}

TEST_F(PermissionMatrixTest, HardLinksMatchTmpfsWithProtectedHardlinks) {
  if (protected_hardlinks_ != 1) {
    GTEST_SKIP() << "fs.protected_hardlinks is " << protected_hardlinks_
                 << " here; mdfs implements 1";
  }
  EXPECT_EQ(Compare(Op::kLink, {0777, 0755, 01777}, kFileModes), 0);
  std::printf("hard links: %d cases compared with tmpfs\n", compared_);
}

}  // namespace
}  // namespace mdfs::session_test
