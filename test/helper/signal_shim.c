/* Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
 *
 * An LD_PRELOAD shim that makes zc-lockfile's signal races happen every time (signals_test.cpp).
 * It acts in the process it was loaded into only, and removes itself from LD_PRELOAD so that
 * COMMAND runs without it.
 *
 *   ZC_SIGNAL_SHIM_RECORD=PATH  at the first sigprocmask() or pthread_sigmask() after PATH holds
 *                               something (the lock's record), raise SIGTERM just before the call:
 *                               a signal that comes while the lock is held and COMMAND is not
 *                               started.
 *   ZC_SIGNAL_SHIM_REAP=1       raise SIGTERM just after a waitpid() or wait4() that reaped a
 *                               child; ZC_SIGNAL_SHIM_LOG=FILE gets one line for every kill()
 *                               sent to a pid once it was reaped (it may belong to another
 *                               process by then).
 *   ZC_SIGNAL_SHIM_ECHILD=1     waitpid(), wait4() and waitid() fail with ECHILD, as they do when
 *                               the kernel reaped the child itself: how it ended cannot be learnt. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static pid_t loaded_into;
static pid_t reaped;

__attribute__((constructor)) static void load(void)
{
    loaded_into = getpid();
    unsetenv("LD_PRELOAD");
}

static int ours(void) { return getpid() == loaded_into; }
static int set(const char* name) { return getenv(name) != NULL && strcmp(getenv(name), "1") == 0; }
static void* real(const char* name) { return dlsym(RTLD_NEXT, name); }

static void before_mask_change(void)
{
    static int done;
    const char* record = getenv("ZC_SIGNAL_SHIM_RECORD");
    struct stat st;
    if (done || !ours() || record == NULL || stat(record, &st) != 0 || st.st_size == 0) return;
    done = 1;
    raise(SIGTERM);
}

EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old)
{
    if (set != NULL) before_mask_change();
    return ((int (*)(int, const sigset_t*, sigset_t*))real("sigprocmask"))(how, set, old);
}

EXPORT int pthread_sigmask(int how, const sigset_t* set, sigset_t* old)
{
    if (set != NULL) before_mask_change();
    return ((int (*)(int, const sigset_t*, sigset_t*))real("pthread_sigmask"))(how, set, old);
}

static pid_t after_wait(pid_t r)
{
    if (r > 0 && ours() && set("ZC_SIGNAL_SHIM_REAP")) {
        reaped = r;
        raise(SIGTERM);
    }
    return r;
}

EXPORT pid_t wait4(pid_t pid, int* status, int options, struct rusage* usage)
{
    if (ours() && set("ZC_SIGNAL_SHIM_ECHILD")) {
        errno = ECHILD;
        return -1;
    }
    return after_wait(((pid_t(*)(pid_t, int*, int, struct rusage*))real("wait4"))(pid, status, options, usage));
}

EXPORT pid_t waitpid(pid_t pid, int* status, int options) { return wait4(pid, status, options, NULL); }

EXPORT int waitid(idtype_t type, id_t id, siginfo_t* info, int options)
{
    if (ours() && set("ZC_SIGNAL_SHIM_ECHILD")) {
        errno = ECHILD;
        return -1;
    }
    return ((int (*)(idtype_t, id_t, siginfo_t*, int))real("waitid"))(type, id, info, options);
}

EXPORT int kill(pid_t pid, int sig)
{
    const char* log = getenv("ZC_SIGNAL_SHIM_LOG");
    if (ours() && sig != 0 && pid > 0 && pid == reaped && log != NULL) {
        const int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        char line[64];
        const int n = snprintf(line, sizeof line, "kill(%d, %d) after reaping it\n", (int)pid, sig);
        if (fd >= 0 && n > 0) {
            (void)!write(fd, line, (size_t)n);
            close(fd);
        }
    }
    return ((int (*)(pid_t, int))real("kill"))(pid, sig);
}
