// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Child processes for the tests and the benchmarks: a spawned program talked to through pipes,
// with every wait bounded, on POSIX (posix_spawn) and Windows (CreateProcess) alike; and, on
// POSIX, probers that try a kernel lock in a forked child.
//
// Written by hand rather than with Boost.Process: its v1 pipes offer no read with a time limit,
// and a test that can hang on a misbehaving helper is worse than one that fails.
#ifndef ZC_LOCKFILE_TEST_PROCESS_HPP
#define ZC_LOCKFILE_TEST_PROCESS_HPP

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include "../../tools/zc-lockfile/command_line.hpp"
#else
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

namespace zc_test {

using namespace std::chrono_literals;

// How long any single step of a test may wait for another process before the test fails.
constexpr std::chrono::milliseconds step_limit = 20s;

// Lines out of a stream that arrives in pieces, every wait bounded. read_some(buf, size, left)
// waits at most `left` for bytes: it returns how many it read, 0 at the end of the stream, or -1
// when none came in time.
class line_reader {
public:
    enum status { line, end, timed_out };

    // The next complete line, without its '\n', in `out`; or the stream ended (rest() holds an
    // unterminated last line), or the deadline passed first.
    template <class ReadSome> status next(std::string& out, std::chrono::steady_clock::time_point deadline, ReadSome read_some)
    {
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                out = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            if (ended_) return end;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return timed_out;
            char buf[512];
            const long n = read_some(buf, sizeof buf, left);
            if (n == 0) ended_ = true;
            if (n > 0) buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }

    // After the end: what followed the last newline (taken once).
    std::string rest()
    {
        std::string r;
        r.swap(buffer_);
        return r;
    }
    bool at_end() const { return ended_ && buffer_.empty(); }

private:
    std::string buffer_;
    bool ended_ = false;
};

#if !defined(_WIN32)
// read_some for line_reader on a POSIX descriptor: poll, then read (-1 also when poll was
// interrupted: the caller tries again until its deadline).
inline long read_some_from(int fd, char* buf, std::size_t size, std::chrono::milliseconds left)
{
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return -1;
    const ssize_t n = ::read(fd, buf, size);
    if (n < 0) return errno == EINTR ? -1 : 0;
    return static_cast<long>(n);
}
#endif

// A program started with its stdin and stdout connected to us by pipes (and its stderr too with
// merge_stderr; otherwise it shares ours). Its argv[0] is looked up on PATH on POSIX. One
// interface on both platforms; what differs is inside:
//   - read_line strips a "\r" before the "\n" on Windows, where programs write text-mode line
//     ends; on POSIX a line is what precedes "\n", byte for byte;
//   - exit_code() is the exit status, or 128 + the signal's number on POSIX when a signal ended it
//     (terminate() gives 137 on both, as SIGKILL does on POSIX);
//   - kill(sig) exists on POSIX only, for Windows has no signals.
class child_process {
public:
#if defined(_WIN32)
    using process_id = unsigned long;
#else
    using process_id = pid_t;
#endif

