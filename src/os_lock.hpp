// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The platform seam (the OS layer: this file, posix/os_lock.cpp and windows/os_lock.cpp): opening
// the lock file, and kernel_lock, the kernel locks on it. Nothing here knows about records, the
// registry or logging. Its functions that undo a kernel lock are called unlock_*; the registry's
// counterpart is registry::leave, and the lock object's unlock_object (lock_file.cpp).
#ifndef ZC_LOCKFILE_SRC_OS_LOCK_HPP
#define ZC_LOCKFILE_SRC_OS_LOCK_HPP

#include <zc/lockfile/deadline.hpp>

#include <boost/system/error_code.hpp>
#if !defined(_WIN32)
#include <boost/interprocess/sync/file_lock.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

namespace zc {
namespace lockfile {
namespace detail {

#if defined(_WIN32)
using handle = std::intptr_t;  // a HANDLE's value; INVALID_HANDLE_VALUE is -1
#else
using handle = int;
#endif
constexpr handle invalid_handle = -1;

// Identifies a file independently of the path that names it.
struct file_id {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    friend bool operator==(const file_id& a, const file_id& b) noexcept { return a.dev == b.dev && a.ino == b.ino; }
};

// What is at a path. Each backend maps its own file types onto these.
enum class file_kind { regular, directory, symbolic_link, fifo, pipe, socket, character_device, block_device, other };

// The phrase error messages use for it: "(found a directory)".
constexpr const char* describe(file_kind k) noexcept
{
    switch (k) {
    case file_kind::regular: return "a regular file";
    case file_kind::directory: return "a directory";
    case file_kind::symbolic_link: return "a symbolic link";
    case file_kind::fifo: return "a FIFO";
    case file_kind::pipe: return "a pipe";
    case file_kind::socket: return "a socket";
    case file_kind::character_device: return "a character device";
    case file_kind::block_device: return "a block device";
    case file_kind::other: break;
    }
    return "not a regular file";
}

struct file_facts {
    file_id id;
    bool regular = false;
    file_kind kind = file_kind::other;  // what is at the path
    std::int64_t mtime_ns = 0;  // modification time, ns since the epoch (when asked for)
    std::uint64_t mount = 0;    // the mount's id where statx gives one (Linux 5.8; 0 otherwise)
    bool mount_unique = false;  // that id is never reused (STATX_MNT_ID_UNIQUE, Linux 6.8)
};

enum class open_mode { create_read_write, read_only };

// A path the system calls can take as it is: error::empty_path for "", errc::invalid_argument for
// one holding a NUL, which the system would cut there, naming another file (fx/lock\0x would
// lock fx/lock). Checked before every open and stat of a caller's path.
bool usable_path(const std::string& path, boost::system::error_code& ec) noexcept;

// Opens path close-on-exec and without blocking on a FIFO; without following a final symbolic
// link unless follow is true. A symbolic link refused that way reports error::symbolic_link.
handle open_file(const std::string& path, open_mode mode, bool follow, boost::system::error_code& ec) noexcept;
// identity: the type and the device and inode numbers (mtime_ns is left 0); with_mtime adds the
// modification time. Asking for less matters: see stat_at in posix/os_lock.cpp.
enum class stat_detail { identity, with_mtime };
bool stat_handle(handle h, file_facts& out, boost::system::error_code& ec,
                 stat_detail detail = stat_detail::identity) noexcept;
// false with ec cleared when nothing is at the path.
bool stat_path(const std::string& path, bool follow, file_facts& out, boost::system::error_code& ec,
               stat_detail detail = stat_detail::identity) noexcept;
void close_handle(handle h) noexcept;
// Decides which lock families a lock through h takes (posix/lock_families.hpp), once per mount,
// and notes it for h, so that its lock and release need no system call: for every descriptor the
// library opens to lock, after stat_handle. false, with ec set and reason saying what could not
// be read, when that cannot be told for now (no descriptor or memory left for reading
// /proc/self/mountinfo, fstatfs failing): the attempt must then fail, and nothing is noted or
// cached. Always true on Windows and where the families always interact.
bool note_lock_families(handle h, const file_facts& facts, boost::system::error_code& ec, const char*& reason) noexcept;

// The first byte of a lock file that a handle can read while another handle holds the lock: 0 on
// POSIX, where locks are advisory; 1 on Windows, where the holder's lock on byte 0 is mandatory.
extern const std::uint64_t first_readable_byte;

// Reads up to n bytes at offset; returns how many were read (0 on error, with ec set).
std::size_t read_at(handle h, char* buf, std::size_t n, std::uint64_t offset, boost::system::error_code& ec) noexcept;
void write_at(handle h, const char* buf, std::size_t n, std::uint64_t offset, boost::system::error_code& ec) noexcept;
void truncate_to(handle h, std::uint64_t size, boost::system::error_code& ec) noexcept;

enum class lock_result { acquired, busy, failed };

// The longest sleep between two attempts of a timed wait: it bounds the delay between a release
// and our noticing it (about half of it on average).
constexpr std::chrono::microseconds max_poll_interval{3000};
constexpr std::chrono::microseconds min_poll_interval{50};

// A timed wait's pause between two attempts: sleeps for the current back-off (never past the
// deadline) and doubles it up to max_poll_interval; false when the deadline has passed (at once
// for one attempt).
inline bool back_off(std::chrono::microseconds& interval, const deadline& until)
{
    auto pause = interval;
    if (!until.is_forever()) {
        if (until.is_one_attempt()) return false;
        const auto now = deadline::clock::now();
        if (now >= until.when()) return false;
        pause = std::min(pause, std::chrono::duration_cast<std::chrono::microseconds>(until.when() - now) +
                                    std::chrono::microseconds(1));
    }
    std::this_thread::sleep_for(pause);
    interval = std::min(interval * 2, max_poll_interval);
    return true;
}

// Makes attempts until one acquires the lock or fails, sleeping with back-off between busy ones;
// busy once the deadline has passed. interval carries the back-off from one wait of an
// acquisition to the next.
template <class Attempt>
lock_result attempt_until(const deadline& until, std::chrono::microseconds& interval, Attempt try_once)
{
    for (;;) {
        const lock_result r = try_once();
        if (r != lock_result::busy || !back_off(interval, until)) return r;
    }
}

// Both kernel lock families on one open file: flock (it excludes flock users such as Python's
// zc.lockfile and flock(1)) and boost::interprocess::file_lock, a POSIX record lock (it excludes
// fcntl users such as other file_lock holders). Neither family excludes the other on local Linux
// file systems, so a lock is held only when both are. Where they do interact (NFS with the default
// local_lock=none, SMB/CIFS, 9p; macOS and the BSDs everywhere), our two locks would refuse each
// other and the record lock alone excludes both kinds of peer: only it is taken. That is decided
// once per device (posix/lock_families.hpp).
//
// On Windows (windows/os_lock.cpp) it is one byte-range lock on byte 0 instead, as the Python
// original's msvcrt.locking takes; doc/design.adoc says why file_lock is not used there.
//
// The file_lock is given our own descriptor instead of opening the file again by name: it is then
// the same file by construction (no rename race, no /proc needed), close-on-exec like ours, and a
// cycle saves an open, an fstat and an fcntl.
class kernel_lock {
public:
    kernel_lock() noexcept = default;
    kernel_lock(const kernel_lock&) = delete;
    kernel_lock& operator=(const kernel_lock&) = delete;
    ~kernel_lock() { disown(); }

