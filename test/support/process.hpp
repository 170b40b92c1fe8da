// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Child processes for the tests: a spawned program talked to through pipes, with every wait
// bounded, and probers that try a kernel lock in a forked child.
//
// Written by hand rather than with Boost.Process: its v1 pipes offer no read with a time limit,
// and a test that can hang on a misbehaving helper is worse than one that fails.
#ifndef ZC_LOCKFILE_TEST_PROCESS_HPP
#define ZC_LOCKFILE_TEST_PROCESS_HPP

#include <chrono>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace zc_test {

using namespace std::chrono_literals;

// How long any single step of a test may wait for another process before the test fails.
constexpr std::chrono::milliseconds step_limit = 20s;

class child_process {
public:
    // With merge_stderr, the child's stderr goes to the same pipe as its stdout.
    explicit child_process(const std::vector<std::string>& argv, bool merge_stderr = false)
    {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&actions, out[1], 1);
        if (merge_stderr) posix_spawn_file_actions_adddup2(&actions, out[1], 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(in[0]);
        ::close(out[1]);
        to_child_ = in[1];
        from_child_ = out[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
        }
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    ~child_process()
    {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            int status;
            ::waitpid(pid_, &status, 0);
        }
        if (to_child_ >= 0) ::close(to_child_);
        if (from_child_ >= 0) ::close(from_child_);
    }

    pid_t pid() const { return pid_; }

    // One line of the child's output, without its newline; "" at end of output. Throws when no
    // full line arrives within step_limit.
    std::string read_line()
    {
        if (eof_) return std::string();
        const auto deadline = std::chrono::steady_clock::now() + step_limit;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("timed out waiting for a line from the child");
            pollfd p{from_child_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) continue;
            char buf[512];
            const ssize_t n = ::read(from_child_, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                eof_ = true;
                std::string rest;
                rest.swap(buffer_);
                return rest;
            }
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }

    // Every line until the child closes its output.
    std::vector<std::string> read_all_lines()
    {
        std::vector<std::string> lines;
        for (std::string line; !(line = read_line()).empty() || !at_end();) lines.push_back(line);
        return lines;
    }

    // Reads lines until one starts with prefix; returns it. Throws at end of output.
    std::string read_until(const std::string& prefix)
    {
        for (;;) {
            std::string line = read_line();
            if (line.rfind(prefix, 0) == 0) return line;
            if (line.empty() && at_end()) throw std::runtime_error("no line starting with '" + prefix + "'");
        }
    }

    void write_line(const std::string& line)
    {
        const std::string data = line + "\n";
        if (::write(to_child_, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
            throw std::runtime_error("cannot write to the child");
    }

    void close_stdin()
    {
        if (to_child_ >= 0) ::close(to_child_);
        to_child_ = -1;
    }

    void kill(int sig) { ::kill(pid_, sig); }

    // The child's wait status; throws when it does not end within step_limit. Once reaped, the
    // same status again (a second waitpid would fail with ECHILD until the time limit).
    int wait()
    {
        if (reaped_) return status_;
        const auto deadline = std::chrono::steady_clock::now() + step_limit;
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                reaped_ = true;
                status_ = status;
                return status;
            }
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the child did not end in time");
            std::this_thread::sleep_for(1ms);
        }
    }

    // Exit code, or 128 + signal number.
    int exit_code()
    {
        const int status = wait();
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    pid_t pid_ = -1;
    int to_child_ = -1;
    int from_child_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    bool eof_ = false;
    std::string buffer_;

    bool at_end() const { return eof_ && buffer_.empty(); }
};

// A peer process that holds a lock once it has said "locked..." on its first line; release()
// closes its input, which makes every helper let go and exit.
class holder {
public:
    explicit holder(const std::vector<std::string>& argv) : child_(argv)
    {
        const std::string line = child_.read_line();
        if (line.rfind("locked", 0) != 0) throw std::runtime_error("holder " + argv[0] + " said: " + line);
    }
    // Lets go and waits for the peer to end: killing it instead could leave a child of it (the
    // shell flock(1) runs) holding the inherited lock for a while.
    ~holder()
    {
        child_.close_stdin();
        try {
            child_.wait();
        } catch (...) {
        }
    }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
    void release() { child_.close_stdin(); }
    pid_t pid() const { return child_.pid(); }
    child_process& process() { return child_; }

private:
    child_process child_;
};

// Runs f() in a forked child and returns its exit code (128 + signal if it died). f must only
// make system calls: the child of a threaded process may not allocate or take locks.
template <class F> int in_forked_child(F f)
{
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) ::_exit(f());
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

enum probe { probe_acquired = 0, probe_busy = 1, probe_error = 2 };

// True when the NFS emulation stage (test/nfs_emulation.sh) runs this process with flock
// emulated as an NFS client does: as a whole-file OFD lock, whose owner the kernel cannot name
// (F_GETLK and /proc/locks give pid -1 for it).
inline bool flock_emulated_as_ofd()
{
    const char* v = std::getenv("ZC_NFS_SHIM_FLOCK");
    return v != nullptr && std::string(v) == "ofd";
}

// Another process tries flock(LOCK_EX|LOCK_NB) on its own descriptor of path. Opened for writing,
// as Python's zc.lockfile does: on NFS (and under the emulation) an exclusive flock needs it.
inline int probe_flock(const std::string& path)
{
    return in_forked_child([&] {
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return int(probe_error);
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return int(probe_acquired);
        return errno == EWOULDBLOCK ? int(probe_busy) : int(probe_error);
    });
}

// A whole-file POSIX write lock, as boost file_lock takes: for F_SETLK or F_GETLK.
inline struct flock whole_file_write_lock() noexcept
{
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fl;
}

// Another process tries a whole-file POSIX write lock (what boost file_lock takes).
inline int probe_fcntl(const std::string& path)
{
    return in_forked_child([&] {
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) return int(probe_error);
        struct flock fl = whole_file_write_lock();
        if (::fcntl(fd, F_SETLK, &fl) == 0) return int(probe_acquired);
        return (errno == EACCES || errno == EAGAIN) ? int(probe_busy) : int(probe_error);
    });
}

// What another process's F_GETLK says of a whole-file write lock on path: which record lock stands
// in its way. F_GETLK sees POSIX record locks and OFD locks only, never a flock (on a local file
// system), and names the owner of a POSIX one by its pid (an OFD lock's owner is -1).
enum record_lock_seen { no_record_lock = 0, write_lock_of_parent = 1, read_lock_of_parent = 2, another_owners_lock = 3, getlk_error = 4 };
inline int record_lock_seen_by_child(const std::string& path)
{
    return in_forked_child([&] {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return int(getlk_error);
        struct flock fl = whole_file_write_lock();
        if (::fcntl(fd, F_GETLK, &fl) != 0) return int(getlk_error);
        if (fl.l_type == F_UNLCK) return int(no_record_lock);
        if (fl.l_pid != ::getppid()) return int(another_owners_lock);
        return fl.l_type == F_WRLCK ? int(write_lock_of_parent) : int(read_lock_of_parent);
    });
}

} // namespace zc_test

#endif
