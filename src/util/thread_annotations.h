// Clang thread-safety annotations (-Wthread-safety). They compile to
// nothing under g++, and document which lock guards which state.
#ifndef MDFS_SRC_UTIL_THREAD_ANNOTATIONS_H_
#define MDFS_SRC_UTIL_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define MDFS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define MDFS_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) MDFS_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) MDFS_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) MDFS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) MDFS_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) MDFS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

#endif  // MDFS_SRC_UTIL_THREAD_ANNOTATIONS_H_
