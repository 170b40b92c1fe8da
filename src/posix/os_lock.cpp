// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// POSIX implementation of the platform seam.

#include "../os_lock.hpp"
#include "lock_families.hpp"

#include <zc/lockfile/error.hpp>

#include <boost/interprocess/exceptions.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace zc {
namespace lockfile {
namespace detail {

namespace {

// boost::interprocess::file_lock can only open a file by name, without O_CLOEXEC, and offers no
// access to its descriptor. We want it to lock *our* descriptor instead (os_lock.hpp says why),
// and only its handle member lets us do that. An explicit instantiation may name a private member
// (C++17 [temp.spec]/6), which gives exactly that access; if a future Boost renames the member,
// this stops compiling rather than misbehaving.
using ipc_handle = boost::interprocess::file_handle_t;
template <ipc_handle boost::interprocess::file_lock::*Member> struct file_lock_handle_access {
    friend ipc_handle& file_lock_handle(boost::interprocess::file_lock& l) noexcept { return l.*Member; }
};
template struct file_lock_handle_access<&boost::interprocess::file_lock::m_file_hnd>;
ipc_handle& file_lock_handle(boost::interprocess::file_lock& l) noexcept;
static_assert(std::is_same<ipc_handle, handle>::value, "file_lock's handle is a POSIX descriptor");

boost::system::error_code errno_code(int e) noexcept
{
    return boost::system::error_code(e, boost::system::system_category());
}

const char* kind_of(mode_t mode) noexcept
{
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

void fill(const struct stat& st, file_facts& out) noexcept
{
    out.id.dev = static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev)));
    out.id.ino = static_cast<std::uint64_t>(st.st_ino);
    out.regular = S_ISREG(st.st_mode);
    out.kind = kind_of(st.st_mode);
    out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

#if defined(STATX_INO)
void fill(const struct statx& st, file_facts& out) noexcept
{
    out.id.dev = static_cast<std::uint64_t>(makedev(st.stx_dev_major, st.stx_dev_minor));
    out.id.ino = static_cast<std::uint64_t>(st.stx_ino);
    out.regular = S_ISREG(st.stx_mode);
    out.kind = kind_of(st.stx_mode);
    out.mtime_ns = (st.stx_mask & STATX_MTIME) ? static_cast<std::int64_t>(st.stx_mtime.tv_sec) * 1000000000 + st.stx_mtime.tv_nsec : 0;
}
#endif

// stat, asking for no more than the caller needs. Since Linux 6.13, reading a file's timestamps
// makes its next write take a fine-grained timestamp ("multigrain timestamps"), which dirties the
// inode on every write; ext4 then journals each one. A plain fstat/lstat asks for the timestamps,
// and measured on ext4 it made our record's pwrite cost 3.5 us instead of 1: so the identity
// checks of every cycle ask statx for the type and inode number alone. Where statx is missing
// (old kernels, some seccomp filters), fstatat serves.
int stat_at(int dirfd, const char* path, int flags, stat_detail detail, file_facts& out) noexcept
{
#if defined(STATX_INO)
    static std::atomic<bool> statx_works{true};
    if (statx_works.load(std::memory_order_relaxed)) {
        struct statx st;
        const unsigned mask = STATX_TYPE | STATX_INO | (detail == stat_detail::with_mtime ? STATX_MTIME : 0);
        if (::statx(dirfd, path, flags, mask, &st) == 0) {
            fill(st, out);
            return 0;
        }
        if (errno != ENOSYS && errno != EPERM) return -1;
        statx_works.store(false, std::memory_order_relaxed);
    }
#else
    (void)detail;
#endif
    struct stat st;
    if (::fstatat(dirfd, path, &st, flags) != 0) return -1;
    fill(st, out);
    return 0;
}

} // namespace

handle open_file(const std::string& path, open_mode mode, bool follow, boost::system::error_code& ec) noexcept
{
    ec.clear();
    if (path.empty()) {
        ec = make_error_code(error::empty_path);
        return invalid_handle;
    }
    // O_NONBLOCK: opening a FIFO must not wait for a writer. It has no effect on regular files.
    int flags = O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW);
    flags |= mode == open_mode::create_read_write ? (O_RDWR | O_CREAT) : O_RDONLY;
    for (;;) {
        const int fd = ::open(path.c_str(), flags, 0644);
        if (fd >= 0) return fd;
        if (errno == EINTR) continue;  // a signal during open (NFS, FUSE): simply try again
        const int e = errno;
        struct stat st;
        if (e == ELOOP && !follow && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
            ec = make_error_code(error::symbolic_link);
        else
            ec = errno_code(e);
        return invalid_handle;
    }
}

bool stat_handle(handle h, file_facts& out, boost::system::error_code& ec, stat_detail detail) noexcept
{
    if (stat_at(h, "", AT_EMPTY_PATH, detail, out) != 0) {
        ec = errno_code(errno);
        return false;
    }
    // Every descriptor the library locks was identified here after its open: the lock and its
    // release then find its file system's decision without a system call.
    note_descriptor(h, out.id.dev);
    ec.clear();
    return true;
}

bool stat_path(const std::string& path, bool follow, file_facts& out, boost::system::error_code& ec,
               stat_detail detail) noexcept
{
    ec.clear();
    if (path.empty()) {
        ec = make_error_code(error::empty_path);
        return false;
    }
    if (stat_at(AT_FDCWD, path.c_str(), follow ? 0 : AT_SYMLINK_NOFOLLOW, detail, out) != 0) {
        if (errno != ENOENT) ec = errno_code(errno);
        return false;
    }
    return true;
}

void close_handle(handle h) noexcept
{
    // No retry on EINTR: on Linux the descriptor is released even when close reports EINTR.
    if (h == invalid_handle) return;
    forget_descriptor(h);
    ::close(h);
}

std::size_t read_at(handle h, char* buf, std::size_t n, std::uint64_t offset, boost::system::error_code& ec) noexcept
{
    // Only lock files are read, and they are regular files: there a read returns less than asked
    // only at the end of the file, or when the request exceeds the most Linux transfers at once
    // (0x7ffff000 bytes). So a short read of a smaller request ends the loop, without the extra
    // pread that would return 0.
    constexpr std::size_t max_single_read = 0x7ffff000;
    ec.clear();
    std::size_t done = 0;
    while (done < n) {
        const std::size_t want = n - done;
        const ssize_t r = ::pread(h, buf + done, want, static_cast<off_t>(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            ec = errno_code(errno);
            return 0;
        }
        done += static_cast<std::size_t>(r);
        if (r == 0 || (static_cast<std::size_t>(r) < want && want <= max_single_read)) break;
    }
    return done;
}

void write_at(handle h, const char* buf, std::size_t n, std::uint64_t offset, boost::system::error_code& ec) noexcept
{
    ec.clear();
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::pwrite(h, buf + done, n - done, static_cast<off_t>(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            ec = errno_code(errno);
            return;
        }
        done += static_cast<std::size_t>(r);
    }
}

void truncate_to(handle h, std::uint64_t size, boost::system::error_code& ec) noexcept
{
    ec.clear();
    while (::ftruncate(h, static_cast<off_t>(size)) != 0) {
        if (errno == EINTR) continue;
        ec = errno_code(errno);
        return;
    }
}

namespace {

// Whether flock and record locks see each other is decided per file system (lock_families.hpp):
// where they do not, a lock takes both; where they do (NFS, SMB/CIFS, 9p; macOS and the BSDs
// everywhere), our two locks would refuse each other, and the record lock alone already excludes
// flock users: only it is taken.

lock_result flock_once(handle h, bool shared, bool wait, boost::system::error_code& ec) noexcept
{
    const int op = (shared ? LOCK_SH : LOCK_EX) | (wait ? 0 : LOCK_NB);
    while (::flock(h, op) != 0) {
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return lock_result::busy;
        ec = errno_code(errno);
        return lock_result::failed;
    }
    return lock_result::acquired;
}

lock_result record_lock_once(boost::interprocess::file_lock& l, bool shared, bool wait, boost::system::error_code& ec) noexcept
{
    for (;;) {
        try {
            if (wait) {
                // Boost 1.81's lock() throws on EINTR rather than retrying; retried below.
                if (shared) l.lock_sharable();
                else l.lock();
                return lock_result::acquired;
            }
            return (shared ? l.try_lock_sharable() : l.try_lock()) ? lock_result::acquired : lock_result::busy;
        } catch (const boost::interprocess::interprocess_exception& e) {
            const int native = e.get_native_error();
            if (native == EINTR) continue;
            // The kernel saw a deadlock between record-lock waiters: back off and poll instead.
            if (native == EDEADLK) return lock_result::busy;
            ec = errno_code(native != 0 ? native : EIO);
            return lock_result::failed;
        } catch (...) {
            // No memory for file_lock's exception: the lock was not taken.
            ec = errno_code(ENOMEM);
            return lock_result::failed;
        }
    }
}


} // namespace

lock_result os_lock::lock_until(handle h, bool shared, std::chrono::steady_clock::time_point deadline,
                                boost::system::error_code& ec) noexcept
{
    ec.clear();
    const bool forever = deadline == std::chrono::steady_clock::time_point::max();
    auto interval = min_poll_interval;
    // 1. flock, owned by our open file description.
    if (takes_flock(h)) {
        const lock_result r = attempt_until(deadline, interval, [&] { return flock_once(h, shared, forever, ec); });
        if (r != lock_result::acquired) return r;
    }
    // 2. The POSIX record lock, through boost::interprocess::file_lock working on our descriptor.
    // The flock is kept while waiting for it, as a blocking waiter would.
    file_lock_handle(record_lock_) = h;
    const lock_result r =
        attempt_until(deadline, interval, [&] { return record_lock_once(record_lock_, shared, forever, ec); });
    if (r != lock_result::acquired) {
        disown();
        release_flock(h);
    }
    return r;
}

void release_flock(handle h) noexcept
{
    if (takes_flock(h)) ::flock(h, LOCK_UN);
}

void release_record_lock(handle h) noexcept { (void)boost::interprocess::ipcdetail::release_file_lock(h); }

void os_lock::disown() noexcept { file_lock_handle(record_lock_) = boost::interprocess::ipcdetail::invalid_file(); }

kernel_holder probe_holder(handle h, const file_id& id) noexcept
{
    kernel_holder out;
    // Record locks (and OFD locks, reported with pid -1) through F_GETLK, which takes nothing.
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(h, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
        out.locked = true;
        out.family = fl.l_pid > 0 ? kernel_holder::kind::posix : kernel_holder::kind::ofd;
        out.pid = fl.l_pid > 0 ? fl.l_pid : 0;
        return out;
    }
#if defined(__linux__)
    // flock holders: /proc/locks lines read "N: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF",
    // with the device numbers in hex; waiters are marked "->" and are skipped.
    std::ifstream in("/proc/locks");
    std::string line;
    char want[64];
    std::snprintf(want, sizeof want, "%02x:%02x:%llu", major(static_cast<dev_t>(id.dev)), minor(static_cast<dev_t>(id.dev)),
                  static_cast<unsigned long long>(id.ino));
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string index, type, mode, access, pid, where;
        fields >> index >> type;
        if (type == "->") continue;
        fields >> mode >> access >> pid >> where;
        if (type != "FLOCK" || where != want) continue;
        out.locked = true;
        out.family = kernel_holder::kind::flock;
        out.pid = std::strtoll(pid.c_str(), nullptr, 10);
        return out;
    }
#else
    (void)id;
#endif
    return out;
}

namespace {
std::atomic<long long> cached_pid{0};
// Like a sequence lock: odd while a fork is in progress (from the prepare handler until the
// parent's handler, or the child's), advanced by two for each fork.
std::atomic<std::uint64_t> fork_seq{0};
void renew_pid() noexcept { cached_pid.store(static_cast<long long>(::getpid()), std::memory_order_relaxed); }
void fork_starts() noexcept { fork_seq.fetch_add(1); }
void fork_ends() noexcept { fork_seq.fetch_add(1); }
void in_child() noexcept
{
    fork_ends();
    renew_pid();
}
void ensure_fork_handlers() noexcept
{
    static const int registered = [] {
        renew_pid();
        return ::pthread_atfork(fork_starts, fork_ends, in_child);
    }();
    (void)registered;
}
// At load time, before any descriptor of ours can exist; the function-local static above also
// covers a use from another static's constructor that runs first.
[[maybe_unused]] const bool fork_handlers_at_load = (ensure_fork_handlers(), true);
} // namespace

long long current_pid() noexcept
{
    ensure_fork_handlers();
    return cached_pid.load(std::memory_order_relaxed);
}

std::uint64_t fork_epoch() noexcept
{
    ensure_fork_handlers();
    return fork_seq.load();
}

bool no_fork_since(std::uint64_t epoch) noexcept { return epoch % 2 == 0 && fork_seq.load() == epoch; }

void at_fork(void (*prepare)() noexcept, void (*parent)() noexcept, void (*child)() noexcept) noexcept
{
    ::pthread_atfork(prepare, parent, child);
}

std::string host_name()
{
    char buf[256];
    if (::gethostname(buf, sizeof buf) != 0) return std::string();
    buf[sizeof buf - 1] = '\0';
    return std::string(buf);
}

process_state probe_process(long long pid) noexcept
{
    if (pid <= 0 || pid > static_cast<long long>(std::numeric_limits<pid_t>::max())) return process_state::unknown;
    if (::kill(static_cast<pid_t>(pid), 0) == 0) return process_state::running;
    if (errno == EPERM) return process_state::running;  // it exists; it is just not ours to signal
    if (errno == ESRCH) return process_state::gone;
    return process_state::unknown;
}

bool process_start_time(long long pid, std::int64_t& ns_since_epoch) noexcept
{
#if defined(__linux__)
    try {
        // Field 22 of /proc/PID/stat is the start time in clock ticks after boot; fields are
        // counted after the command name's closing parenthesis, since the name may hold spaces.
        std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
        const auto paren = text.rfind(')');
        if (paren == std::string::npos) return false;
        std::istringstream fields(text.substr(paren + 1));
        std::string field;
        unsigned long long ticks = 0;
        for (int n = 3; fields >> field; ++n) {
            if (n == 22) {
                ticks = std::strtoull(field.c_str(), nullptr, 10);
                break;
            }
        }
        if (ticks == 0) return false;
        std::ifstream boot("/proc/stat");
        std::string key;
        long long btime = 0;
        while (boot >> key) {
            if (key == "btime") {
                boot >> btime;
                break;
            }
        }
        const long hz = ::sysconf(_SC_CLK_TCK);
        if (btime <= 0 || hz <= 0) return false;
        ns_since_epoch = btime * 1000000000LL + static_cast<std::int64_t>(ticks) * (1000000000LL / hz);
        return true;
    } catch (...) {
        return false;
    }
#else
    (void)pid;
    (void)ns_since_epoch;
    return false;
#endif
}

} // namespace detail
} // namespace lockfile
} // namespace zc
