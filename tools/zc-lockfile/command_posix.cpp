// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile run, on POSIX: COMMAND in a forked child, signals forwarded to it, and COMMAND
// killed with us (PR_SET_PDEATHSIG on Linux).

#include "cli.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace zc_cli {

namespace {

// The child running COMMAND, once there is one: the signal handler forwards to it.
volatile sig_atomic_t child_pid = 0;

const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void on_signal(int sig)
{
    if (child_pid > 0) {
        ::kill(static_cast<pid_t>(child_pid), sig);  // COMMAND decides; we report how it ended
        return;
    }
    // Still waiting for the lock: nothing is held that the kernel will not release. End now,
    // as a process killed by that signal would report it.
    ::_exit(128 + sig);
}

void install_handlers()
{
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : forwarded_signals) ::sigaction(sig, &sa, nullptr);
}

void block_signals(sigset_t& old)
{
    sigset_t set;
    sigemptyset(&set);
    for (int sig : forwarded_signals) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, &old);
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_command(char* const* argv, pid_t parent, const sigset_t& old_mask)
{
#if defined(__linux__)
    // If zc-lockfile dies, even by SIGKILL, COMMAND must not go on without the lock. The parent
    // may have died before the call took effect: then our parent is no longer the one we had.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(exit_software);
#else
    (void)parent;
#endif
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig : forwarded_signals) ::sigaction(sig, &dfl, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    ::execvp(argv[0], argv);
    const int e = errno;
    const char* prefix = "zc-lockfile: cannot run ";
    (void)!::write(2, prefix, std::strlen(prefix));
    (void)!::write(2, argv[0], std::strlen(argv[0]));
    (void)!::write(2, ": ", 2);
    const char* reason = std::strerror(e);
    (void)!::write(2, reason, std::strlen(reason));
    (void)!::write(2, "\n", 1);
    ::_exit(e == ENOENT ? 127 : 126);  // as shells report it
}

int status_of(int wait_status)
{
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return exit_software;
}

} // namespace

void prepare_signals() { install_handlers(); }

int run_command(const std::vector<std::string>& command)
{
    std::vector<char*> argv;
    for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    sigset_t old_mask;
    block_signals(old_mask);  // no forwarding before child_pid is known
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child == 0) exec_command(argv.data(), parent, old_mask);
    if (child < 0) {
        const int e = errno;
        ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
        std::cerr << "zc-lockfile: cannot start " << command[0] << ": " << std::strerror(e) << "\n";
        return exit_software;
    }
    child_pid = child;
    ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);

    int wait_status = 0;
    while (::waitpid(child, &wait_status, 0) < 0) {
        if (errno != EINTR) {
            wait_status = 0;
            break;
        }
    }
    child_pid = 0;
    return status_of(wait_status);
}

} // namespace zc_cli
