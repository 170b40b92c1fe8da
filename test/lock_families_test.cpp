// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Which lock families a lock takes, per file system (src/posix/lock_families.hpp): the rules, and
// the real detection on this machine's file system, natively and under test/helper/nfs_shim.c
// (test/nfs_emulation.sh), where it must read "nfs" and the local_lock mount option.
#define BOOST_TEST_MODULE lock_families
#include <boost/test/unit_test.hpp>

#include "../src/posix/lock_families.hpp"
#include "support/fixture.hpp"
#include "support/tmpfs.hpp"

#include <zc/lockfile.hpp>

#include <boost/system/system_error.hpp>

#include <atomic>
#include <cstdarg>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

using zc::lockfile::detail::classify_file_system;
using zc::lockfile::detail::lock_families;

namespace {

bool env_is(const char* name, const char* value)
{
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, value) == 0;
}

// What this run must detect: the shim's setting, or a local file system.
lock_families expected_here()
{
    if (zc::lockfile::detail::families_always_interact) return lock_families::interact;
    // 9p: the mount table says "9p" while fstatfs gives the server's file system type, as QEMU's
    // does; only 9p2000.L (no noextend, no version=9p2000.u) interacts.
    if (env_is("ZC_NFS_SHIM_9P", "L")) return lock_families::interact;
    if (std::getenv("ZC_NFS_SHIM_9P") != nullptr) return lock_families::separate;
    if (env_is("ZC_NFS_SHIM_FSTYPE", "nfs"))
        return env_is("ZC_NFS_SHIM_LOCAL_LOCK", "flock") || env_is("ZC_NFS_SHIM_LOCAL_LOCK", "all") ? lock_families::separate
                                                                                                       : lock_families::interact;
    return lock_families::separate;
}

// This program's fstatfs, which the library (linked statically) calls: it fails the next
// fail_fstatfs calls with EIO, as a soft NFS mount whose server does not answer, and with
// small_tmpfs_is_nfs reports a tmpfs of exactly 1 MiB as NFS. The rest is the next fstatfs's: the
// NFS shim's when run under it, libc's otherwise.
std::atomic<int> fail_fstatfs{0};
std::atomic<bool> small_tmpfs_is_nfs{false};

// Whether a flock(LOCK_EX | LOCK_NB) of another process gets the file: a forked child tries.
bool flock_peer_gets_in(const std::string& path)
{
    const pid_t child = ::fork();
    if (child == 0) {
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        ::_exit(fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::uint64_t device_of(const std::string& path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev)));
}

// What an attempt that failed threw.
struct failure {
    boost::system::error_code code;
    std::string what;
};

} // namespace

// This program's open: with proc_self_missing, /proc/self/mountinfo is not there, as for a
// process outside the pid namespace of the /proc it sees (a mount-only nsenter).
std::atomic<bool> proc_self_missing{false};
// Not noexcept, unlike statx and fstatfs below: glibc declares open without __THROW (it is a
// cancellation point), and clang refuses a definition whose exception specification differs.
extern "C" int open(const char* path, int flags, ...)
{
    using real_open = int (*)(const char*, int, ...);
    static const auto next = reinterpret_cast<real_open>(::dlsym(RTLD_NEXT, "open"));
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list args;
        va_start(args, flags);
        mode = static_cast<mode_t>(va_arg(args, int));
        va_end(args);
    }
    if (proc_self_missing.load() && std::strcmp(path, "/proc/self/mountinfo") == 0) {
        errno = ENOENT;
        return -1;
    }
    return next(path, flags, mode);
}

// This program's statx: with mount_ids_reused, it answers as a kernel before 6.8, which has no
// unique mount id (STATX_MNT_ID_UNIQUE): only the reusable one.
std::atomic<bool> mount_ids_reused{false};
extern "C" int statx(int dirfd, const char* path, int flags, unsigned mask, struct statx* out) noexcept
{
    using real_statx = int (*)(int, const char*, int, unsigned, struct statx*);
    static const auto next = reinterpret_cast<real_statx>(::dlsym(RTLD_NEXT, "statx"));
    if (!mount_ids_reused.load()) return next(dirfd, path, flags, mask, out);
    const int r = next(dirfd, path, flags, mask & ~zc::lockfile::detail::statx_mount_id_unique, out);
    if (r == 0) out->stx_mask &= ~zc::lockfile::detail::statx_mount_id_unique;
    return r;
}

