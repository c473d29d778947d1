/* The C API used from C (include/mdfs/mdfs.h): mkfs, open, write, read
 * back, readdir, MAP_DIRECT + persist, a truncate by a second session that
 * recalls the mapping (its callback runs, the mapping is torn down), the
 * volume's EBUSY while handles are open, close, and the data read again
 * after a reopen. Exits 0 when every check passed, 1 at the first failure
 * (naming the line, the call's return value and its message). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdfs/mdfs.h"

static mdfs_error error;
static int checks;

#define CHECK(condition)                                                                     \
  do {                                                                                       \
    ++checks;                                                                                \
    if (!(condition)) {                                                                      \
      fprintf(stderr, "capi_c_test.c:%d: check failed: %s\n  last error: %d %s\n", __LINE__, \
              #condition, error.error_number, error.message);                                \
      exit(1);                                                                               \
    }                                                                                        \
  } while (0)

/* rc must be 0 (or a count >= 0) and the error cleared. */
#define CHECK_OK(call)                                          \
  do {                                                          \
    long long rc_ = (long long)(call);                          \
    CHECK(rc_ >= 0);                                            \
    CHECK(error.error_number == 0 && error.message[0] == '\0'); \
  } while (0)

/* The recall callback's record. */
struct recall_state {
  int calls;
  mdfs_mapping* seen;
  uint32_t state_inside; /* mdfs_mapping_info_get's state inside the callback */
  int unmap_inside;      /* what mdfs_unmap returned inside the callback */
};

static void on_recall(mdfs_mapping* mapping, void* user_data) {
  struct recall_state* state = user_data;
  mdfs_error inner;
  mdfs_mapping_info info;
  ++state->calls;
  state->seen = mapping;
  state->state_inside = mdfs_mapping_info_get(mapping, &info, &inner) == 0 ? info.state : 99u;
  state->unmap_inside = mdfs_unmap(mapping, &inner);
}

struct listing {
  int entries;
  int found_log;
};

static int on_entry(const char* name, uint64_t ino, uint32_t type, void* user_data) {
  struct listing* listing = user_data;
  ++listing->entries;
  if (strcmp(name, "log") == 0 && S_ISREG(type) && ino != 0) listing->found_log = 1;
  return 0;
}

static const char kText[] = "hello from C";
static const char kRecord[] = "mapped record";

static void write_and_read(mdfs_file* file) {
  char buffer[64] = {0};
  mdfs_attributes attributes;
  CHECK(mdfs_pwrite(file, kText, sizeof kText, 0, &error) == (int64_t)sizeof kText);
  CHECK_OK(0);
  CHECK(mdfs_pread(file, buffer, sizeof buffer, 0, &error) == (int64_t)sizeof kText);
  CHECK(memcmp(buffer, kText, sizeof kText) == 0);
  CHECK_OK(mdfs_fsync(file, MDFS_FSYNC_DATA_ONLY, &error));
  CHECK_OK(mdfs_fstat(file, &attributes, &error));
  CHECK(attributes.size == sizeof kText);
  CHECK(attributes.uid == 1000 && attributes.gid == 1000);
  CHECK(S_ISREG(attributes.mode) && (attributes.mode & 07777) == 0664);
}

static void map_and_persist(mdfs_file* file, struct recall_state* recall, mdfs_mapping** out) {
  mdfs_mapping_info info;
  char buffer[sizeof kRecord];
  CHECK_OK(mdfs_map_direct(file, 0, 1 << 20, PROT_READ | PROT_WRITE, MDFS_MAP_ALLOCATE, on_recall,
                           recall, out, &error));
  CHECK_OK(mdfs_mapping_info_get(*out, &info, &error));
  CHECK(info.data != NULL && info.size == 1 << 20 && info.file_offset == 0 && info.state == 0);
  CHECK(memcmp(info.data, kText, sizeof kText) == 0); /* the file's own bytes */
  memcpy((char*)info.data + 4096, kRecord, sizeof kRecord);
  CHECK_OK(mdfs_persist(*out, (char*)info.data + 4096, sizeof kRecord, &error));
  CHECK(mdfs_persist(*out, (char*)info.data + (1 << 20), 1, &error) == -EINVAL);
  CHECK(mdfs_pread(file, buffer, sizeof buffer, 4096, &error) == (int64_t)sizeof buffer);
  CHECK(memcmp(buffer, kRecord, sizeof kRecord) == 0);
}

