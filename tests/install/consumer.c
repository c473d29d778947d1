/* A C program outside the mdfs tree, compiled by install_test.sh with
 * `cc consumer.c $(pkg-config --cflags --libs mdfs)` against the installed
 * tree: mdfs_mkfs of a fresh image, a file written and read back, a
 * MAP_DIRECT range stored to and persisted, the mapping recalled by a
 * second session's truncate (the callback runs), everything closed. The
 * image is left for `mdfs fsck`. Prints OK and exits 0, or names the
 * failed call with its message and exits 1.
 *
 *   consumer IMAGE      (IMAGE must not exist) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mdfs/mdfs.h"

static mdfs_error error;

static void check(long long rc, const char* call) {
  if (rc >= 0) return;
  fprintf(stderr, "consumer (C): %s returned %lld: %s\n", call, rc, error.message);
  exit(1);
}

static void on_recall(mdfs_mapping* mapping, void* user_data) {
  (void)mapping;
  ++*(int*)user_data;
}

int main(int argc, char** argv) {
  mdfs_volume* volume;
  mdfs_session *alice, *bob;
  mdfs_file *file, *other;
  mdfs_mapping* mapping;
  mdfs_mapping_info info;
  char text[16] = {0};
  int recalls = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: consumer IMAGE\n");
    return 2;
  }
  check(mdfs_mkfs(argv[1], 32u << 20, 0, &error), "mdfs_mkfs");
  check(mdfs_volume_open(argv[1], 0, MDFS_LEASE_BREAK_TIME_DEFAULT, &volume, &error),
        "mdfs_volume_open");
  check(mdfs_session_open(volume, 0, 0, NULL, 0, 0, &alice, &error), "mdfs_session_open");
  check(mdfs_session_open_self(volume, &bob, &error), "mdfs_session_open_self");
  check(mdfs_open(alice, "/log", O_RDWR | O_CREAT | O_EXCL, 0666, &file, &error), "mdfs_open");
  check(mdfs_pwrite(file, "from C", 6, 0, &error), "mdfs_pwrite");
  check(mdfs_pread(file, text, sizeof text, 0, &error), "mdfs_pread");
  if (strcmp(text, "from C") != 0) check(-1, "read back");
  check(mdfs_map_direct(file, 0, 1 << 20, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, on_recall,
                        &recalls, &mapping, &error),
        "mdfs_map_direct");
  check(mdfs_mapping_info_get(mapping, &info, &error), "mdfs_mapping_info_get");
  memcpy((char*)info.data + 4096, "mapped", 6);
  check(mdfs_persist(mapping, (char*)info.data + 4096, 6, &error), "mdfs_persist");
  check(mdfs_open(bob, "/log", O_RDWR, 0, &other, &error), "mdfs_open (second session)");
  check(mdfs_ftruncate(other, 8192, 0, &error), "mdfs_ftruncate");
  check(mdfs_mapping_info_get(mapping, &info, &error), "mdfs_mapping_info_get");
  if (recalls != 1 || info.state != MDFS_MAPPING_TORN_DOWN) check(-1, "the recall");
  check(mdfs_pread(other, text, 6, 4096, &error), "mdfs_pread");
  if (memcmp(text, "mapped", 6) != 0) check(-1, "the mapped record");
  check(mdfs_unmap(mapping, &error), "mdfs_unmap");
  check(mdfs_close(other, &error), "mdfs_close");
  check(mdfs_close(file, &error), "mdfs_close");
  check(mdfs_session_close(bob, &error), "mdfs_session_close");
  check(mdfs_session_close(alice, &error), "mdfs_session_close");
  check(mdfs_volume_close(volume, &error), "mdfs_volume_close");
  printf("consumer (C): OK\n");
  return 0;
}