extern "C" int fstatfs(int fd, struct statfs* buf) noexcept
{
    using real_fstatfs = int (*)(int, struct statfs*);
    static const auto next = reinterpret_cast<real_fstatfs>(::dlsym(RTLD_NEXT, "fstatfs"));
    int left = fail_fstatfs.load();
    while (left > 0) {
        if (fail_fstatfs.compare_exchange_weak(left, left - 1)) {
            errno = EIO;
            return -1;
        }
    }
    const int r = next(fd, buf);
    if (r == 0 && small_tmpfs_is_nfs.load() && buf->f_type == 0x01021994 && buf->f_blocks == 256) buf->f_type = 0x6969;
    return r;
}

BOOST_AUTO_TEST_CASE(nfs_interacts_unless_local_lock_keeps_flock_local)
{
    BOOST_TEST((classify_file_system(0x6969, "rw,vers=4.2,local_lock=none,addr=10.0.0.1", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0x6969, "", true) == lock_families::interact));  // the default, and /proc unreadable
    BOOST_TEST((classify_file_system(0x6969, "rw,vers=3,local_lock=flock", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x6969, "rw,local_lock=all,vers=3", true) == lock_families::separate));
    // local_lock=posix keeps record locks local while flock goes to the server: they no longer
    // meet, and only both exclude both kinds of peer.
    BOOST_TEST((classify_file_system(0x6969, "rw,local_lock=posix", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x6969, "rw,xlocal_lock=flock", true) == lock_families::interact));
}

BOOST_AUTO_TEST_CASE(smb_interacts_since_5_5_unless_nobrl)
{
    BOOST_TEST((classify_file_system(0xFF534D42, "rw,vers=3.1.1", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0xFE534D42, "rw,vers=3.1.1", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0xFE534D42, "rw,nobrl,vers=3.1.1", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0xFE534D42, "rw,vers=3.1.1", false) == lock_families::separate));
}

BOOST_AUTO_TEST_CASE(other_network_and_cluster_file_systems)
{
    BOOST_TEST((classify_file_system(0x01021997, "rw,trans=virtio", true) == lock_families::interact));  // 9p2000.L
    BOOST_TEST((classify_file_system(0x01021997, "rw,trans=virtio,version=9p2000.u", true) == lock_families::separate));
    // Legacy 9P2000 as the kernel prints it (p9_show_client_options: ",noextend"; it never prints
    // "version=9p2000"): no lock operations, flock is local, both families are taken.
    BOOST_TEST((classify_file_system(0x01021997, "rw,trans=virtio,noextend", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x01021997, "rw,msize=8192,trans=tcp,noextend,port=564", true) == lock_families::separate));
    // A 9p mount's fstatfs gives the server's type (QEMU: its host's, ext4 here): the mount
    // table's type says 9p.
    BOOST_TEST((classify_file_system(0xEF53, "9p", "rw,trans=virtio", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0xEF53, "9p", "rw,trans=virtio,noextend", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0xEF53, "ext4", "rw,relatime", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x6969, "nfs4", "rw,local_lock=none", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0x0BD00BD0, "rw,flock", true) == lock_families::interact));  // Lustre
    BOOST_TEST((classify_file_system(0x0BD00BD0, "rw,localflock", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x65735546, "", true) == lock_families::separate));  // FUSE, virtiofs
    BOOST_TEST((classify_file_system(0x00c36400, "", true) == lock_families::separate));  // Ceph
    BOOST_TEST((classify_file_system(0x47504653, "", true) == lock_families::separate));  // GPFS
    BOOST_TEST((classify_file_system(0x794c7630, "", true) == lock_families::separate));  // overlayfs
    BOOST_TEST((classify_file_system(0xEF53, "", true) == lock_families::separate));      // ext4
    BOOST_TEST((classify_file_system(0x01021994, "", true) == lock_families::separate));  // tmpfs
}

