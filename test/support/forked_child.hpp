// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// A forked copy of the test process that runs a function and talks to the test through pipes, one
// line at a time, with every wait bounded on both sides: the parent's reads give up after
// step_limit (and kill the child), and the child dies of SIGALRM when the parent leaves it waiting
// longer than child_alarm.
//
// Unlike in_forked_child (process.hpp), the function may run library code: that is what the fork
// tests are about. In the child of a threaded process that is only sound for fork-safe code; the
// library must be, and the tests' own code in the child uses only what glibc makes fork-safe
// (malloc, pipes, plain system calls). Nothing in the child may use Boost.Test: it reports lines
// and the parent checks them.
#ifndef ZC_LOCKFILE_TEST_FORKED_CHILD_HPP
#define ZC_LOCKFILE_TEST_FORKED_CHILD_HPP

#include "process.hpp"

#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zc_test {

// How long a forked child may wait for its parent's next word (or run between two of its own
// reports) before SIGALRM ends it: longer than the parent ever waits for one report.
constexpr unsigned child_alarm_seconds = static_cast<unsigned>(step_limit.count() / 1000) * 2;

// In a forked child: the default action for the signals Boost.Test catches, so that a crash or an
// alarm ends the child (and its parent sees which signal) instead of landing in the copy of
// Boost.Test's handler, which would carry on with the test module in the child.
inline void restore_default_signal_handlers()
{
    for (int sig : {SIGABRT, SIGALRM, SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGSEGV, SIGSYS, SIGTRAP, SIGPOLL})
        ::signal(sig, SIG_DFL);
}

// "exit N" or "killed by signal N (NAME)", for messages.
inline std::string describe_wait_status(int status)
{
    if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const char* name = ::strsignal(WTERMSIG(status));
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + (name != nullptr ? name : "?") + ")";
    }
    return "status " + std::to_string(status);
}

// Writes all of data to fd, or as much as a broken pipe allows.
inline void write_all(int fd, const std::string& data)
{
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// The child's side of the conversation.
class parent_channel {
public:
    parent_channel(int from_parent, int to_parent) : from_parent_(from_parent), to_parent_(to_parent) {}

    // The parent's next line, without its newline; "" when the parent has closed its end.
    std::string await()
    {
        ::alarm(child_alarm_seconds);
        std::string line;
        char c;
        for (;;) {
            const ssize_t n = ::read(from_parent_, &c, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || c == '\n') return line;
            line += c;
        }
    }

    void say(const std::string& line)
    {
        ::alarm(child_alarm_seconds);
        write_all(to_parent_, line + "\n");
    }

private:
    int from_parent_;
    int to_parent_;
};

class forked_child {
public:
    // Forks; the child runs body(parent_channel&) and exits with the int it returns. An exception
    // escaping body is reported as a line "exception: WHAT" and exit code 70.
    template <class Body> explicit forked_child(Body body)
    {
        int down[2], up[2];
        if (::pipe2(down, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        if (::pipe2(up, O_CLOEXEC) != 0) {
            ::close(down[0]);
            ::close(down[1]);
            throw std::runtime_error("pipe failed");
        }
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            restore_default_signal_handlers();
            ::close(down[1]);
            ::close(up[0]);
            ::alarm(child_alarm_seconds);
            parent_channel channel(down[0], up[1]);
            int code = 0;
            try {
                code = body(channel);
            } catch (const std::exception& e) {
                channel.say(std::string("exception: ") + e.what());
                code = 70;
            } catch (...) {
                channel.say("exception: (not a std::exception)");
                code = 70;
            }
            ::_exit(code);
        }
        ::close(down[0]);
        ::close(up[1]);
        to_child_ = down[1];
        from_child_ = up[0];
    }
    forked_child(const forked_child&) = delete;
    forked_child& operator=(const forked_child&) = delete;

    ~forked_child()
    {
        end_now();
        if (to_child_ >= 0) ::close(to_child_);
        if (from_child_ >= 0) ::close(from_child_);
    }

    pid_t pid() const { return pid_; }

    // One line to the child; nothing when it has ended (a write to its closed pipe would raise
    // SIGPIPE, which is blocked around the write and discarded).
    void tell(const std::string& line)
    {
        if (to_child_ < 0 || reaped_) return;
        sigset_t pipe_signal, old;
        sigemptyset(&pipe_signal);
        sigaddset(&pipe_signal, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &pipe_signal, &old);
        write_all(to_child_, line + "\n");
        const timespec no_wait{0, 0};
        while (::sigtimedwait(&pipe_signal, nullptr, &no_wait) > 0) {
        }
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }

    // The child's next line. When none comes within step_limit, the child is killed; when it has
    // ended (or was killed), the line says so in parentheses, and every later call returns it at
    // once.
    std::string next_report()
    {
        if (!gone_.empty()) return gone_;
        std::string line;
        switch (reports_.next(line, std::chrono::steady_clock::now() + step_limit,
                              [this](char* buf, std::size_t size, std::chrono::milliseconds left) {
                                  return read_some_from(from_child_, buf, size, left);
                              })) {
        case line_reader::line: return line;
        case line_reader::end:
            gone_ = "(the child ended without reporting: " + describe_wait_status(wait_status()) + ")";
            return gone_;
        case line_reader::timed_out: break;
        }
        end_now();
        gone_ = "(no report within " + std::to_string(step_limit.count() / 1000) + " s: the child was killed)";
        return gone_;
    }

    // The child's wait status; after step_limit the child is killed (and the status says so).
    int wait_status()
    {
        if (reaped_) return status_;
        const auto deadline = std::chrono::steady_clock::now() + step_limit;
        for (;;) {
            const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
            if (r == pid_) {
                reaped_ = true;
                return status_;
            }
            if (r < 0 && errno != EINTR) {
                reaped_ = true;
                status_ = -1;
                return status_;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                end_now();
                return status_;
            }
            std::this_thread::sleep_for(1ms);
        }
    }

    // Kills the child if it still runs, and reaps it.
    void end_now()
    {
        if (pid_ <= 0 || reaped_) return;
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
        }
        reaped_ = true;
    }

private:
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    line_reader reports_;
    std::string gone_;
};

} // namespace zc_test

#endif
