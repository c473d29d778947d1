/* The C API of mdfs (doc/api.md, "The C API"): the objects of
 * include/mdfs/session.h -- Volume, Session, File, DirectMapping -- behind
 * opaque handles, for C programs and other languages' FFI.
 *
 *   mdfs_volume* volume;  mdfs_session* session;  mdfs_file* file;
 *   mdfs_error error;
 *   if (mdfs_volume_open("disk.img", 0, MDFS_LEASE_BREAK_TIME_DEFAULT, &volume, &error) < 0)
 *     fprintf(stderr, "%s\n", error.message);
 *   mdfs_session_open_self(volume, &session, &error);
 *   mdfs_open(session, "/log", O_RDWR | O_CREAT, 0644, &file, &error);
 *   mdfs_pwrite(file, "record", 6, 0, &error);
 *   mdfs_close(file, &error);  mdfs_session_close(session, &error);
 *   mdfs_volume_close(volume, &error);
 *
 * Returns: every function returns 0 (or, for mdfs_pread, mdfs_pwrite and
 * mdfs_readdir, a count >= 0) on success and a negative errno on failure:
 * -ENOENT, -EACCES, -EOPNOTSUPP, ... (the errno a POSIX call would give;
 * include/mdfs/status.h maps each mdfs code to one).
 *
 * Messages: each function's last parameter is an `mdfs_error*`, which may
 * be NULL. On failure it receives the errno, the mdfs code (MDFS_CODE_*:
 * several codes share EIO) and a message naming the function and the
 * object ("mdfs_open /a/b: permission denied: uid 1000 gid 1000 may not
 * write inode 12 (mode 0644, owner 0:0)"); on success it is cleared. An
 * out-parameter rather than a thread-local "last error": the message then
 * belongs to one call, whatever thread reads it -- a Go program's cgo calls
 * move between threads, and recall callbacks run on another caller's thread
 * in the middle of its call -- and the struct needs no allocation or free.
 *
 * Arguments: every function checks its arguments before it does anything:
 * a NULL handle fails with -EBADF, a NULL pointer it needs with -EINVAL, a
 * flag bit it does not know with -EOPNOTSUPP (the MAP_SHARED_VALIDATE
 * rule). A handle must not be used after it was closed (as a FILE*).
 *
 * Lifetimes: a volume outlives its sessions, files and mappings:
 * mdfs_volume_close fails with -EBUSY while any of them is open. A session
 * may close before its files and mappings: the session's mappings are torn
 * down (touching them raises SIGBUS) and their calls, and its files' calls,
 * fail with -EBADF until they are closed too. A mapping keeps its file open
 * after mdfs_close of the file.
 *
 * Thread-safety: any function may be called from any thread, concurrently
 * on the same handles, except that closing a handle (mdfs_volume_close,
 * mdfs_session_close, mdfs_close, mdfs_unmap) must not race with another
 * call on that handle.
 */
#ifndef MDFS_INCLUDE_MDFS_MDFS_H_
#define MDFS_INCLUDE_MDFS_MDFS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mdfs_volume mdfs_volume;   /* a mounted file system */
typedef struct mdfs_session mdfs_session; /* a caller with credentials */
typedef struct mdfs_file mdfs_file;       /* an open file */
typedef struct mdfs_mapping mdfs_mapping; /* a MAP_DIRECT range */

/* ---- errors */

#define MDFS_ERROR_MESSAGE_SIZE 512

typedef struct mdfs_error {
  int error_number;                      /* the errno returned, negated back (0: no error) */
  int code;                              /* MDFS_CODE_* (0: no error) */
  char message[MDFS_ERROR_MESSAGE_SIZE]; /* NUL-terminated; cut to fit */
} mdfs_error;

