// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// POSIX implementation of the platform seam.

#include "../os_lock.hpp"
#include "interprocess_internals.hpp"
#include "lock_families.hpp"

#include <zc/lockfile/error.hpp>

#include <boost/interprocess/exceptions.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <dirent.h>
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
// and only its handle member lets us do that: file_lock_handle(), with the other Interprocess
// internals used here, checked against the Boost in use in interprocess_internals.hpp.
static_assert(std::is_same<boost::interprocess::file_handle_t, handle>::value, "file_lock's handle is a POSIX descriptor");

boost::system::error_code errno_code(int e) noexcept
{
    return boost::system::error_code(e, boost::system::system_category());
}

file_kind kind_of(mode_t mode) noexcept
{
    if (S_ISREG(mode)) return file_kind::regular;
    if (S_ISDIR(mode)) return file_kind::directory;
    if (S_ISFIFO(mode)) return file_kind::fifo;
    if (S_ISSOCK(mode)) return file_kind::socket;
    if (S_ISCHR(mode)) return file_kind::character_device;
    if (S_ISBLK(mode)) return file_kind::block_device;
    if (S_ISLNK(mode)) return file_kind::symbolic_link;
    return file_kind::other;
}

void fill(const struct stat& st, file_facts& out) noexcept
{
    out.id.dev = static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev)));
    out.id.ino = static_cast<std::uint64_t>(st.st_ino);
    out.regular = S_ISREG(st.st_mode);
    out.kind = kind_of(st.st_mode);
    out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    out.mount = 0;  // unknown: the lock-families cache is then keyed on the device alone
    out.mount_unique = false;
}

#if defined(STATX_INO)
void fill(const struct statx& st, file_facts& out) noexcept
{
    out.id.dev = static_cast<std::uint64_t>(makedev(st.stx_dev_major, st.stx_dev_minor));
    out.id.ino = static_cast<std::uint64_t>(st.stx_ino);
    out.regular = S_ISREG(st.stx_mode);
    out.kind = kind_of(st.stx_mode);
    out.mtime_ns = (st.stx_mask & STATX_MTIME) ? static_cast<std::int64_t>(st.stx_mtime.tv_sec) * 1000000000 + st.stx_mtime.tv_nsec : 0;
    out.mount = (st.stx_mask & (statx_mount_id_unique | statx_mount_id)) ? static_cast<std::uint64_t>(st.stx_mnt_id) : 0;
    out.mount_unique = (st.stx_mask & statx_mount_id_unique) != 0;
}
#endif

