/* Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
 *
 * An LD_PRELOAD shim that makes a race happen every time: just before the process's first
 * ZC_SHIM_TIMES (default 1) exclusive flock() calls, it removes (ZC_SHIM_ACTION=unlink) or
 * replaces (ZC_SHIM_ACTION=replace, the default) the file at ZC_SHIM_PATH, as another process
 * could between our open() and our lock. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