/* mdfs status codes (include/mdfs/status.h, enum Code): never renumbered. */
enum {
  MDFS_CODE_OK = 0,
  MDFS_CODE_NOT_FOUND = 1,          /* ENOENT */
  MDFS_CODE_CORRUPTION = 2,         /* EUCLEAN */
  MDFS_CODE_IO_ERROR = 3,           /* EIO */
  MDFS_CODE_INVALID_ARGUMENT = 4,   /* EINVAL */
  MDFS_CODE_NOT_SUPPORTED = 5,      /* EOPNOTSUPP */
  MDFS_CODE_NO_SPACE = 6,           /* ENOSPC */
  MDFS_CODE_WOULD_BLOCK = 7,        /* EWOULDBLOCK */
  MDFS_CODE_LEASE_REVOKED = 8,      /* EIO */
  MDFS_CODE_FENCED = 9,             /* ESTALE */
  MDFS_CODE_TEXT_FILE_BUSY = 10,    /* ETXTBSY */
  MDFS_CODE_EXISTS = 11,            /* EEXIST */
  MDFS_CODE_NOT_DIRECTORY = 12,     /* ENOTDIR */
  MDFS_CODE_IS_DIRECTORY = 13,      /* EISDIR */
  MDFS_CODE_NOT_EMPTY = 14,         /* ENOTEMPTY */
  MDFS_CODE_FILE_TOO_LARGE = 15,    /* EFBIG */
  MDFS_CODE_NAME_TOO_LONG = 16,     /* ENAMETOOLONG */
  MDFS_CODE_READ_ONLY = 17,         /* EROFS */
  MDFS_CODE_PERMISSION_DENIED = 18, /* EPERM */
  MDFS_CODE_TOO_MANY_LINKS = 19,    /* EMLINK */
  MDFS_CODE_LOOP = 20,              /* ELOOP */
  MDFS_CODE_NO_DEVICE = 21,         /* ENODEV */
  MDFS_CODE_SHUTDOWN = 22,          /* EIO: reopen the volume */
  MDFS_CODE_HOLE = 23,              /* ENXIO */
  MDFS_CODE_STALE = 24,             /* ESTALE */
  MDFS_CODE_ACCESS_DENIED = 25,     /* EACCES */
  MDFS_CODE_BAD_HANDLE = 26,        /* EBADF */
  /* Failures of the C layer itself (EBUSY of mdfs_volume_close, EDEADLK of
   * mdfs_unmap inside its callback) carry the code that fits best. */
};

/* ---- images and volumes */

/* mdfs_mkfs: `path` must not exist; it is created with size_bytes and
 * formatted. With MDFS_MKFS_EXISTING, an existing file or block device is
 * formatted at its size instead (size_bytes must be 0): its contents are
 * lost. */
#define MDFS_MKFS_EXISTING (1u << 0)
int mdfs_mkfs(const char* path, uint64_t size_bytes, uint32_t flags, mdfs_error* error);

#define MDFS_VOLUME_READ_ONLY (1u << 0)
/* lease_break_time_ms: how long a recall may take before the holders are
 * revoked; 0 waits forever; MDFS_LEASE_BREAK_TIME_DEFAULT keeps the
 * superblock's. */
#define MDFS_LEASE_BREAK_TIME_DEFAULT (-1)
/* Opens the image file or block device at `path` (locked: one writer). */
int mdfs_volume_open(const char* path, uint32_t flags, int64_t lease_break_time_ms,
                     mdfs_volume** volume, mdfs_error* error);
/* -EBUSY (and the volume stays open) while a session, file or mapping of it
 * is open; else closes and frees it. */
int mdfs_volume_close(mdfs_volume* volume, mdfs_error* error);

/* ---- sessions */

/* A caller: uid, gid, `group_count` supplementary groups (groups may be
 * NULL when group_count is 0), pid (0: unknown). Permissions are checked as
 * Linux checks a local file system (doc/api.md, "Permissions"). */
int mdfs_session_open(mdfs_volume* volume, uint32_t uid, uint32_t gid, const uint32_t* groups,
                      size_t group_count, int32_t pid, mdfs_session** session, mdfs_error* error);
/* The calling process's real uid, gid, groups and pid. */
int mdfs_session_open_self(mdfs_volume* volume, mdfs_session** session, mdfs_error* error);
/* Tears down the session's mappings, releases its layouts and frees the
 * handle; its files and mappings stay handles to close. */
int mdfs_session_close(mdfs_session* session, mdfs_error* error);