    // Tries both families on h once, exclusive or shared; h stays the caller's to close (see
    // disown).
    lock_result try_lock(handle h, bool shared, boost::system::error_code& ec) noexcept
    {
        return lock_until(h, shared, deadline::one_attempt(), ec);
    }
    // The same, waiting until the deadline. For ever, it blocks in the kernel (flock, then F_SETLKW through file_lock), which costs no CPU and wakes at once;
    // otherwise it polls without blocking, with back-off capped at max_poll_interval, since the
    // kernel's blocking calls take no timeout and the library uses no signals.
    lock_result lock_until(handle h, bool shared, const deadline& until, boost::system::error_code& ec) noexcept;
    // Takes the descriptor back from the file_lock without closing it: the registry closes it,
    // under its lock, after any deferred descriptors (registry.hpp says why).
    void disown() noexcept;

#if !defined(_WIN32)
private:
    // Windows needs no state: its byte-range lock goes with the handle (windows/os_lock.cpp).
    boost::interprocess::file_lock record_lock_;
#endif
};

// Releases the flock held through h explicitly: a forked child may hold a copy of the descriptor,
// which would keep it alive past the close. (The record lock goes when the descriptor is closed.)
void unlock_flock(handle h) noexcept;
// Releases this process's record lock on h's file without closing h: what file_lock::unlock()
// does, for the registry, which has the descriptor but not the kernel_lock that locked it.
void unlock_record_lock(handle h) noexcept;

// What the kernel says about who holds the file, without taking anything.
struct kernel_holder {
    bool locked = false;
    enum class kind { none, flock, posix, ofd, byte_range } family = kind::none;
    long long pid = 0;
};
// Not noexcept: on Linux it reads /proc into strings, and std::bad_alloc propagates (the
// error_code form of inspect() documents that it throws only that); nothing else is thrown.
kernel_holder probe_holder(handle h, const file_id& id);

// This process's pid, cached (and renewed in a forked child).
long long current_pid() noexcept;
// Whether a fork() may have copied a descriptor: read fork_epoch() before opening it; while
// no_fork_since(that epoch), its open file description is shared with no other process, since
// it is close-on-exec, never duplicated, and only a fork copies it. (Counted by pthread_atfork
// handlers registered when the library is loaded; a child made by a raw clone system call,
// bypassing libc, is not counted: see doc/design.adoc.)
std::uint64_t fork_epoch() noexcept;
bool no_fork_since(std::uint64_t epoch) noexcept;
// The layers that keep state a fork must leave consistent, in the order in which their locks nest:
// a Boost.Log sink may use the library, so the registry's and the cache's locks may be taken inside
// a record, under the log's lock (never the other way: neither layer logs); the registry may ask
// for a descriptor's lock families under its own lock.
enum class fork_layer { log, registry, lock_families };
// Runs prepare before every fork() of the process, parent after it in the parent and child in the
// child: the layers' fork handlers, all run from the library's one pthread_atfork hook (which also
// counts forks and renews current_pid first). prepare handlers run in fork_layer order, so that
// they take the layers' locks in the order the library nests them; the others in the reverse.
// Call it at load time, from a static initializer, so that no fork can race the registration.
// Nothing on Windows, which has no fork.
void at_fork(fork_layer layer, void (*prepare)() noexcept, void (*parent)() noexcept, void (*child)() noexcept) noexcept;
std::string host_name();
enum class process_state { running, gone, unknown };
process_state probe_process(long long pid) noexcept;
// Start time of a running process in ns since the epoch; false where it cannot be told.
bool process_start_time(long long pid, std::int64_t& ns_since_epoch) noexcept;

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
