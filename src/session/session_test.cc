// Sessions and open files: open flags, paths and symlinks, handles, bad
// arguments (include/mdfs/session.h).
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

#include "session/session_test_util.h"

namespace mdfs::session_test {
namespace {

TEST_F(SessionTest, CreateWriteReadThroughAnOpenFile) {
  auto file = MustOpen(*session_, "/a", O_RDWR | O_CREAT, 0640);
  ASSERT_TRUE(file);
  ASSERT_OK(file->Write(0, Bytes("hello")).status());
  EXPECT_EQ(ReadAll(*file), "hello");
  auto attributes = file->Stat();
  ASSERT_OK(attributes.status());
  EXPECT_EQ(attributes->mode, S_IFREG | 0640u);
  EXPECT_EQ(attributes->size, 5u);
  ASSERT_OK(file->Close());
  EXPECT_CODE(file->Read(0, {}).status(), kBadHandle);
  EXPECT_CODE(file->Close(), kBadHandle);
}

TEST_F(SessionTest, AccessModesOfAnOpenFileAreEnforced) {
  MustOpen(*session_, "/f", O_WRONLY | O_CREAT);
  auto reader = MustOpen(*session_, "/f", O_RDONLY);
  EXPECT_CODE(reader->Write(0, Bytes("x")).status(), kBadHandle);
  EXPECT_CODE(reader->Fallocate(0, 0, 4096), kBadHandle);
  EXPECT_CODE(reader->Truncate(0), kInvalidArgument);  // ftruncate(2): EINVAL
  auto writer = MustOpen(*session_, "/f", O_WRONLY);
  std::byte buffer[4];
  EXPECT_CODE(writer->Read(0, buffer).status(), kBadHandle);
  EXPECT_CODE(session_->OpenPath("/f", O_ACCMODE).status(), kInvalidArgument);
  EXPECT_CODE(session_->OpenPath("/f", O_RDONLY | O_ASYNC).status(), kNotSupported);
}

// A non-root write clears S_ISUID and an executable S_ISGID; the File
// skips that look while no session stored such a mode since its last one
// (FileImpl::DropPrivileges): a chmod after the file was opened and written
// must still be seen.
TEST_F(SessionTest, AWriteClearsSetuidSetAfterTheFileWasOpenedAndWritten) {
  MustOpen(*session_, "/f", O_WRONLY | O_CREAT, 0666);
  auto user = OpenSession(User(1000, 1000));
  auto file = MustOpen(*user, "/f", O_WRONLY);
  ASSERT_OK(file->Write(0, Bytes("a")).status());
  ASSERT_OK(file->Write(1, Bytes("b")).status());
  auto chmod = [&](uint32_t mode) {
    SetAttributesRequest request;
    request.mask = kSetMode;
    request.mode = mode;
    auto f = session_->Resolve("/f");
    ASSERT_OK(f.status());
    ASSERT_OK(session_->SetAttributes(Handle::Of(*f), request).status());
  };
  chmod(04777);
  ASSERT_OK(file->Write(2, Bytes("c")).status());
  EXPECT_EQ(file->Stat()->mode, S_IFREG | 0777u);
  chmod(02777);  // executable setgid
  ASSERT_OK(file->Write(3, Bytes("d")).status());
  EXPECT_EQ(file->Stat()->mode, S_IFREG | 0777u);
  chmod(06777);
  ASSERT_OK(file->Truncate(2));
  EXPECT_EQ(file->Stat()->mode, S_IFREG | 0777u);
  chmod(02767);  // setgid without group execute: not a privilege, kept
  ASSERT_OK(file->Write(0, Bytes("e")).status());
  EXPECT_EQ(file->Stat()->mode, S_IFREG | 02767u);
  // Root's writes clear nothing.
  chmod(04777);
  auto root_file = MustOpen(*session_, "/f", O_WRONLY);
  ASSERT_OK(root_file->Write(0, Bytes("f")).status());
  EXPECT_EQ(root_file->Stat()->mode, S_IFREG | 04777u);
}

TEST_F(SessionTest, AppendWritesAtTheEndWhateverTheOffset) {
  auto file = MustOpen(*session_, "/log", O_WRONLY | O_CREAT | O_APPEND);
  ASSERT_OK(file->Write(0, Bytes("one ")).status());
  ASSERT_OK(file->Write(0, Bytes("two")).status());
  auto reader = MustOpen(*session_, "/log", O_RDONLY);
  EXPECT_EQ(ReadAll(*reader), "one two");
}

TEST_F(SessionTest, TruncExclDirectoryAndNoFollow) {
  auto file = MustOpen(*session_, "/t", O_WRONLY | O_CREAT);
  ASSERT_OK(file->Write(0, Bytes("old contents")).status());
  auto truncated = MustOpen(*session_, "/t", O_RDWR | O_TRUNC);
  EXPECT_EQ(ReadAll(*truncated), "");
  EXPECT_CODE(session_->OpenPath("/t", O_WRONLY | O_CREAT | O_EXCL).status(), kExists);
  EXPECT_CODE(session_->OpenPath("/t", O_RDONLY | O_DIRECTORY).status(), kNotDirectory);
  EXPECT_CODE(session_->OpenPath("/t/", O_RDONLY).status(), kNotDirectory);
  ASSERT_OK(session_->Mkdir(session_->root(), "d", 0755).status());
  EXPECT_CODE(session_->OpenPath("/d", O_WRONLY).status(), kIsDirectory);
  EXPECT_CODE(session_->OpenPath("/d", O_RDONLY | O_CREAT).status(), kIsDirectory);
  ASSERT_TRUE(MustOpen(*session_, "/d", O_RDONLY | O_DIRECTORY));
  ASSERT_OK(session_->Symlink(session_->root(), "link", "t").status());
  EXPECT_CODE(session_->OpenPath("/link", O_RDONLY | O_NOFOLLOW).status(), kLoop);
  auto through = MustOpen(*session_, "/link", O_RDONLY);
  ASSERT_TRUE(through);
  EXPECT_EQ(through->handle(), Handle::Of(*session_->Resolve("/t")));
}

TEST_F(SessionTest, PathsFollowSymlinksDotsAndStopAtLoops) {
  ASSERT_OK(session_->Mkdir(session_->root(), "a", 0755).status());
  auto a = session_->Resolve("/a");
  ASSERT_OK(a.status());
  ASSERT_OK(session_->Mkdir(Handle::Of(*a), "b", 0755).status());
  MustOpen(*session_, "/a/b/f", O_WRONLY | O_CREAT);
  ASSERT_OK(session_->Symlink(Handle::Of(*a), "up", "..").status());
  ASSERT_OK(session_->Symlink(session_->root(), "abs", "/a/b").status());
  auto f = session_->Resolve("/a/b/f");
  ASSERT_OK(f.status());
  for (const char* path : {"/a/./b/../b/f", "/abs/f", "/a/up/a/b/f", "//a//b//f", "/../a/b/f"}) {
    auto found = session_->Resolve(path);
    ASSERT_OK(found.status());
    EXPECT_EQ(found->ino, f->ino) << path;
  }
  auto relative = session_->Resolve("b/f", true, Handle::Of(*a));
  ASSERT_OK(relative.status());
  EXPECT_EQ(relative->ino, f->ino);
  auto link = session_->Resolve("/abs", /*follow_last=*/false);
  ASSERT_OK(link.status());
  EXPECT_TRUE(S_ISLNK(link->mode));
  ASSERT_OK(session_->Symlink(session_->root(), "loop1", "loop2").status());
  ASSERT_OK(session_->Symlink(session_->root(), "loop2", "loop1").status());
  EXPECT_CODE(session_->Resolve("/loop1").status(), kLoop);
  EXPECT_CODE(session_->Resolve("/a/b/f/x").status(), kNotDirectory);
  EXPECT_CODE(session_->Resolve("/missing").status(), kNotFound);
  EXPECT_CODE(session_->Resolve("").status(), kNotFound);
}

TEST_F(SessionTest, BadNamesAndPathsAreRefusedByName) {
  EXPECT_CODE(session_->Resolve("/" + std::string(256, 'n')).status(), kNameTooLong);
  EXPECT_CODE(session_->Resolve(std::string(4096, '/')).status(), kNameTooLong);
  EXPECT_CODE(session_->Resolve(std::string("/a\0b", 4)).status(), kInvalidArgument);
  EXPECT_CODE(session_->Mkdir(session_->root(), std::string("x\0y", 3), 0755).status(),
              kInvalidArgument);
  EXPECT_CODE(session_->Mkdir(session_->root(), "a/b", 0755).status(), kInvalidArgument);
  SetAttributesRequest unknown;
  unknown.mask = 1u << 20;
  EXPECT_CODE(session_->SetAttributes(session_->root(), unknown).status(), kNotSupported);
}

TEST_F(SessionTest, AStaleHandleNeverReachesTheInodeThatReusedItsNumber) {
  auto file = MustOpen(*session_, "/old", O_WRONLY | O_CREAT);
  const Handle old = file->handle();
  file.reset();
  ASSERT_OK(session_->Unlink(session_->root(), "old"));
  EXPECT_CODE(session_->GetAttributes(old).status(), kStale);
  // Inode numbers are handed out round the table: create and remove files
  // until the number comes back.
  std::unique_ptr<File> reused;
  for (int i = 0; i < 10000 && !reused; ++i) {
    auto file = MustOpen(*session_, "/new", O_WRONLY | O_CREAT | O_EXCL);
    if (file->handle().ino == old.ino) {
      reused = std::move(file);
    } else {
      file.reset();
      ASSERT_OK(session_->Unlink(session_->root(), "new"));
    }
  }
  ASSERT_TRUE(reused) << "inode " << old.ino << " was never reused";
  ASSERT_NE(reused->handle().generation, old.generation);
  EXPECT_CODE(session_->GetAttributes(old).status(), kStale);
  EXPECT_CODE(session_->OpenHandle(old, O_RDONLY).status(), kStale);
  SetAttributesRequest chmod;
  chmod.mask = kSetMode;
  chmod.mode = 0600;
  EXPECT_CODE(session_->SetAttributes(old, chmod).status(), kStale);
  EXPECT_CODE(session_->Link(old, session_->root(), "again").status(), kStale);
  EXPECT_EQ(session_->GetAttributes(reused->handle())->mode & 07777, 0644u);
  EXPECT_EQ(Status(Code::kStale, "").ToErrno(), ESTALE);
}

TEST_F(SessionTest, AClosedSessionRefusesEverything) {
  auto file = MustOpen(*session_, "/f", O_RDWR | O_CREAT);
  session_->Close();
  EXPECT_CODE(session_->Resolve("/f").status(), kBadHandle);
  EXPECT_CODE(file->Write(0, Bytes("x")).status(), kBadHandle);
  EXPECT_CODE(session_->OpenPath("/f", O_RDONLY).status(), kBadHandle);
}

TEST_F(SessionTest, MapDirectNeedsTheAccessTheOpenGave) {
  auto writer = MustOpen(*session_, "/m", O_WRONLY | O_CREAT);
  EXPECT_CODE(writer->MapDirect(0, 4096, PROT_READ, kMapDirectAllocate).status(), kAccessDenied);
  auto reader = MustOpen(*session_, "/m", O_RDONLY);
  EXPECT_CODE(reader->MapDirect(0, 4096, PROT_READ | PROT_WRITE, kMapDirectAllocate).status(),
              kAccessDenied);
  auto both = MustOpen(*session_, "/m", O_RDWR);
  auto mapping = both->MapDirect(0, 8192, PROT_READ | PROT_WRITE, kMapDirectAllocate);
  ASSERT_OK(mapping.status());
  std::memcpy((*mapping)->data(), "direct", 6);
  ASSERT_OK((*mapping)->Persist((*mapping)->data(), 6));
  EXPECT_EQ(ReadAll(*reader).substr(0, 6), "direct");
  auto read_map = reader->MapDirect(0, 4096, PROT_READ, 0);
  ASSERT_OK(read_map.status());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*read_map)->data()), 6), "direct");
  auto layouts = volume_->ListLayouts();
  ASSERT_EQ(layouts.size(), 2u);
}

}  // namespace
}  // namespace mdfs::session_test