// The real detection (fstatfs, /proc/self/mountinfo) on a file of this run's file system.
BOOST_AUTO_TEST_CASE(detection_on_this_file_system)
{
    namespace zd = zc::lockfile::detail;
    zc_test::temp_dir dir;
    const std::string path = dir / "probe.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    struct stat st;
    BOOST_REQUIRE(::fstat(fd, &st) == 0);
    const auto dev = static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev)));
    const lock_families want = expected_here();
    zd::families_failure why;
    BOOST_TEST((zd::families_of_device(fd, dev, 0, false, why) == want));
    // The second time from the cache, the same answer.
    BOOST_TEST((zd::families_of_device(fd, dev, 0, false, why) == want));
    // Never noted: found through statx, keyed on the mount too.
    BOOST_TEST((zd::families_of_descriptor(fd, why) == want));
    BOOST_TEST(zd::note_descriptor(fd, dev, 0, false, why));
    BOOST_TEST((zd::families_of_descriptor(fd, why) == want));
    zd::forget_descriptor(fd);
    ::close(fd);
    BOOST_TEST_MESSAGE("families on " << dir.path << ": " << (want == lock_families::interact ? "interact" : "separate"));
}

// The self-refusal of issue 12 cannot happen: the lock can be taken, refused to a second holder
// in this process, released, and taken again.
BOOST_AUTO_TEST_CASE(lock_file_takes_a_free_lock)
{
    zc_test::temp_dir dir;
    const std::string path = dir / "free.lock";
    {
        zc::lockfile::LockFile lock(path);
        BOOST_CHECK_THROW(zc::lockfile::LockFile again(path), zc::lockfile::LockError);
    }
    zc::lockfile::LockFile lock(path);
    BOOST_TEST(lock.is_locked());
}

// Finding 1 of the issue 12 attack: when /proc/self/mountinfo cannot be read for a moment (here:
// no descriptor left for it, EMFILE), the attempt fails naming the reason instead of guessing the
// file system's default, and nothing is cached: with the limit back, the next lock on the same
// device reads the options and excludes a flock peer (flock(1), Python's zc.lockfile).
BOOST_AUTO_TEST_CASE(an_unreadable_mount_table_fails_the_attempt_and_is_not_cached)
{
    if (zc::lockfile::detail::families_always_interact) return;
#if defined(__SANITIZE_ADDRESS__)
    // The sanitizers' check that memory may be read (UBSan's vptr check among them) opens a pipe;
    // with no descriptor left, which is this case's point, it reports a valid object as invalid.
    BOOST_TEST_MESSAGE("not run under AddressSanitizer/UndefinedBehaviorSanitizer: their checks need a free descriptor");
    return;
#endif
    zc_test::temp_dir dir;
    const std::string path = dir / "emfile.lock";
    zc::lockfile::detail::forget_file_systems_for_tests();
    struct rlimit old;
    BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    // The next free descriptor is the lock file's: allow exactly that one.
    const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    BOOST_REQUIRE(probe >= 0);
    ::close(probe);
    struct rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(probe) + 1;
    BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    failure thrown;
    boost::system::error_code returned;
    try {
        zc::lockfile::SimpleLockFile lock(path);
    } catch (const boost::system::system_error& e) {
        thrown = {e.code(), e.what()};
    }
    { zc::lockfile::SimpleLockFile lock(path, returned); }
    BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
    BOOST_TEST(thrown.code == boost::system::errc::too_many_files_open);
    BOOST_TEST(returned == boost::system::errc::too_many_files_open);
    BOOST_TEST(thrown.what.find("'" + path + "'") != std::string::npos, thrown.what);
    BOOST_TEST(thrown.what.find("reading /proc/self/mountinfo") != std::string::npos, thrown.what);
    BOOST_TEST_MESSAGE("with no descriptor left: " << thrown.what);

    const std::string after = dir / "after.lock";
    zc::lockfile::SimpleLockFile lock(after);
    BOOST_TEST(!flock_peer_gets_in(after));
}