// stat, asking for no more than the caller needs. Since Linux 6.13, reading a file's timestamps
// makes its next write take a fine-grained timestamp ("multigrain timestamps"), which dirties the
// inode on every write; ext4 then journals each one. A plain fstat/lstat asks for the timestamps,
// and measured on ext4 it made our record's pwrite cost 3.5 us instead of 1: so the identity
// checks of every cycle ask statx for the type and inode number alone. Where statx is missing
// (old kernels, some seccomp filters), fstatat serves.
// The mount's id comes with it at no cost (the lock-families cache is keyed on it,
// posix/lock_families.hpp): the unique one since Linux 6.8, the reusable one since 5.8.
int stat_at(int dirfd, const char* path, int flags, stat_detail detail, file_facts& out) noexcept
{
#if defined(STATX_INO)
    static std::atomic<bool> statx_works{true};
    if (statx_works.load(std::memory_order_relaxed)) {
        struct statx st;
        const unsigned mask = STATX_TYPE | STATX_INO | statx_mount_id_unique | statx_mount_id |
                              (detail == stat_detail::with_mtime ? STATX_MTIME : 0);
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
    if (!usable_path(path, ec)) return invalid_handle;
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
    ec.clear();
    return true;
}

bool note_lock_families(handle h, const file_facts& facts, boost::system::error_code& ec, const char*& reason) noexcept
{
    families_failure why;
    if (!note_descriptor(h, facts.id.dev, facts.mount, facts.mount_unique, why)) {
        ec = errno_code(why.error != 0 ? why.error : EIO);
        reason = why.reading;
        return false;
    }
    ec.clear();
    return true;
}

bool stat_path(const std::string& path, bool follow, file_facts& out, boost::system::error_code& ec,
               stat_detail detail) noexcept
{
    ec.clear();
    if (!usable_path(path, ec)) return false;
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

// Record locks are advisory: a reader is never refused.
const std::uint64_t first_readable_byte = 0;

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

lock_result kernel_lock::lock_until(handle h, bool shared, const deadline& until, boost::system::error_code& ec) noexcept
{
    ec.clear();
    const bool forever = until.is_forever();
    auto interval = min_poll_interval;
    // 1. flock, owned by our open file description, where the families are separate.
    families_failure why;
    const lock_families families = families_of_descriptor(h, why);
    if (families == lock_families::unknown) {
        ec = errno_code(why.error != 0 ? why.error : EIO);
        return lock_result::failed;
    }
    if (families == lock_families::separate) {
        const lock_result r = attempt_until(until, interval, [&] { return flock_once(h, shared, forever, ec); });
        if (r != lock_result::acquired) return r;
    }
    // 2. The POSIX record lock, through boost::interprocess::file_lock working on our descriptor.
    // The flock is kept while waiting for it, as a blocking waiter would.
    file_lock_handle(record_lock_) = h;
    const lock_result r =
        attempt_until(until, interval, [&] { return record_lock_once(record_lock_, shared, forever, ec); });
    if (r != lock_result::acquired) {
        disown();
        unlock_flock(h);
    }
    return r;
}

void unlock_flock(handle h) noexcept
{
    // Where that cannot be told, released anyway: an unlock of a flock not held does nothing.
    families_failure why;
    if (families_of_descriptor(h, why) != lock_families::interact) ::flock(h, LOCK_UN);
}

void unlock_record_lock(handle h) noexcept { (void)release_record_lock_of(h); }

void kernel_lock::disown() noexcept { file_lock_handle(record_lock_) = no_file(); }

#if defined(__linux__)
namespace {

// The descriptor closes itself, whichever way the scope is left.
struct fd_closer {
    int fd;
    ~fd_closer() { close_handle(fd); }
};

// The whole of a /proc file into out (they report a size of 0: read to the end). false when it
// cannot be opened or read. Read with plain system calls, not an iostream, whose extractors catch
// an exception (std::bad_alloc included), set badbit and go on as at the end of the file: an
// allocation failure must propagate, not read as "no holder".
bool read_proc_file(const std::string& path, std::string& out)
{
    out.clear();
    const fd_closer file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) return false;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(file.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        out.append(buf, static_cast<std::size_t>(n));
    }
}

// The next line of text from `at` (without its newline); false at the end.
bool next_line(std::string_view text, std::size_t& at, std::string_view& line) noexcept
{
    if (at >= text.size()) return false;
    const std::size_t end = std::min(text.find('\n', at), text.size());
    line = text.substr(at, end - at);
    at = end + 1;
    return true;
}

// The next field of a line, fields being separated by spaces or tabs; empty at the end.
std::string_view next_field(std::string_view line, std::size_t& at) noexcept
{
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
    const std::size_t start = at;
    while (at < line.size() && line[at] != ' ' && line[at] != '\t') ++at;
    return line.substr(start, at - start);
}

template <class Number> bool parse_number(std::string_view text, Number& out, int base = 10) noexcept
{
    const auto r = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return r.ec == std::errc() && r.ptr == text.data() + text.size() && !text.empty();
}

// A flock holder as /proc/locks lists it: "N: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF",
// the device numbers in hex. Other lock types (POSIX, OFDLCK, LEASE) and waiters ("N: -> FLOCK
// ...") are not flock holders.
struct flock_entry {
    long long pid = 0;
    std::uint64_t dev = 0;  // makedev(MAJ, MIN)
    std::uint64_t ino = 0;
};

bool parse_flock_entry(std::string_view line, flock_entry& out) noexcept
{
    std::size_t at = 0;
    next_field(line, at);  // "N:"
    if (next_field(line, at) != "FLOCK") return false;
    next_field(line, at);  // ADVISORY
    next_field(line, at);  // WRITE or READ
    const std::string_view pid = next_field(line, at), where = next_field(line, at);
    const auto first = where.find(':'), last = where.rfind(':');
    unsigned maj = 0, min = 0;
    if (first == std::string_view::npos || last == first || !parse_number(pid, out.pid) ||
        !parse_number(where.substr(0, first), maj, 16) || !parse_number(where.substr(first + 1, last - first - 1), min, 16) ||
        !parse_number(where.substr(last + 1), out.ino))
        return false;
    out.dev = static_cast<std::uint64_t>(makedev(maj, min));
    return true;
}

// Whether a descriptor's fdinfo text lists the flock e (its "lock:" lines).
bool lists_flock(std::string_view fdinfo, const flock_entry& e) noexcept
{
    std::string_view line;
    for (std::size_t at = 0; next_line(fdinfo, at, line);) {
        std::size_t f = 0;
        flock_entry listed;
        if (next_field(line, f) == "lock:" && parse_flock_entry(line.substr(f), listed) && listed.dev == e.dev &&
            listed.ino == e.ino)
            return true;
    }
    return false;
}

// The device number the kernel's lock lists give the file open at h: its superblock's, which
// /proc/self/mountinfo gives as the major:minor of the mount the descriptor is on (its mount id is
// in the descriptor's fdinfo, on every Linux since 3.15; statx's STATX_MNT_ID would need 5.8).
// false when it cannot be told.
bool superblock_device(handle h, std::uint64_t& dev)
{
    std::string text;
    if (!read_proc_file("/proc/self/fdinfo/" + std::to_string(h), text)) return false;
    long long mount_id = -1;
    std::string_view line;
    for (std::size_t at = 0; next_line(text, at, line);) {
        std::size_t f = 0;
        if (next_field(line, f) == "mnt_id:" && !parse_number(next_field(line, f), mount_id)) return false;
    }
    if (mount_id < 0 || !read_proc_file("/proc/self/mountinfo", text)) return false;
    // "ID PARENT MAJ:MIN ROOT POINT ...", the device numbers in decimal.
    for (std::size_t at = 0; next_line(text, at, line);) {
        std::size_t f = 0;
        long long id = -1;
        if (!parse_number(next_field(line, f), id) || id != mount_id) continue;
        next_field(line, f);
        const std::string_view numbers = next_field(line, f);
        const auto colon = numbers.find(':');
        unsigned maj = 0, min = 0;
        if (colon == std::string_view::npos || !parse_number(numbers.substr(0, colon), maj) ||
            !parse_number(numbers.substr(colon + 1), min))
            return false;
        dev = static_cast<std::uint64_t>(makedev(maj, min));
        return true;
    }
    return false;
}

enum class flock_target { this_file, another_file, cannot_tell };

// Whether the flock /proc/locks lists as e is on the file id, or on another file of the same
// superblock with the same inode number (another btrfs subvolume's, another overlayfs layer's).
// The kernel lists a lock in the fdinfo of the descriptor that holds it, and stat through
// /proc/PID/fd/N gives that descriptor's file the device number stat gave ours. Only that
// descriptor is stat'ed: the process's other files may be on a file system that hangs (a dead NFS
// server), and reading fdinfo touches none. cannot_tell when e's process cannot be looked at
// (another user's, one in another pid namespace, one that has exited) or none of its descriptors
// holds the lock any more (it passed it on and closed its own).
flock_target flock_is_on(const flock_entry& e, const file_id& id)
{
    if (e.pid <= 0) return flock_target::cannot_tell;
    const std::string proc = "/proc/" + std::to_string(e.pid);
    struct dir_closer {
        DIR* dir;
        ~dir_closer()
        {
            if (dir != nullptr) ::closedir(dir);
        }
    } fds{::opendir((proc + "/fd").c_str())};
    if (fds.dir == nullptr) return flock_target::cannot_tell;
    flock_target found = flock_target::cannot_tell;
    std::string fdinfo;
    while (const dirent* d = ::readdir(fds.dir)) {
        if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
        if (!read_proc_file(proc + "/fdinfo/" + d->d_name, fdinfo) || !lists_flock(fdinfo, e)) continue;
        struct stat st;
        if (::fstatat(::dirfd(fds.dir), d->d_name, &st, 0) != 0) continue;
        if (static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev))) == id.dev &&
            static_cast<std::uint64_t>(st.st_ino) == id.ino)
            return flock_target::this_file;
        found = flock_target::another_file;
    }
    return found;
}