    explicit child_process(const std::vector<std::string>& argv, bool merge_stderr = false)
    {
#if defined(_WIN32)
        SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
        HANDLE in_read, in_write, out_read, out_write;
        if (!::CreatePipe(&in_read, &in_write, &inherit, 0) || !::CreatePipe(&out_read, &out_write, &inherit, 0))
            throw std::runtime_error("CreatePipe failed");
        // Only the child's ends are inherited.
        ::SetHandleInformation(in_write, HANDLE_FLAG_INHERIT, 0);
        ::SetHandleInformation(out_read, HANDLE_FLAG_INHERIT, 0);
        // UTF-8 arguments, as the command takes them (command_line.hpp).
        std::wstring command = zc_cli::widen(zc_cli::command_line(argv));
        STARTUPINFOW si{};
        si.cb = sizeof si;
        si.dwFlags = STARTF_USESTDHANDLES;
        si.hStdInput = in_read;
        si.hStdOutput = out_write;
        si.hStdError = merge_stderr ? out_write : ::GetStdHandle(STD_ERROR_HANDLE);
        PROCESS_INFORMATION pi{};
        const BOOL ok = ::CreateProcessW(nullptr, &command[0], nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi);
        ::CloseHandle(in_read);
        ::CloseHandle(out_write);
        to_child_ = in_write;
        from_child_ = out_read;
        if (!ok) throw std::runtime_error("cannot start " + argv[0]);
        ::CloseHandle(pi.hThread);
        process_ = pi.hProcess;
        pid_ = pi.dwProcessId;
#else
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
#endif
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    ~child_process()
    {
        if (!ended_) {
            try {
                terminate();
            } catch (...) {
            }
        }
        close_stdin();
#if defined(_WIN32)
        if (process_ != nullptr) ::CloseHandle(process_);
        if (from_child_ != nullptr) ::CloseHandle(from_child_);
#else
        if (from_child_ >= 0) ::close(from_child_);
#endif
    }

    process_id pid() const { return pid_; }

    // One line of the child's output, without its line end; "" at end of output. Throws when no
    // full line arrives within step_limit.
    std::string read_line()
    {
        std::string out;
        switch (output_.next(out, std::chrono::steady_clock::now() + step_limit,
                             [this](char* buf, std::size_t size, std::chrono::milliseconds left) { return read_some(buf, size, left); })) {
        case line_reader::line: break;
        case line_reader::end: out = output_.rest(); break;
        case line_reader::timed_out: throw std::runtime_error("timed out waiting for a line from the child");
        }
#if defined(_WIN32)
        if (!out.empty() && out.back() == '\r') out.pop_back();
#endif
        return out;
    }

    // Every line until the child closes its output.
    std::vector<std::string> read_all_lines()
    {
        std::vector<std::string> lines;
        for (std::string line; !(line = read_line()).empty() || !output_.at_end();) lines.push_back(line);
        return lines;
    }

    // Reads lines until one starts with prefix; returns it. Throws at end of output.
    std::string read_until(const std::string& prefix)
    {
        for (;;) {
            std::string line = read_line();
            if (line.rfind(prefix, 0) == 0) return line;
            if (line.empty() && output_.at_end()) throw std::runtime_error("no line starting with '" + prefix + "'");
        }
    }

    void write_line(const std::string& line)
    {
        const std::string data = line + "\n";
#if defined(_WIN32)
        DWORD put = 0;
        if (!::WriteFile(to_child_, data.data(), static_cast<DWORD>(data.size()), &put, nullptr) || put != data.size())
#else
        if (::write(to_child_, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
#endif
            throw std::runtime_error("cannot write to the child");
    }

    void close_stdin()
    {
#if defined(_WIN32)
        if (to_child_ != nullptr) ::CloseHandle(to_child_);
        to_child_ = nullptr;
#else
        if (to_child_ >= 0) ::close(to_child_);
        to_child_ = -1;
#endif
    }

#if !defined(_WIN32)
    void kill(int sig) { ::kill(pid_, sig); }
#endif

    // Ends the child at once, as a crash would (no destructor runs in it), and reaps it.
    void terminate()
    {
#if defined(_WIN32)
        if (process_ != nullptr) ::TerminateProcess(process_, 137);
#else
        if (pid_ > 0) ::kill(pid_, SIGKILL);
#endif
        wait();
    }

    // The child's exit code (see above); throws when it does not end within step_limit. Once it
    // has ended, the same code again.
    int wait()
    {
        if (ended_) return code_;
#if defined(_WIN32)
        if (process_ == nullptr) return code_;
        if (::WaitForSingleObject(process_, static_cast<DWORD>(step_limit.count())) != WAIT_OBJECT_0)
            throw std::runtime_error("the child did not end in time");
        DWORD code = 0;
        ::GetExitCodeProcess(process_, &code);
        code_ = static_cast<int>(code);
#else
        if (pid_ <= 0) return code_;
        const auto deadline = std::chrono::steady_clock::now() + step_limit;
        int status = 0;
        for (;;) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) break;
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the child did not end in time");
            std::this_thread::sleep_for(1ms);
        }
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
#endif
        ended_ = true;
        return code_;
    }
    int exit_code() { return wait(); }

private:
#if defined(_WIN32)
    HANDLE process_ = nullptr;
    HANDLE to_child_ = nullptr;
    HANDLE from_child_ = nullptr;

    // PeekNamedPipe, checked every millisecond: an anonymous pipe has no read with a time limit.
    long read_some(char* buf, std::size_t size, std::chrono::milliseconds left)
    {
        const auto deadline = std::chrono::steady_clock::now() + left;
        for (;;) {
            DWORD available = 0;
            if (!::PeekNamedPipe(from_child_, nullptr, 0, nullptr, &available, nullptr)) return 0;  // the child closed its end
            if (available > 0) {
                DWORD got = 0;
                if (!::ReadFile(from_child_, buf, std::min<DWORD>(available, static_cast<DWORD>(size)), &got, nullptr)) return 0;
                return static_cast<long>(got);
            }
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::sleep_for(1ms);
        }
    }
#else
    int to_child_ = -1;
    int from_child_ = -1;

    long read_some(char* buf, std::size_t size, std::chrono::milliseconds left) { return read_some_from(from_child_, buf, size, left); }
#endif
    process_id pid_ = 0;
    bool ended_ = false;
    int code_ = 0;
    line_reader output_;
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
    child_process::process_id pid() const { return child_.pid(); }
    child_process& process() { return child_; }

private:
    child_process child_;
};

// What a probe found: another opener of the file tried to lock it.
enum probe { probe_acquired = 0, probe_busy = 1, probe_error = 2 };

#if defined(_WIN32)
// Windows has one family of locks, byte ranges, held by a handle: a handle of our own is refused
// byte 0 while any other handle, of this process or of another, holds it, as another process
// would be. Both probes try that (exclusive, not waiting) and let go at once.
inline int probe_byte_0(const std::string& path)
{
    const HANDLE h = ::CreateFileW(zc_cli::widen(path).c_str(), GENERIC_READ | GENERIC_WRITE,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                   FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) return probe_error;
    OVERLAPPED at0{};
    int result = probe_acquired;
    if (::LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &at0))
        ::UnlockFileEx(h, 0, 1, 0, &at0);
    else
        result = ::GetLastError() == ERROR_LOCK_VIOLATION ? probe_busy : probe_error;
    ::CloseHandle(h);
    return result;
}
inline int probe_flock(const std::string& path) { return probe_byte_0(path); }
inline int probe_fcntl(const std::string& path) { return probe_byte_0(path); }
inline bool flock_emulated_as_ofd() { return false; }
#else
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
#endif

#if !defined(_WIN32)
// The first python3 on PATH that imports zc.lockfile (a pyenv shim first on PATH may have none),
// for the peers of the tests (fixture.hpp's python3(), which takes one from the command line
// first) and of the benchmarks. Throws, saying so, when there is none.
inline std::string python3_on_path()
{
    const char* path = std::getenv("PATH");
    const std::string dirs = path != nullptr ? path : "";
    std::string tried;
    for (std::size_t start = 0; start <= dirs.size();) {
        const std::size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::string candidate = (end > start ? dirs.substr(start, end - start) : std::string(".")) + "/python3";
        start = end + 1;
        if (::access(candidate.c_str(), X_OK) != 0) continue;
        if (std::system(("'" + candidate + "' -c 'import zc.lockfile' >/dev/null 2>&1").c_str()) == 0) return candidate;
        tried += " " + candidate;
    }
    throw std::runtime_error("no python3 that imports zc.lockfile, on the command line or on PATH (tried:" + tried +
                             "): the Python peers need Python's zc.lockfile (Debian: python3-zc.lockfile)");
}
#endif

} // namespace zc_test

#endif
