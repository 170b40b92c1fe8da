// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Which lock families a lock takes, per file system (lock_families.hpp; the rules and the
// evidence for them are in doc/design.adoc, "File systems where the lock families interact").

#include "lock_families.hpp"

#include "../os_lock.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/utsname.h>
#include <sys/vfs.h>
#endif

namespace zc {
namespace lockfile {
namespace detail {

namespace {

// Magic numbers (include/uapi/linux/magic.h; Lustre's from its own lustre_user.h).
constexpr unsigned long nfs_magic = 0x6969;
constexpr unsigned long cifs_magic = 0xFF534D42;  // CIFS_SUPER_MAGIC
constexpr unsigned long smb2_magic = 0xFE534D42;  // SMB2_SUPER_MAGIC (SMB 2 and later, cifs.ko)
constexpr unsigned long v9fs_magic = 0x01021997;
constexpr unsigned long lustre_magic = 0x0BD00BD0;
constexpr unsigned long proc_magic = 0x9fa0;  // PROC_SUPER_MAGIC

bool has_option(const std::string& options, const char* wanted) noexcept
{
    const std::size_t n = std::strlen(wanted);
    std::size_t start = 0;
    while (start <= options.size()) {
        std::size_t end = options.find(',', start);
        if (end == std::string::npos) end = options.size();
        if (end - start == n && options.compare(start, n, wanted) == 0) return true;
        start = end + 1;
    }
    return false;
}

} // namespace

lock_families classify_file_system(unsigned long f_type, const std::string& type_name, const std::string& super_options,
                                   bool kernel_5_5_or_later) noexcept
{
    // A 9p mount's fstatfs reports the server's file system type (fs/9p/vfs_super.c v9fs_statfs:
    // QEMU passes its host's, ext4's for instance): the mount table's type tells it.
    if (type_name == "9p") f_type = v9fs_magic;
    switch (f_type & 0xFFFFFFFFul) {
    case nfs_magic:
        // fs/nfs/file.c nfs_flock: unless the mount says local_lock=flock or all, flock is sent
        // to the server as a whole-file lock owned by the open file description, where it meets
        // the record locks (nfs(5), local_lock; flock(2), NFS details). With local_lock=posix
        // the record locks stay local instead: they no longer meet flock either.
        return has_option(super_options, "local_lock=flock") || has_option(super_options, "local_lock=all") ||
                       has_option(super_options, "local_lock=posix")
                   ? lock_families::separate
                   : lock_families::interact;
    case cifs_magic:
    case smb2_magic:
        // fs/smb/client/file.c cifs_flock (Linux 5.5 and later): flock becomes a whole-file SMB
        // byte-range lock. nobrl mounts use the file operations without .lock/.flock: the VFS
        // then keeps both families locally, apart.
        if (!kernel_5_5_or_later || has_option(super_options, "nobrl")) return lock_families::separate;
        return lock_families::interact;
    case v9fs_magic:
        // fs/9p/vfs_file.c v9fs_file_flock_dotl turns a flock into a POSIX lock owned by the
        // file (9p2000.L, the default protocol). Legacy 9P2000 and 9P2000.u have no .flock (flock
        // stays in the local VFS) and their record lock does nothing (v9fs_file_lock): both
        // families are taken. The kernel prints ",noextend" for the legacy protocol and
        // ",version=9p2000.u" for .u, nothing for .L (net/9p/client.c p9_show_client_options).
        if (has_option(super_options, "noextend") || has_option(super_options, "version=9p2000.u"))
            return lock_families::separate;
        return lock_families::interact;
    case lustre_magic:
        // Lustre (-o flock) sends flock and fcntl locks to the MDS as the same LDLM flock locks;
        // -o localflock keeps flock local; -o noflock makes flock fail, so the record lock alone
        // is then what works.
        return has_option(super_options, "localflock") ? lock_families::separate : lock_families::interact;
    default:
        // Local file systems, tmpfs, overlayfs (its own inode's locks, whatever lies below),
        // FUSE and virtiofs (the kernel's local locks unless the server implements them; then
        // as it does), Ceph (separate flock and fcntl lock types on the MDS), GPFS, OCFS2, GFS2.
        return lock_families::separate;
    }
}

#if defined(__linux__) && !ZC_LOCKFILE_LOCK_FAMILIES_INTERACT

namespace {

bool kernel_5_5_or_later() noexcept
{
    static const bool answer = [] {
        struct utsname u;
        if (::uname(&u) != 0) return true;
        int major = 0, minor = 0;
        if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return true;
        return major > 5 || (major == 5 && minor >= 5);
    }();
    return answer;
}

// Whether the rule for this magic number depends on the mount's options: without them, such a
// file system cannot be classified.
bool needs_mount_options(unsigned long f_type) noexcept
{
    switch (f_type & 0xFFFFFFFFul) {
    case nfs_magic:
    case cifs_magic:
    case smb2_magic:
    case v9fs_magic:
    case lustre_magic:
        return true;
    default:
        return false;
    }
}

// dev's line in /proc/self/mountinfo ("ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE
// SOURCE SUPER_OPTIONS"): its type and super-block options.
enum class mount_table { found, no_line, no_proc, no_self, failed };
mount_table mount_line_of(std::uint64_t dev, std::string& type, std::string& options, int& error) noexcept
{
    try {
        const int fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            error = errno;
            // No /proc at all (a chroot without it): the documented default. A /proc that is
            // mounted but has no self (a process outside the pid namespace of the /proc it sees,
            // as after a mount-only nsenter): no options, for good. Anything else (EMFILE,
            // ENFILE, ENOMEM...) may pass: never guessed from.
            if (error != ENOENT && error != ENOTDIR) return mount_table::failed;
            struct statfs proc;
            return ::statfs("/proc", &proc) == 0 && static_cast<unsigned long>(proc.f_type) == proc_magic
                       ? mount_table::no_self
                       : mount_table::no_proc;
        }
        std::string text;
        char buf[8192];
        for (;;) {
            const ssize_t r = ::read(fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                error = errno;
                ::close(fd);
                return mount_table::failed;
            }
            if (r == 0) break;
            text.append(buf, static_cast<std::size_t>(r));
        }
        ::close(fd);
        char want[48];
        std::snprintf(want, sizeof want, " %u:%u ", major(static_cast<dev_t>(dev)), minor(static_cast<dev_t>(dev)));
        std::size_t line = 0;
        while (line < text.size()) {
            std::size_t end = text.find('\n', line);
            if (end == std::string::npos) end = text.size();
            const std::string l = text.substr(line, end - line);
            line = end + 1;
            // The third field: after the first two space-separated ones.
            const std::size_t first = l.find(' ');
            const std::size_t second = first == std::string::npos ? first : l.find(' ', first + 1);
            if (second == std::string::npos || l.compare(second, std::strlen(want), want) != 0) continue;
            const std::size_t dash = l.find(" - ");
            if (dash == std::string::npos) continue;
            // TYPE SOURCE SUPER_OPTIONS
            const std::size_t type_end = l.find(' ', dash + 3);
            const std::size_t source_end = type_end == std::string::npos ? type_end : l.find(' ', type_end + 1);
            if (source_end == std::string::npos) continue;
            type = l.substr(dash + 3, type_end - (dash + 3));
            options = l.substr(source_end + 1);
            return mount_table::found;
        }
        return mount_table::no_line;
    } catch (...) {
        error = ENOMEM;  // std::bad_alloc: the only thing std::string throws here
        return mount_table::failed;
    }
}

// The per-mount cache: a small table filled under a mutex, read without one, only ever appended
// to. An entry is the device number + 1 (0 means empty), the mount id, the file system's magic
// number and the decision; the key is published after the rest. Where several entries match (a
// reused device and mount id, decided again for another type), the last one counts.
// Constant-initialized, so there is no guard a fork() could copy half taken; the fill mutex is
// held across fork() (the handlers below), so the child's copy is free.
constexpr std::size_t device_slots = 64;
struct device_cache {
    std::array<std::atomic<std::uint64_t>, device_slots> keys{};
    std::array<std::atomic<std::uint64_t>, device_slots> mounts{};
    std::array<std::atomic<std::uint64_t>, device_slots> types{};
    std::array<std::atomic<std::uint8_t>, device_slots> values{};
    std::atomic<std::size_t> used{0};
    std::mutex fill;
};
device_cache devices;

void lock_fill() noexcept { devices.fill.lock(); }
void unlock_fill() noexcept { devices.fill.unlock(); }

// At load time, before any thread of the program can fork: the fork handlers, and the kernel's
// version (a function-local static, whose guard a fork() landing during its first use would
// leave held in the child).
[[maybe_unused]] const bool at_load = (kernel_5_5_or_later(), at_fork(fork_layer::lock_families, lock_fill, unlock_fill, unlock_fill), true);

// The last entry for (dev, mnt), with the magic number it was decided for; unknown when none.
lock_families cached(const device_cache& c, std::uint64_t dev, std::uint64_t mnt, std::uint64_t& f_type) noexcept
{
    lock_families found = lock_families::unknown;
    const std::size_t n = c.used.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < n; ++i)
        if (c.keys[i].load(std::memory_order_acquire) == dev + 1 && c.mounts[i].load(std::memory_order_relaxed) == mnt) {
            found = static_cast<lock_families>(c.values[i].load(std::memory_order_relaxed));
            f_type = c.types[i].load(std::memory_order_relaxed);
        }
    return found;
}

// Descriptors below this have their decision kept here; others cost a statx per lock.
constexpr int noted_descriptors = 4096;
std::array<std::atomic<std::uint8_t>, noted_descriptors> by_descriptor{};

} // namespace

lock_families families_of_device(int h, std::uint64_t dev, std::uint64_t mnt, bool mnt_unique, families_failure& why) noexcept
{
    device_cache& c = devices;
    std::uint64_t cached_type = 0;
    lock_families f = cached(c, dev, mnt, cached_type);
    if (f != lock_families::unknown && mnt_unique) return f;
    struct statfs sf;
    if (::fstatfs(h, &sf) != 0) {
        why = {errno, "fstatfs"};
        return lock_families::unknown;
    }
    const unsigned long f_type = static_cast<unsigned long>(sf.f_type);
    // A reusable key: a descriptor on a file system of the cached type is taken to be on the
    // same mount (one of the same type reusing both numbers keeps the decision: doc/design.adoc).
    if (f != lock_families::unknown && cached_type == f_type) return f;
    std::string type, options;
    int error = 0;
    switch (mount_line_of(dev, type, options, error)) {
    case mount_table::found: break;
    case mount_table::failed: why = {error, "reading /proc/self/mountinfo"}; return lock_families::unknown;
    case mount_table::no_proc:
        // No /proc: the magic number alone, each type's default (doc/design.adoc); not cached,
        // since the options were not read.
        return classify_file_system(f_type, std::string(), std::string(), kernel_5_5_or_later());
    case mount_table::no_self:
        // /proc is there but not for this process: where the rule needs the mount's options,
        // that cannot be told, and guessing could leave flock users out; elsewhere the magic
        // number decides (not cached: a 9p mount reporting a local type is not recognised).
        if (needs_mount_options(f_type)) {
            why = {ENOENT, "reading /proc/self/mountinfo (/proc is mounted, but has no self here)"};
            return lock_families::unknown;
        }
        return classify_file_system(f_type, std::string(), std::string(), kernel_5_5_or_later());
    case mount_table::no_line:
        // A local file system's file whose stat device is not its superblock's (a btrfs
        // subvolume, an overlayfs layer): the magic number decides, for good. A network file
        // system's (lazily unmounted, another namespace's) cannot be classified.
        if (needs_mount_options(f_type)) {
            why = {ENODEV, "finding the file's device in /proc/self/mountinfo"};
            return lock_families::unknown;
        }
        break;
    }
    f = classify_file_system(f_type, type, options, kernel_5_5_or_later());
    // A full table takes nothing more, and its mutex is not taken.
    if (c.used.load(std::memory_order_acquire) >= device_slots) return f;
    std::lock_guard<std::mutex> lock(c.fill);
    std::uint64_t again_type = 0;
    const lock_families again = cached(c, dev, mnt, again_type);
    if (again != lock_families::unknown && (mnt_unique || again_type == f_type)) return again;
    const std::size_t n = c.used.load(std::memory_order_relaxed);
    if (n < device_slots) {
        c.values[n].store(static_cast<std::uint8_t>(f), std::memory_order_relaxed);
        c.mounts[n].store(mnt, std::memory_order_relaxed);
        c.types[n].store(f_type, std::memory_order_relaxed);
        c.keys[n].store(dev + 1, std::memory_order_release);
        c.used.store(n + 1, std::memory_order_release);
    }
    return f;
}

bool note_descriptor(int h, std::uint64_t dev, std::uint64_t mnt, bool mnt_unique, families_failure& why) noexcept
{
    const lock_families f = families_of_device(h, dev, mnt, mnt_unique, why);
    if (f == lock_families::unknown) return false;
    if (h >= 0 && h < noted_descriptors)
        by_descriptor[static_cast<std::size_t>(h)].store(static_cast<std::uint8_t>(f), std::memory_order_relaxed);
    return true;
}

void forget_descriptor(int h) noexcept
{
    if (h >= 0 && h < noted_descriptors)
        by_descriptor[static_cast<std::size_t>(h)].store(0, std::memory_order_relaxed);
}

lock_families families_of_descriptor(int h, families_failure& why) noexcept
{
    if (h >= 0 && h < noted_descriptors) {
        const auto f = static_cast<lock_families>(by_descriptor[static_cast<std::size_t>(h)].load(std::memory_order_relaxed));
        if (f != lock_families::unknown) return f;
    }
    // Its device and mount, as stat_handle asks for them (posix/os_lock.cpp).
    std::uint64_t dev = 0, mnt = 0;
#if defined(STATX_TYPE)
    struct statx stx;
    if (::statx(h, "", AT_EMPTY_PATH, STATX_TYPE | statx_mount_id_unique | statx_mount_id, &stx) == 0) {
        dev = static_cast<std::uint64_t>(makedev(stx.stx_dev_major, stx.stx_dev_minor));
        if (stx.stx_mask & (statx_mount_id_unique | statx_mount_id)) mnt = stx.stx_mnt_id;
        return families_of_device(h, dev, mnt, (stx.stx_mask & statx_mount_id_unique) != 0, why);
    }
#endif
    struct stat st;
    if (::fstat(h, &st) != 0) {
        why = {errno, "fstat"};
        return lock_families::unknown;
    }
    dev = static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev)));
    return families_of_device(h, dev, mnt, false, why);
}

void forget_file_systems_for_tests() noexcept
{
    std::lock_guard<std::mutex> lock(devices.fill);
    devices.used.store(0, std::memory_order_release);
}

#else

// macOS, the BSDs, and Linux built with ZC_LOCKFILE_LOCK_FAMILIES_INTERACT=1: one lock manager
// for both families everywhere, so the record lock alone serves.
lock_families families_of_device(int, std::uint64_t, std::uint64_t, bool, families_failure&) noexcept
{
    return lock_families::interact;
}
bool note_descriptor(int, std::uint64_t, std::uint64_t, bool, families_failure&) noexcept { return true; }
void forget_descriptor(int) noexcept {}
lock_families families_of_descriptor(int, families_failure&) noexcept { return lock_families::interact; }
void forget_file_systems_for_tests() noexcept {}

#endif

} // namespace detail
} // namespace lockfile
} // namespace zc