/* Bob's truncate to 8 KiB recalls Alice's mapping of [0, 1 MiB). */
static void truncate_recalls(mdfs_session* bob, mdfs_mapping* mapping,
                             struct recall_state* recall) {
  mdfs_file* file;
  mdfs_mapping_info info;
  mdfs_attributes attributes;
  CHECK_OK(mdfs_open(bob, "/data/log", O_RDWR, 0, &file, &error));
  CHECK(recall->calls == 0);
  CHECK_OK(mdfs_ftruncate(file, 8192, 0, &error));
  CHECK(recall->calls == 1);
  CHECK(recall->seen == mapping);
  CHECK(recall->state_inside == 0);        /* torn down after the callback */
  CHECK(recall->unmap_inside == -EDEADLK); /* refused inside its own callback */
  CHECK_OK(mdfs_mapping_info_get(mapping, &info, &error));
  CHECK(info.state == MDFS_MAPPING_TORN_DOWN);
  CHECK(mdfs_persist(mapping, info.data, 64, &error) == -EIO);
  CHECK(error.code == MDFS_CODE_LEASE_REVOKED);
  CHECK_OK(mdfs_fstat(file, &attributes, &error));
  CHECK(attributes.size == 8192);
  CHECK_OK(mdfs_close(file, &error));
}

static void reopen_and_read(const char* image) {
  mdfs_volume* volume;
  mdfs_session* session;
  mdfs_file* file;
  char buffer[sizeof kRecord];
  CHECK_OK(mdfs_volume_open(image, MDFS_VOLUME_READ_ONLY, MDFS_LEASE_BREAK_TIME_DEFAULT, &volume,
                            &error));
  CHECK_OK(mdfs_session_open_self(volume, &session, &error));
  CHECK_OK(mdfs_open(session, "/data/log", O_RDONLY, 0, &file, &error));
  CHECK(mdfs_pread(file, buffer, sizeof buffer, 4096, &error) == (int64_t)sizeof buffer);
  CHECK(memcmp(buffer, kRecord, sizeof kRecord) == 0);
  CHECK(mdfs_pwrite(file, "x", 1, 0, &error) == -EBADF);
  CHECK_OK(mdfs_close(file, &error));
  CHECK_OK(mdfs_session_close(session, &error));
  CHECK_OK(mdfs_volume_close(volume, &error));
}

int main(void) {
  char directory[] = "/tmp/mdfs_capi_c_test.XXXXXX";
  char image[sizeof directory + 16];
  mdfs_volume* volume;
  mdfs_session *root, *alice, *bob;
  mdfs_file* file;
  mdfs_mapping* mapping;
  struct recall_state recall = {0, NULL, 0, 0};
  struct listing listing = {0, 0};
  const uint32_t bob_groups[] = {1000};

  CHECK(mkdtemp(directory) != NULL);
  snprintf(image, sizeof image, "%s/c.img", directory);
  CHECK_OK(mdfs_mkfs(image, 64u << 20, 0, &error));
  CHECK(mdfs_mkfs(image, 64u << 20, 0, &error) == -EEXIST);
  CHECK(strstr(error.message, "mdfs_mkfs") == error.message);

  CHECK_OK(mdfs_volume_open(image, 0, 5000, &volume, &error));
  CHECK_OK(mdfs_session_open(volume, 0, 0, NULL, 0, getpid(), &root, &error));
  CHECK_OK(mdfs_session_open(volume, 1000, 1000, NULL, 0, 0, &alice, &error));
  CHECK_OK(mdfs_session_open(volume, 1001, 1001, bob_groups, 1, 0, &bob, &error));
  CHECK_OK(mdfs_mkdir(root, "/data", 0777, &error));

  CHECK(mdfs_open(alice, "/data/missing", O_RDONLY, 0, &file, &error) == -ENOENT);
  CHECK(error.code == MDFS_CODE_NOT_FOUND && strstr(error.message, "/data/missing") != NULL);
  CHECK_OK(mdfs_open(alice, "/data/log", O_RDWR | O_CREAT | O_EXCL, 0664, &file, &error));
  write_and_read(file);
  CHECK(mdfs_readdir(alice, "/data", on_entry, &listing, &error) == 1);
  CHECK(listing.entries == 1 && listing.found_log);

  map_and_persist(file, &recall, &mapping);
  truncate_recalls(bob, mapping, &recall);

  CHECK(mdfs_volume_close(volume, &error) == -EBUSY);
  CHECK_OK(mdfs_unmap(mapping, &error));
  CHECK_OK(mdfs_close(file, &error));
  CHECK_OK(mdfs_session_close(bob, &error));
  CHECK_OK(mdfs_session_close(alice, &error));
  CHECK_OK(mdfs_session_close(root, &error));
  CHECK_OK(mdfs_volume_close(volume, &error));

  reopen_and_read(image);
  CHECK(unlink(image) == 0 && rmdir(directory) == 0);
  printf("mdfs_capi_c_test: OK (%d checks)\n", checks);
  return 0;
}
