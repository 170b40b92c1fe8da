// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile run, on POSIX: COMMAND in a forked child, signals forwarded to it when it did not
// get them itself, and COMMAND killed with us (PR_SET_PDEATHSIG on Linux). doc/cli.adoc, "Signals
// and exit status", states the rules this file implements.

#include "cli.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace zc_cli {

namespace {

// The signals that end a process by default and that a supervisor is asked to pass on. Others
// (SIGALRM, SIGPIPE, ...) keep their default action: they end zc-lockfile, and COMMAND with it.
const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// The child running COMMAND, from its fork until it is reaped: the handler forwards to it. Only
// ever cleared with the forwarded signals blocked, so that no handler can send a signal to a pid
// that has been reaped (and may belong to another process by then).
volatile sig_atomic_t child_pid = 0;

// The signal that ended COMMAND, or that came before it started: zc-lockfile ends by it too.
int ending_signal = 0;

// What zc-lockfile started with, which COMMAND gets back: the signal mask, and whether SIGCHLD
// was ignored. The forwarded signals that were ignored get no handler: they stay ignored for both.
sigset_t inherited_mask;
bool sigchld_ignored = false;
sigset_t handled;  // the forwarded signals that have our handler

// Whether COMMAND got this signal itself. The kernel sends the terminal's signals (Ctrl-C,
// Ctrl-\, and the SIGHUP when the terminal's controlling process ends) to the foreground process
// group, which COMMAND shares with us unless it left it: those come with si_code SI_KERNEL. The
// one kernel signal sent to us alone is the SIGHUP of a terminal's hangup when we are the session
// leader. A signal sent by COMMAND itself (as kill 0 does) reached it too.
bool reached_command(int sig, const siginfo_t* info, pid_t child)
{
    if (info == nullptr) return false;
    if (info->si_code == SI_KERNEL) {
        if (sig == SIGHUP && ::getsid(0) == ::getpid()) return false;
        return ::getpgid(child) == ::getpgrp();
    }
    return info->si_code <= 0 && info->si_pid == child;  // SI_USER, SI_QUEUE, SI_TKILL
}

void set_mask(int how, const sigset_t& set, sigset_t* old = nullptr) { ::sigprocmask(how, &set, old); }

void set_disposition(int sig, void (*disposition)(int))
{
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = disposition;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
}

// Ends zc-lockfile by sig, as timeout(1) does when COMMAND died of a signal: a parent that sees
// an exit status of 128+N cannot tell it from a death by N, and a shell stops a script or a list
// at a Ctrl-C only when its child died of SIGINT. No core dump: the fault, if any, was COMMAND's.
// On Linux that takes PR_SET_DUMPABLE: RLIMIT_CORE does not stop a core_pattern that pipes to a
// helper (systemd-coredump, apport), which would record a crash of zc-lockfile. Only system calls
// and calls on POSIX's async-signal-safe list (setrlimit and prctl are plain system calls on the
// systems we support), so the handler may call it.
[[noreturn]] void die_by(int sig)
{
#if defined(__linux__)
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    struct rlimit no_core;
    no_core.rlim_cur = no_core.rlim_max = 0;
    ::setrlimit(RLIMIT_CORE, &no_core);
    set_disposition(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    ::sigprocmask(SIG_UNBLOCK, &one, nullptr);
    ::raise(sig);
    // Still here: the kernel drops a signal whose action is the default when we are the init of a
    // pid namespace (a container's pid 1), and raise() refuses the C library's own signals.
    ::_exit(128 + sig);
}

extern "C" void on_signal(int sig, siginfo_t* info, void*)
{
    const int saved = errno;
    const pid_t child = static_cast<pid_t>(child_pid);
    if (child > 0) {
        if (!reached_command(sig, info, child)) {
            ::kill(child, sig);  // COMMAND decides; we report how it ended
            // A signal that asks COMMAND to end is followed by SIGCONT: stopped on its own, it
            // would not act on it until continued. SIGUSR1/SIGUSR2 leave a paused COMMAND paused.
            if (sig != SIGUSR1 && sig != SIGUSR2) ::kill(child, SIGCONT);
        }
        errno = saved;
        return;
    }
    // Still waiting for the lock (everywhere else the handled signals are blocked): nothing is
    // held that the kernel will not release. End now, by that signal.
    die_by(sig);
}

// In the child, between fork and exec: only async-signal-safe calls. The handled signals are
// blocked on entry: they stay so until their disposition is the default again.
[[noreturn]] void exec_command(char* const* argv, pid_t parent)
{
#if defined(__linux__)
    // If zc-lockfile dies, even by SIGKILL, COMMAND must not go on without the lock. The parent
    // may have died before the call took effect: then our parent is no longer the one we had.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(exit_software);
#else
    (void)parent;
#endif
    for (int sig : forwarded_signals)
        if (sigismember(&handled, sig)) set_disposition(sig, SIG_DFL);
    if (sigchld_ignored) set_disposition(SIGCHLD, SIG_IGN);
    set_mask(SIG_SETMASK, inherited_mask);
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

// The first handled signal that arrived while they were blocked, or 0.
int pending_signal()
{
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    for (int sig : forwarded_signals)
        if (sigismember(&handled, sig) && sigismember(&pending, sig)) return sig;
    return 0;
}

// Waits for COMMAND to end without reaping it, so that its pid stays its own while a handler may
// still signal it; then blocks the handled signals, forgets the pid and reaps. The status comes
// from waitid's report. A status that cannot be learnt is exit_software, never 0: 0 would report
// a command that may have failed as a success.
int wait_for(pid_t child, const std::string& name)
{
    siginfo_t info;
    for (;;) {
        std::memset(&info, 0, sizeof info);
        if (::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0) break;
        if (errno == EINTR) continue;
        const int e = errno;
        set_mask(SIG_BLOCK, handled);
        child_pid = 0;
        std::cerr << "zc-lockfile: cannot learn how " << name << " ended: " << std::strerror(e) << "\n";
        return exit_software;
    }
    set_mask(SIG_BLOCK, handled);
    child_pid = 0;
    int ignored = 0;
    while (::waitpid(child, &ignored, 0) < 0 && errno == EINTR) {
    }
    if (info.si_code == CLD_EXITED) return info.si_status;
    if (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED) {
        ending_signal = info.si_status;
        return 128 + info.si_status;
    }
    return exit_software;
}

} // namespace

void prepare_signals()
{
    ::sigprocmask(SIG_SETMASK, nullptr, &inherited_mask);
    // An ignored SIGCHLD makes the kernel reap COMMAND by itself, and waitid fail with ECHILD.
    struct sigaction chld;
    ::sigaction(SIGCHLD, nullptr, &chld);
    sigchld_ignored = chld.sa_handler == SIG_IGN;
    set_disposition(SIGCHLD, SIG_DFL);

    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&handled);
    for (int sig : forwarded_signals) {
        struct sigaction current;
        ::sigaction(sig, nullptr, &current);
        // nohup's SIGHUP stays ignored. A signal the parent blocked stays blocked, for us and for
        // COMMAND: one pending from before, or sent while we wait, is the parent's to deal with.
        if (current.sa_handler != SIG_IGN && !sigismember(&inherited_mask, sig)) sigaddset(&handled, sig);
    }
    sa.sa_mask = handled;  // one handler at a time
    for (int sig : forwarded_signals)
        if (sigismember(&handled, sig)) ::sigaction(sig, &sa, nullptr);
}

void hold_signals() { set_mask(SIG_BLOCK, handled); }

void end_as_command()
{
    if (ending_signal == 0) return;
    std::cout.flush();
    die_by(ending_signal);
}

std::vector<std::string> arguments(int argc, char** argv) { return std::vector<std::string>(argv + 1, argv + argc); }

int run_command(const std::vector<std::string>& command)
{
    hold_signals();  // from the lock to the fork: a signal waits until we know what to do with it
    // A signal that came while we held the lock and COMMAND had not started: COMMAND did not get
    // it, and is not started. The caller releases the lock.
    if (const int sig = pending_signal()) {
        ending_signal = sig;
        return 128 + sig;
    }

    std::vector<char*> argv;
    for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child == 0) exec_command(argv.data(), parent);
    if (child < 0) {
        const int e = errno;
        std::cerr << "zc-lockfile: cannot start " << command[0] << ": " << std::strerror(e) << "\n";
        return exit_software;
    }
    child_pid = child;
    set_mask(SIG_SETMASK, inherited_mask);
    return wait_for(child, command[0]);
    // The handled signals stay blocked: one that comes after COMMAND ended changes nothing, and
    // the caller releases the lock and exits with COMMAND's status.
}

} // namespace zc_cli