// Finding 5: a transient fstatfs failure fails the attempt naming it, and notes nothing for the
// descriptor: it used to be noted as "separate", and on a file system where the families interact
// the attempt then refused itself (lock() waited for ever on its own flock).
BOOST_AUTO_TEST_CASE(a_failing_fstatfs_fails_the_attempt_and_notes_nothing)
{
    if (zc::lockfile::detail::families_always_interact) return;
    zc_test::temp_dir dir;
    const std::string path = dir / "fstatfs.lock";
    zc::lockfile::detail::forget_file_systems_for_tests();
    zc::lockfile::SimpleLockFile lock(path, std::defer_lock);
    fail_fstatfs = 1;
    failure thrown;
    bool acquired = false;
    try {
        acquired = lock.try_lock();
    } catch (const boost::system::system_error& e) {
        thrown = {e.code(), e.what()};
    }
    BOOST_TEST(fail_fstatfs.load() == 0);  // it was asked
    fail_fstatfs = 0;
    BOOST_TEST(!acquired);
    BOOST_TEST(thrown.code == boost::system::errc::io_error);
    BOOST_TEST(thrown.what.find("'" + path + "'") != std::string::npos, thrown.what);
    BOOST_TEST(thrown.what.find("fstatfs") != std::string::npos, thrown.what);
    BOOST_TEST_MESSAGE("with fstatfs failing: " << thrown.what);
    // The next attempt asks again, and holds the lock against both kinds of peer.
    if (lock.is_locked()) lock.unlock();
    BOOST_TEST(lock.try_lock());
    BOOST_TEST(!flock_peer_gets_in(path));
}

// Finding 4: a device number that a later mount reuses (anonymous device numbers are handed out
// lowest-free: autofs expiring an NFS mount, a tmpfs taking its number) is classified afresh, since
// the cache is keyed on the mount as well. Needs root, in a mount namespace of the test's own.
void a_reused_device_number_is_classified_again()
{
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("skipped: not root (mounting a tmpfs needs CAP_SYS_ADMIN)");
        return;
    }
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", "none", MS_REC | MS_PRIVATE, nullptr) != 0) {
        BOOST_TEST_MESSAGE("skipped: cannot make a mount namespace of our own: " << std::strerror(errno));
        return;
    }
    zc_test::temp_dir dir;
    small_tmpfs_is_nfs = true;
    std::uint64_t first = 0;
    {
        // Read as NFS with local_lock=none: the record lock alone is taken.
        zc_test::tmpfs nfs(dir / "a", "1m");
        BOOST_REQUIRE(nfs.mounted());
        first = device_of(nfs.point());
        zc::lockfile::SimpleLockFile lock(nfs.point() + "/x.lock");
    }
    zc_test::tmpfs local(dir / "b", "2m");
    BOOST_REQUIRE(local.mounted());
    const std::uint64_t second = device_of(local.point());
    if (second != first) {
        small_tmpfs_is_nfs = false;
        BOOST_TEST_MESSAGE("skipped: the kernel gave the second mount another device number");
        return;
    }
    const std::string path = local.point() + "/y.lock";
    zc::lockfile::SimpleLockFile lock(path);
    BOOST_TEST(!flock_peer_gets_in(path));
    small_tmpfs_is_nfs = false;
}

BOOST_AUTO_TEST_CASE(a_device_number_reused_by_a_later_mount_is_classified_again)
{
    if (zc::lockfile::detail::families_always_interact) return;
    a_reused_device_number_is_classified_again();
}

// Found by the attack on the fix above: before Linux 6.8 (Debian 12 runs 6.1) there is no unique
// mount id, and the reusable one is reused with the device number, so the key matches the gone
// mount's. There each descriptor's file system type is checked against the cached one.
BOOST_AUTO_TEST_CASE(without_unique_mount_ids_a_reused_device_number_is_classified_again)
{
    if (zc::lockfile::detail::families_always_interact) return;
    zc::lockfile::detail::forget_file_systems_for_tests();
    mount_ids_reused = true;
    a_reused_device_number_is_classified_again();
    mount_ids_reused = false;
    zc::lockfile::detail::forget_file_systems_for_tests();
}