kernel_holder flock_holder(long long pid) noexcept
{
    kernel_holder out;
    out.locked = true;
    out.family = kernel_holder::kind::flock;
    out.pid = pid > 0 ? pid : 0;
    return out;
}

} // namespace
#endif

kernel_holder probe_holder(handle h, const file_id& id)
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
    // flock holders: the kernel lists them in /proc/locks only, naming the file by its inode
    // number and its superblock's device number. That is stat's device number on most file
    // systems, and the common case costs one read of /proc/locks.
    std::string locks;
    if (!read_proc_file("/proc/locks", locks)) return out;
    std::vector<flock_entry> same_inode;  // on another device number: maybe ours, under another name
    std::string_view line;
    for (std::size_t at = 0; next_line(locks, at, line);) {
        flock_entry e;
        if (!parse_flock_entry(line, e) || e.ino != id.ino) continue;
        if (e.dev == id.dev) return flock_holder(e.pid);
        same_inode.push_back(e);
    }
    // But btrfs gives stat each subvolume's own device number (the top one's included), and
    // overlayfs each layer's when its layers are on several file systems (without xino): there the
    // superblock's device number is found through the mount, and several files of the file system
    // can have our inode number (every subvolume starts at 257). A holder is counted once the
    // descriptor that holds its lock is shown to be of this file; when that cannot be seen (another
    // user's process), the lock counts as ours, since calling a held lock free is the worse error.
    std::uint64_t superblock = 0;
    if (same_inode.empty() || !superblock_device(h, superblock) || superblock == id.dev) return out;
    const flock_entry* unconfirmed = nullptr;
    for (const flock_entry& e : same_inode) {
        if (e.dev != superblock) continue;
        switch (flock_is_on(e, id)) {
        case flock_target::this_file: return flock_holder(e.pid);
        case flock_target::another_file: break;
        case flock_target::cannot_tell:
            if (unconfirmed == nullptr) unconfirmed = &e;
            break;
        }
    }
    if (unconfirmed != nullptr) return flock_holder(unconfirmed->pid);
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
// The layers' fork handlers (at_fork), one slot per layer. Constant-initialized, so a
// registration from another file's static initializer that runs before this file's is safe.
struct fork_handlers {
    void (*prepare)() noexcept;
    void (*parent)() noexcept;
    void (*child)() noexcept;
};
constexpr std::size_t fork_layers = 3;
fork_handlers layer_handlers[fork_layers];
std::atomic<bool> layer_registered[fork_layers];

