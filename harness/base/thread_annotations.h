// Clang's thread-safety annotations (LevelDB's names): which mutex guards
// which member, written where the compiler checks it. Under clang with
// -Wthread-safety (scripts/check-thread-safety.sh, a ctest) an access without
// the lock is an error; under GCC they expand to nothing.
#ifndef LASTCALL_BASE_THREAD_ANNOTATIONS_H_
#define LASTCALL_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define LASTCALL_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LASTCALL_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) LASTCALL_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY LASTCALL_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) LASTCALL_THREAD_ANNOTATION(guarded_by(x))
#define REQUIRES(...) LASTCALL_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) LASTCALL_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LASTCALL_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EXCLUDES(...) LASTCALL_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

#endif  // LASTCALL_BASE_THREAD_ANNOTATIONS_H_