/* ---- the namespace. Paths are absolute, or relative to the root. */

/* Call flag of the operations that may recall layouts (unlink, rmdir,
 * rename, ftruncate, fallocate): start the recall and fail with
 * -EWOULDBLOCK instead of waiting (a file opened O_NONBLOCK does so
 * always). */
#define MDFS_NONBLOCK (1u << 31)
#define MDFS_RENAME_NOREPLACE (1u << 0) /* RENAME_NOREPLACE */
#define MDFS_RENAME_EXCHANGE (1u << 1)  /* RENAME_EXCHANGE */

int mdfs_mkdir(mdfs_session* session, const char* path, uint32_t mode, mdfs_error* error);
int mdfs_unlink(mdfs_session* session, const char* path, uint32_t flags, mdfs_error* error);
int mdfs_rmdir(mdfs_session* session, const char* path, uint32_t flags, mdfs_error* error);
/* flags: MDFS_RENAME_NOREPLACE or MDFS_RENAME_EXCHANGE, and MDFS_NONBLOCK. */
int mdfs_rename(mdfs_session* session, const char* from, const char* to, uint32_t flags,
                mdfs_error* error);

/* Called once per entry (not "." or ".."), in no particular order: the
 * name (NUL-terminated), inode number and type (S_IFREG, S_IFDIR,
 * S_IFLNK). Return 0 to go on, anything else to stop. The entries were read
 * before the first call: the callback may change the directory. */
typedef int (*mdfs_readdir_fn)(const char* name, uint64_t ino, uint32_t type, void* user_data);
/* Returns the number of entries passed to `fn`. */
int64_t mdfs_readdir(mdfs_session* session, const char* path, mdfs_readdir_fn fn, void* user_data,
                     mdfs_error* error);

typedef struct mdfs_attributes {
  uint64_t ino;
  uint32_t generation; /* (ino, generation) names the inode for ever */
  uint32_t mode;       /* st_mode: S_IFMT type bits | permission bits */
  uint32_t uid;
  uint32_t gid;
  uint32_t nlink;
  uint32_t flags;                                 /* MDFS_INODE_* */
  uint64_t size;                                  /* bytes */
  uint64_t allocated_blocks;                      /* 4096-byte blocks of data mapped */
  int64_t atime_ns, mtime_ns, ctime_ns, btime_ns; /* since the Unix epoch */
} mdfs_attributes;
#define MDFS_INODE_SEALED (1u << 0)   /* the block map is immutable */
#define MDFS_INODE_UNLINKED (1u << 1) /* no name left; open files keep it */

/* MDFS_STAT_NOFOLLOW: a symbolic link at the end of `path` is not followed. */
#define MDFS_STAT_NOFOLLOW (1u << 0)
int mdfs_stat(mdfs_session* session, const char* path, uint32_t flags, mdfs_attributes* attributes,
              mdfs_error* error);

/* ---- files */

/* flags: O_RDONLY, O_WRONLY, O_RDWR, O_APPEND, O_TRUNC, O_CREAT, O_EXCL,
 * O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC, O_SYNC, O_DSYNC (the
 * Linux values of <fcntl.h>); any other bit: -EOPNOTSUPP. mode: the
 * permission bits of a created file (there is no umask). */
int mdfs_open(mdfs_session* session, const char* path, int flags, uint32_t mode, mdfs_file** file,
              mdfs_error* error);
/* Closes the file and frees the handle (even when it returns an error). */
int mdfs_close(mdfs_file* file, mdfs_error* error);

/* Positional: there is no file offset. mdfs_pread returns fewer bytes than
 * asked only at end of file; mdfs_pwrite writes all or fails (with
 * O_APPEND it appends, whatever `offset` says). count <= INT64_MAX. */
int64_t mdfs_pread(mdfs_file* file, void* buffer, size_t count, uint64_t offset, mdfs_error* error);
int64_t mdfs_pwrite(mdfs_file* file, const void* buffer, size_t count, uint64_t offset,
                    mdfs_error* error);

