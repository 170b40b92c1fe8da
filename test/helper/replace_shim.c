/* Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
 *
 * An LD_PRELOAD shim that makes a race happen every time: just before the process's first
 * ZC_SHIM_TIMES (default 1) exclusive flock() calls, it removes (ZC_SHIM_ACTION=unlink) or
 * replaces (ZC_SHIM_ACTION=replace, the default) the file at ZC_SHIM_PATH, as another process
 * could between our open() and our lock. With ZC_SHIM_NO_STATX=1, statx() fails with ENOSYS, as on
 * kernels before 4.11 and under some seccomp filters, so that the library's fallback is used. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((visibility("default"))) int flock(int fd, int op)
{
    static int (*real_flock)(int, int);
    static int done;
    if (real_flock == NULL) real_flock = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
    const char* path = getenv("ZC_SHIM_PATH");
    const char* times = getenv("ZC_SHIM_TIMES");
    const char* action = getenv("ZC_SHIM_ACTION");
    if (path != NULL && (op & LOCK_EX) && done < (times != NULL ? atoi(times) : 1)) {
        ++done;
        if (action != NULL && strcmp(action, "unlink") == 0) {
            unlink(path);
        } else {
            char fresh[4096];
            snprintf(fresh, sizeof fresh, "%s.replacement", path);
            int f = open(fresh, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (f >= 0) close(f);
            rename(fresh, path);
        }
    }
    return real_flock(fd, op);
}

__attribute__((visibility("default"))) int statx(int dirfd, const char* path, int flags, unsigned int mask, struct statx* out)
{
    static int (*real_statx)(int, const char*, int, unsigned int, struct statx*);
    const char* refuse = getenv("ZC_SHIM_NO_STATX");
    if (refuse != NULL && strcmp(refuse, "1") == 0) {
        errno = ENOSYS;
        return -1;
    }
    if (real_statx == NULL) real_statx = (int (*)(int, const char*, int, unsigned int, struct statx*))dlsym(RTLD_NEXT, "statx");
    return real_statx(dirfd, path, flags, mask, out);
}