// The one pthread_atfork hook of the library. The prepare handlers run in the order of the layers
// (fork_layer: the order in which their locks nest), the parent's and the child's in the reverse;
// the fork count and the cached pid are renewed first in the child, so that a layer's handler
// sees the child's pid.
void fork_starts() noexcept
{
    fork_seq.fetch_add(1);
    for (std::size_t i = 0; i < fork_layers; ++i)
        if (layer_registered[i].load(std::memory_order_acquire)) layer_handlers[i].prepare();
}
void fork_ends() noexcept
{
    fork_seq.fetch_add(1);
    for (std::size_t i = fork_layers; i-- > 0;)
        if (layer_registered[i].load(std::memory_order_acquire)) layer_handlers[i].parent();
}
void in_child() noexcept
{
    fork_seq.fetch_add(1);
    renew_pid();
    for (std::size_t i = fork_layers; i-- > 0;)
        if (layer_registered[i].load(std::memory_order_acquire)) layer_handlers[i].child();
}
void ensure_fork_handlers() noexcept
{
    static const int hooked = [] {
        renew_pid();
        return ::pthread_atfork(fork_starts, fork_ends, in_child);
    }();
    if (hooked != 0) std::abort();  // ENOMEM at load time: no fork could be made safe
}
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

void at_fork(fork_layer layer, void (*prepare)() noexcept, void (*parent)() noexcept, void (*child)() noexcept) noexcept
{
    ensure_fork_handlers();
    const auto i = static_cast<std::size_t>(layer);
    layer_handlers[i] = fork_handlers{prepare, parent, child};
    layer_registered[i].store(true, std::memory_order_release);
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
    // Read with plain system calls (read_proc_file), not iostreams: their first use sets up the
    // C++ locale under a pthread_once, which a fork() landing meanwhile would leave held for ever
    // in the child; and an allocation failure must not read as a start time.
    try {
        // Field 22 of /proc/PID/stat is the start time in clock ticks after boot; fields are
        // counted after the command name's closing parenthesis, since the name may hold spaces.
        std::string text;
        if (!read_proc_file("/proc/" + std::to_string(pid) + "/stat", text)) return false;
        const auto paren = text.rfind(')');
        if (paren == std::string::npos) return false;
        const std::string_view fields = std::string_view(text).substr(paren + 1);
        std::size_t at = 0;
        unsigned long long ticks = 0;
        for (int n = 3; n <= 22; ++n) {
            const std::string_view field = next_field(fields, at);
            if (field.empty()) return false;
            if (n == 22 && !parse_number(field, ticks)) return false;
        }
        if (ticks == 0 || !read_proc_file("/proc/stat", text)) return false;
        long long btime = 0;
        std::string_view line;
        for (std::size_t l = 0; next_line(text, l, line);) {
            std::size_t f = 0;
            if (next_field(line, f) == "btime") {
                if (!parse_number(next_field(line, f), btime)) return false;
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
