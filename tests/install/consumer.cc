// A C++ program outside the mdfs tree, built by install_test.sh with
// find_package(mdfs) against the installed headers and libmdfs.a: makes a
// fresh image, writes and reads a file through a Session, maps it
// (MAP_DIRECT) and persists a record, has a second session's truncate
// recall the mapping, and fscks the image. Prints OK and exits 0, or names
// the failed step and exits 1.
//
//   consumer IMAGE      (IMAGE must not exist)
#include <fcntl.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mdfs/fsck.h"
#include "mdfs/session.h"

namespace {

void Check(bool ok, const char* step, const mdfs::Status& status = mdfs::Status::Ok()) {
  if (ok) return;
  std::fprintf(stderr, "consumer (C++): %s failed: %s\n", step, status.ToString().c_str());
  std::exit(1);
}

std::span<const std::byte> Bytes(const char* text) {
  return std::as_bytes(std::span(text, std::strlen(text)));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mdfs;
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer IMAGE\n");
    return 2;
  }
  const std::string image = argv[1];
  {
    auto device = OpenFileDevice(image, {.create = true, .create_size = 32u << 20});
    Check(device.ok(), "create the image", device.status());
    Status formatted = FileSystem::Format(device->get());
    Check(formatted.ok(), "format", formatted);
  }
  {
    auto volume = Volume::Open(image);
    Check(volume.ok(), "Volume::Open", volume.status());
    auto alice = (*volume)->OpenSession(Credentials{1000, 1000, {}, 0});
    auto root = (*volume)->OpenSession(Credentials{0, 0, {}, 0});
    Check(alice.ok() && root.ok(), "OpenSession");
    Check((*root)->Mkdir((*root)->root(), "data", 0777).ok(), "Mkdir /data");
    auto file = (*alice)->OpenPath("/data/log", O_RDWR | O_CREAT | O_EXCL, 0666);
    Check(file.ok(), "OpenPath", file.status());
    Check((*file)->Write(0, Bytes("from C++")).ok(), "Write");
    char text[16] = {};
    auto n = (*file)->Read(0, std::as_writable_bytes(std::span(text, sizeof text)));
    Check(n.ok() && *n == 8 && std::strcmp(text, "from C++") == 0, "Read back");

    std::atomic<int> recalls{0};
    auto mapping = (*file)->MapDirect(0, 1 << 20, PROT_READ | PROT_WRITE, kMapDirectAllocate,
                                      {.on_recall = [&] { ++recalls; }, .on_revoke = {}});
    Check(mapping.ok(), "MapDirect", mapping.status());
    std::memcpy((*mapping)->data() + 4096, "mapped", 6);
    Status persisted = (*mapping)->Persist((*mapping)->data() + 4096, 6);
    Check(persisted.ok(), "Persist", persisted);

    auto other = (*root)->OpenPath("/data/log", O_RDWR);
    Check(other.ok(), "OpenPath by the second session", other.status());
    Status truncated = (*other)->Truncate(8192);
    Check(truncated.ok(), "Truncate", truncated);
    Check(recalls.load() == 1 && (*mapping)->torn_down(), "the recall of the mapping");
    n = (*other)->Read(4096, std::as_writable_bytes(std::span(text, 6)));
    Check(n.ok() && *n == 6 && std::memcmp(text, "mapped", 6) == 0, "Read the mapped record");
  }
  auto device = OpenFileDevice(image, {.read_only = true});
  Check(device.ok(), "reopen for fsck", device.status());
  auto report = CheckFileSystem(device->get());
  Check(report.ok() && report->clean(), "fsck", report.status());
  std::printf("consumer (C++): OK\n");
  return 0;
}