// Found by the attack on the fixes: a /proc that is mounted but has no self for this process is
// not the documented "no /proc" case. On a local file system the magic number decides; where the
// rule needs the mount's options (NFS here), the attempt fails, naming why, rather than guess.
BOOST_AUTO_TEST_CASE(a_proc_without_self_is_not_taken_for_no_proc)
{
    if (zc::lockfile::detail::families_always_interact) return;
    if (std::getenv("ZC_NFS_SHIM_FSTYPE") != nullptr || std::getenv("ZC_NFS_SHIM_9P") != nullptr) {
        // The emulation's shim answers for the mount table and the file system type itself.
        BOOST_TEST_MESSAGE("not run under the NFS/9p emulation, which stands in for /proc/self/mountinfo");
        return;
    }
    zc_test::temp_dir dir;
    zc::lockfile::detail::forget_file_systems_for_tests();
    proc_self_missing = true;
    {
        const std::string path = dir / "local.lock";
        zc::lockfile::SimpleLockFile lock(path);
        BOOST_TEST(!flock_peer_gets_in(path));
    }
    if (::geteuid() == 0 && ::unshare(CLONE_NEWNS) == 0 && ::mount("none", "/", "none", MS_REC | MS_PRIVATE, nullptr) == 0) {
        small_tmpfs_is_nfs = true;
        zc_test::tmpfs nfs(dir / "nfs", "1m");
        BOOST_REQUIRE(nfs.mounted());
        boost::system::error_code ec;
        zc::lockfile::SimpleLockFile lock(nfs.point() + "/x.lock", ec);
        BOOST_TEST(ec == boost::system::errc::no_such_file_or_directory, ec.message());
        BOOST_TEST(!lock.is_locked());
        try {
            zc::lockfile::SimpleLockFile again(nfs.point() + "/x.lock");
            BOOST_TEST(false, "no exception");
        } catch (const boost::system::system_error& e) {
            BOOST_TEST(std::string(e.what()).find("has no self") != std::string::npos, e.what());
        }
        small_tmpfs_is_nfs = false;
    } else {
        BOOST_TEST_MESSAGE("the NFS half skipped: not root (mounting a tmpfs needs CAP_SYS_ADMIN)");
    }
    proc_self_missing = false;
    zc::lockfile::detail::forget_file_systems_for_tests();
}

// Finding 6: a fork() while another thread holds the cache's fill mutex leaves the child a
// working cache. Past the table's 64 devices every miss takes that mutex; here another thread
// takes it over and over through the test hook, which makes a fork() land while it is held about
// every other time, and the child's miss then needs it.
BOOST_AUTO_TEST_CASE(a_fork_while_the_cache_is_filled_leaves_the_child_working)
{
    if (zc::lockfile::detail::families_always_interact) return;
    zc_test::temp_dir dir;
    const std::string path = dir / "fork.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    const auto made_up = static_cast<std::uint64_t>(makedev(3999u, 100000u));  // never cached
    std::atomic<bool> stop{false};
    std::thread filler([&] {
        while (!stop.load()) zc::lockfile::detail::forget_file_systems_for_tests();
    });
    int stuck = 0, forks = 0;
    for (; forks < 500 && stuck == 0; ++forks) {
        int ready[2];
        BOOST_REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
        const pid_t child = ::fork();
        if (child == 0) {
            zc::lockfile::detail::families_failure why;
            (void)zc::lockfile::detail::families_of_device(fd, made_up, 0, false, why);
            const char done = 'x';
            (void)!::write(ready[1], &done, 1);
            ::_exit(0);
        }
        ::close(ready[1]);
        struct pollfd p = {ready[0], POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) {
            ++stuck;
            ::kill(child, SIGKILL);
        }
        ::waitpid(child, nullptr, 0);
        ::close(ready[0]);
    }
    stop = true;
    filler.join();
    ::close(fd);
    zc::lockfile::detail::forget_file_systems_for_tests();
    BOOST_TEST(stuck == 0, "a child stuck after fork " << forks);
}
