/* Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
 *
 * An LD_PRELOAD shim that gives a local file system the lock semantics of an NFS client
 * (doc/design.adoc, "File systems where the lock families interact"; test/Jamfile, the
 * emulation stage). Each part is switched on by its environment variable:
 *
 * ZC_NFS_SHIM_FLOCK=ofd   flock(fd, op) becomes fcntl(fd, F_OFD_SETLK[W]) over the whole file:
 *                         a lock owned by the open file description that conflicts with every
 *                         other owner's record locks, the same process's classic POSIX locks
 *                         included, as the NFS server sees the emulated flock of a Linux client
 *                         (fs/nfs/file.c nfs_flock; flock(2), NFS details). As there, an
 *                         exclusive lock needs a descriptor open for writing (EBADF otherwise).
 * ZC_NFS_SHIM_FSTYPE=nfs  fstatfs()/statfs() report NFS_SUPER_MAGIC (0x6969).
 * ZC_NFS_SHIM_LOCAL_LOCK=none|flock|all
 *                         opening /proc/self/mountinfo gives the real one with every mount's
 *                         type made "nfs4" and ",local_lock=VALUE" added to its super options,
 *                         as nfs_show_mount_options prints it (fs/nfs/super.c).
 * ZC_NFS_SHIM_9P=L|legacy|u
 *                         opening /proc/self/mountinfo gives the real one with every mount's
 *                         type made "9p" and its super options "rw,trans=virtio", followed by
 *                         ",noextend" (legacy 9P2000) or ",version=9p2000.u", as
 *                         p9_show_client_options prints them (net/9p/client.c); fstatfs keeps
 *                         the real type, as QEMU's server passes its host's (v9fs_statfs).
 *
 * So the library's real detection code runs: it reads "nfs" and the local_lock option. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static int env_is(const char* name, const char* value)
{
    const char* v = getenv(name);
    return v != NULL && strcmp(v, value) == 0;
}

EXPORT int flock(int fd, int op)
{
    static int (*real_flock)(int, int);
    if (!env_is("ZC_NFS_SHIM_FLOCK", "ofd")) {
        if (real_flock == NULL) real_flock = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
        return real_flock(fd, op);
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_whence = SEEK_SET;
    switch (op & ~LOCK_NB) {
    case LOCK_SH: fl.l_type = F_RDLCK; break;
    case LOCK_EX: fl.l_type = F_WRLCK; break;
    case LOCK_UN: fl.l_type = F_UNLCK; break;
    default: errno = EINVAL; return -1;
    }
    const int cmd = (op & LOCK_NB) || fl.l_type == F_UNLCK ? F_OFD_SETLK : F_OFD_SETLKW;
    const int r = fcntl(fd, cmd, &fl);
    if (r != 0 && (errno == EAGAIN || errno == EACCES)) errno = EWOULDBLOCK;
    return r;
}

static void fake_type(struct statfs* buf)
{
    if (env_is("ZC_NFS_SHIM_FSTYPE", "nfs")) buf->f_type = 0x6969;
}

EXPORT int fstatfs(int fd, struct statfs* buf)
{
    static int (*real)(int, struct statfs*);
    if (real == NULL) real = (int (*)(int, struct statfs*))dlsym(RTLD_NEXT, "fstatfs");
    const int r = real(fd, buf);
    if (r == 0) fake_type(buf);
    return r;
}

EXPORT int statfs(const char* path, struct statfs* buf)
{
    static int (*real)(const char*, struct statfs*);
    if (real == NULL) real = (int (*)(const char*, struct statfs*))dlsym(RTLD_NEXT, "statfs");
    const int r = real(path, buf);
    if (r == 0) fake_type(buf);
    return r;
}

/* The real mountinfo, each line's type and super options rewritten, in a memfd: with local_lock
 * the type "nfs4" and that option added; otherwise the type "9p" and the options of ZC_NFS_SHIM_9P. */
static int fake_mountinfo(int (*real_open)(const char*, int, ...), const char* local_lock)
{
    const char* v9 = getenv("ZC_NFS_SHIM_9P");
    const char* v9_suffix = v9 == NULL ? "" : strcmp(v9, "legacy") == 0 ? ",noextend" : strcmp(v9, "u") == 0 ? ",version=9p2000.u" : "";
    const int in = real_open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    const int out = memfd_create("mountinfo", MFD_CLOEXEC);
    if (out < 0) {
        close(in);
        return -1;
    }
    FILE* src = fdopen(in, "r");
    char* line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, src)) > 0) {
        if (line[n - 1] == '\n') line[--n] = '\0';
        char* dash = strstr(line, " - ");
        char* type = dash != NULL ? dash + 3 : NULL;
        char* source = type != NULL ? strchr(type, ' ') : NULL;
        char* options = source != NULL ? strchr(source + 1, ' ') : NULL;
        if (options == NULL) {
            dprintf(out, "%s\n", line);
            continue;
        }
        *type = '\0';
        *options = '\0';
        if (local_lock != NULL)
            dprintf(out, "%snfs4%s %s,local_lock=%s\n", line, source, options + 1, local_lock);
        else
            dprintf(out, "%s9p%s rw,trans=virtio%s\n", line, source, v9_suffix);
    }
    free(line);
    fclose(src);
    lseek(out, 0, SEEK_SET);
    return out;
}

static int shimmed_open(const char* sym, const char* path, int flags, mode_t mode)
{
    int (*real)(const char*, int, ...) = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, sym);
    const char* local_lock = getenv("ZC_NFS_SHIM_LOCAL_LOCK");
    if ((local_lock != NULL || getenv("ZC_NFS_SHIM_9P") != NULL) && path != NULL && strcmp(path, "/proc/self/mountinfo") == 0)
        return fake_mountinfo(real, local_lock);
    return real(path, flags, mode);
}

EXPORT int open(const char* path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return shimmed_open("open", path, flags, mode);
}

EXPORT int open64(const char* path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return shimmed_open("open64", path, flags, mode);
}