#define MDFS_FSYNC_DATA_ONLY (1u << 0) /* fdatasync */
int mdfs_fsync(mdfs_file* file, uint32_t flags, mdfs_error* error);
/* flags: 0 or MDFS_NONBLOCK. */
int mdfs_ftruncate(mdfs_file* file, uint64_t size, uint32_t flags, mdfs_error* error);
/* mode: 0 or FALLOC_FL_* as Linux's fallocate(2) accepts them. */
#define MDFS_FALLOCATE_KEEP_SIZE 0x01      /* FALLOC_FL_KEEP_SIZE */
#define MDFS_FALLOCATE_PUNCH_HOLE 0x02     /* FALLOC_FL_PUNCH_HOLE */
#define MDFS_FALLOCATE_COLLAPSE_RANGE 0x08 /* FALLOC_FL_COLLAPSE_RANGE */
#define MDFS_FALLOCATE_ZERO_RANGE 0x10     /* FALLOC_FL_ZERO_RANGE */
#define MDFS_FALLOCATE_INSERT_RANGE 0x20   /* FALLOC_FL_INSERT_RANGE */
int mdfs_fallocate(mdfs_file* file, uint32_t mode, uint64_t offset, uint64_t length, uint32_t flags,
                   mdfs_error* error);
int mdfs_fstat(mdfs_file* file, mdfs_attributes* attributes, mdfs_error* error);

/* ---- MAP_DIRECT (doc/map_direct.md) */

#define MDFS_MAP_ALLOCATE (1u << 0) /* map holes, grow the file; else holes fail (-ENXIO) */

/* Runs when the mapping's layout is recalled (a truncate, punch hole, ...
 * of the range by anyone), on the breaker's thread, before the range is
 * torn down: stop touching the range and return. It must not call
 * mdfs_unmap on `mapping` (-EDEADLK) nor wait for another mdfs call. */
typedef void (*mdfs_recall_fn)(mdfs_mapping* mapping, void* user_data);

/* Maps file bytes [offset, offset + length) onto the device's own blocks.
 * prot: PROT_READ or PROT_READ | PROT_WRITE (PROT_WRITE needs O_RDWR);
 * offset a multiple of 4096, length > 0 (rounded up to 4096). on_recall
 * may be NULL. Every block is allocated and durable in metadata before it
 * returns. */
int mdfs_map_direct(mdfs_file* file, uint64_t offset, uint64_t length, int prot, uint32_t flags,
                    mdfs_recall_fn on_recall, void* user_data, mdfs_mapping** mapping,
                    mdfs_error* error);

enum { /* mdfs_mapping_info.persistence_mode: what mdfs_persist does */
       MDFS_PERSISTENCE_CPU_CACHE = 0, /* cache-line write-back + fence: durable */
       MDFS_PERSISTENCE_MSYNC = 1,     /* msync of the pages */
       MDFS_PERSISTENCE_FDATASYNC = 2,
       MDFS_PERSISTENCE_VOLATILE = 3, /* nothing survives a reboot anyway */
};
#define MDFS_MAPPING_TORN_DOWN (1u << 0) /* recalled or revoked: access raises SIGBUS */
#define MDFS_MAPPING_REVOKED (1u << 1)   /* lease_break_time passed first */
typedef struct mdfs_mapping_info {
  void* data;           /* file byte file_offset is at data */
  uint64_t size;        /* bytes mapped */
  uint64_t file_offset; /* bytes */
  uint64_t ino;
  int persistence_mode; /* MDFS_PERSISTENCE_* */
  uint32_t state;       /* MDFS_MAPPING_* */
} mdfs_mapping_info;
int mdfs_mapping_info_get(const mdfs_mapping* mapping, mdfs_mapping_info* info, mdfs_error* error);
/* Makes stores to [address, address + length) durable (flush + drain);
 * the range must lie inside the mapping. -EIO (MDFS_CODE_LEASE_REVOKED)
 * once it was torn down. */
int mdfs_persist(mdfs_mapping* mapping, const void* address, size_t length, mdfs_error* error);
/* Unmaps, releases the layout and frees the handle. */
int mdfs_unmap(mdfs_mapping* mapping, mdfs_error* error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MDFS_INCLUDE_MDFS_MDFS_H_ */
