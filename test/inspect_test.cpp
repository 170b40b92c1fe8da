// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// inspect(): what is known about a lock file, from the kernel and the record, without taking it.
#define BOOST_TEST_MODULE inspect
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"
#if !defined(_WIN32)
#include "support/mounts.hpp"
#include "support/other_user.hpp"
#include "support/times.hpp"
#endif

#include <zc/lockfile.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <new>

#if !defined(_WIN32)
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {

// This module replaces the global operator new (which the library it loads then uses too) to make
// the n-th allocation from now fail: allocation_countdown < 0 means never. Every form of new and
// delete is replaced, so that each pair goes through malloc and free, and valgrind sees no
// mismatch.
std::atomic<long> allocation_countdown{-1};

void* allocate(std::size_t size)
{
    if (allocation_countdown.load() >= 0 && allocation_countdown.fetch_sub(1) == 0) throw std::bad_alloc();
    if (void* p = std::malloc(size != 0 ? size : 1)) return p;
    throw std::bad_alloc();
}

} // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    try {
        return allocate(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& nt) noexcept { return operator new(size, nt); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

BOOST_AUTO_TEST_CASE(missing_file)
{
    temp_dir dir;
    const zl::lock_info info = zl::inspect(dir / "none");
    BOOST_TEST(!info.exists);
    BOOST_TEST(!info.locked);
}

BOOST_AUTO_TEST_CASE(unlocked_blank_file)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    { zl::LockFile lock(path); }
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.exists);
    BOOST_TEST(!info.locked);
    BOOST_TEST(info.record.empty());
    BOOST_TEST((info.writer == zl::writer_state::none));
    BOOST_TEST(!info.stale);
}

BOOST_AUTO_TEST_CASE(held_by_this_process)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    BOOST_TEST((info.family == zl::lock_family::this_process));
    BOOST_TEST(info.holder_pid == current_pid());
    BOOST_TEST(info.recorded_pid == current_pid());
    BOOST_TEST((info.writer == zl::writer_state::alive));
    BOOST_TEST(!info.stale);
}

BOOST_AUTO_TEST_CASE(held_by_another_process_of_ours)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    const zl::lock_info info = zl::inspect(path);
    if (on_windows) {
        // Windows cannot name a byte-range lock's holder. inspect sees the lock by the refused read
        // of byte 0, which Wine does not enforce: that is checked on Windows only.
        if (under_wine()) {
            BOOST_TEST_MESSAGE("Wine does not enforce byte-range locks on reads: the lock itself is checked on Windows only");
        } else {
            BOOST_TEST(info.locked);
            BOOST_TEST((info.family == zl::lock_family::byte_range));
        }
        BOOST_TEST(info.holder_pid == 0);
    } else {
        BOOST_TEST(info.locked);
        BOOST_TEST((info.family == zl::lock_family::posix));
        BOOST_TEST(info.holder_pid == holder.pid());
    }
    BOOST_TEST(info.recorded_pid == holder.pid());
    BOOST_TEST(info.record == std::to_string(holder.pid()));
}

#if !defined(_WIN32)
// A flock peer's lock as the kernel reports it: a flock with its holder's pid, or, under the NFS
// emulation, an OFD lock whose owner the kernel cannot name.
static void check_flock_holder(const zl::lock_info& info, long long pid)
{
    if (flock_emulated_as_ofd()) {
        BOOST_TEST((info.family == zl::lock_family::ofd));
        BOOST_TEST(info.holder_pid == 0);
    } else {
        BOOST_TEST((info.family == zl::lock_family::flock));
        BOOST_TEST(info.holder_pid == pid);
    }
}
#endif

BOOST_AUTO_TEST_CASE(held_by_flock_peers, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: its peers are flock(1) and Python's zc.lockfile with flock, POSIX programs (windows_test has the Python original's msvcrt.locking peer)"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        holder flock_holder({"flock", "-n", path, "-c", "echo locked; read line || true"});
        const zl::lock_info info = zl::inspect(path);
        BOOST_TEST(info.locked);
        check_flock_holder(info, flock_holder.pid());
    }
    child_process python({python3(), "-c", python_peer_script(), path});
    BOOST_REQUIRE(python.read_line() == "locked");
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    check_flock_holder(info, python.pid());
    BOOST_TEST(info.recorded_pid == python.pid());
#endif
}

BOOST_AUTO_TEST_CASE(held_by_boost_file_lock, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: its peer holds a POSIX record lock with boost::interprocess::file_lock; Windows has one kind of lock, the byte range"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "");
    child_process holder({boost_peer(), path});
    BOOST_REQUIRE(holder.read_line() == "locked");
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    BOOST_TEST((info.family == zl::lock_family::posix));
    BOOST_TEST(info.holder_pid == holder.pid());
#endif
}

BOOST_AUTO_TEST_CASE(stale_after_the_holder_is_killed)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path, "{pid}/{hostname}"});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    holder.terminate();  // as SIGKILL does on POSIX
    const zl::lock_info info = zl::inspect(path, "{pid}/{hostname}");
    BOOST_TEST(!info.locked);
    BOOST_TEST(info.recorded_pid == holder.pid());
    BOOST_TEST(!info.recorded_hostname.empty());
    BOOST_TEST((info.writer == zl::writer_state::dead));
    BOOST_TEST(info.stale);
    // Inspecting changed nothing: the record is still there for the next holder to report.
    BOOST_TEST(read_file(path) == " " + zl::inspect(path, "{pid}/{hostname}").record + "\n");
}

BOOST_AUTO_TEST_CASE(a_record_from_another_host_is_not_stale)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 999999999/elsewhere.example\n");
    const zl::lock_info info = zl::inspect(path, "{pid}/{hostname}");
    BOOST_TEST((info.writer == zl::writer_state::other_host));
    BOOST_TEST(info.recorded_hostname == "elsewhere.example");
    BOOST_TEST(!info.stale);
}

BOOST_AUTO_TEST_CASE(out_of_range_pids_are_never_judged)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    for (const char* record : {" 0\n", " -1\n", " 99999999999\n", " 1x\n"}) {
        write_file(path, record);
        const zl::lock_info info = zl::inspect(path);
        BOOST_TEST(!info.stale, record);
    }
}

// inspect never takes the lock, not even for an instant: a prober process that keeps trying
// both kernel families while this process inspects in a loop is never refused.
BOOST_AUTO_TEST_CASE(inspect_never_takes_the_lock, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: its prober is a forked child trying both POSIX lock families, flock and fcntl"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 1\n");
    int stop[2], started[2];
    BOOST_REQUIRE(::pipe(stop) == 0);
    BOOST_REQUIRE(::pipe(started) == 0);
    const pid_t prober = ::fork();
    if (prober == 0) {
        const int fd = ::open(path.c_str(), O_RDWR);
        int refused = 0;
        long tries = 0;
        char c = 's';
        (void)!::write(started[1], &c, 1);
        for (;;) {
            pollfd p{stop[0], POLLIN, 0};
            if (::poll(&p, 1, 0) > 0) break;
            struct flock fl{};
            fl.l_type = F_WRLCK;
            fl.l_whence = SEEK_SET;
            if (::fcntl(fd, F_SETLK, &fl) != 0) ++refused;
            fl.l_type = F_UNLCK;
            ::fcntl(fd, F_SETLK, &fl);
            if (::flock(fd, LOCK_EX | LOCK_NB) != 0) ++refused;
            ::flock(fd, LOCK_UN);
            ++tries;
        }
        ::_exit(refused != 0 ? 1 : tries == 0 ? 2 : 0);
    }
    char c;
    BOOST_REQUIRE(::read(started[0], &c, 1) == 1);
    for (int i = 0; i < 3000; ++i) (void)zl::inspect(path);
    (void)!::write(stop[1], &c, 1);
    int status = 0;
    ::waitpid(prober, &status, 0);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
    for (int fd : {stop[0], stop[1], started[0], started[1]}) ::close(fd);
#endif
}

#if !defined(_WIN32)
namespace {

// The peers that hold a lock file with flock only, as inspect must find them through /proc/locks:
// flock(1) (no record) and Python's zc.lockfile (record " PID\n").
std::vector<std::vector<std::string>> flock_peers(const std::string& path)
{
    return {{"flock", "-n", path, "-c", "echo locked; read line || true"}, {python3(), "-c", python_peer_script(), path}};
}

void check_held_by_flock_peer(const std::string& path, pid_t pid)
{
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked, path);
    BOOST_TEST((info.family == zl::lock_family::flock), path);
    BOOST_TEST(info.holder_pid == pid, path);
}

} // namespace
#endif

// Issue 11, item 3: the error_code form of inspect() throws only std::bad_alloc. An allocation
// that fails anywhere in it, reading /proc/locks for a flock holder included, must leave it as
// std::bad_alloc, never end the process (the kernel probe was noexcept while it allocated).
BOOST_AUTO_TEST_CASE(an_allocation_failure_anywhere_in_inspect_is_a_bad_alloc, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it fails the allocations of reading /proc/locks for a flock holder; Windows reads no list of holders"))
{
#if !defined(_WIN32)
    if (flock_emulated_as_ofd()) {
        BOOST_TEST_MESSAGE("skipped under the NFS emulation: it needs the kernel to name a flock holder's pid, "
                           "which an emulated (OFD) flock does not give");
        return;
    }
    allocation_countdown = 0;
    try {
        ::operator delete(::operator new(1));
        allocation_countdown = -1;
        BOOST_TEST_MESSAGE("not run: this module's operator new is not in use (valgrind replaces it with its own)");
        return;
    } catch (const std::bad_alloc&) {
    }
    temp_dir dir;
    const std::string path = dir / "lock";
    holder python({python3(), "-c", python_peer_script(), path});
    long failed = 0;
    zl::lock_info info;
    for (long n = 0;; ++n) {
        BOOST_REQUIRE(n < 100000);
        boost::system::error_code ec;
        allocation_countdown = n;
        try {
            info = zl::inspect(path, "{pid}", zl::options(), ec);
            allocation_countdown = -1;
            BOOST_TEST(!ec);
            break;
        } catch (const std::bad_alloc&) {
            allocation_countdown = -1;
            ++failed;
        }
    }
    BOOST_TEST(failed > 0);
    BOOST_TEST(info.locked);
    BOOST_TEST(info.holder_pid == python.pid());
#endif
}

// Issue 11, item 5: the file's modification time and a process's start time come from different
// clocks (another host's for a file on NFS; a clock stepped since the record was written). When
// the kernel names the recorded pid as the holder, no clock can make its writer dead or reused.
BOOST_AUTO_TEST_CASE(a_live_holder_is_alive_whatever_the_files_modification_time, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it needs the kernel to name the holder, which Windows cannot for a byte-range lock"))
{
#if !defined(_WIN32)
    if (flock_emulated_as_ofd()) {
        BOOST_TEST_MESSAGE("skipped under the NFS emulation: it needs the kernel to name a flock holder's pid, "
                           "which an emulated (OFD) flock does not give");
        return;
    }
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::vector<std::vector<std::string>> holders = {
        {lock_helper(), "lock", path},                           // POSIX record lock: F_GETLK names it
        {python3(), "-c", python_peer_script(), path},  // flock: /proc/locks names it
    };
    for (const auto& argv : holders) {
        BOOST_TEST_CONTEXT(argv[0])
        {
            holder h(argv);
            BOOST_REQUIRE(read_file(path) == " " + std::to_string(h.pid()) + "\n");
            touch_mtime(path, "2001-01-01");
            const zl::lock_info info = zl::inspect(path);
            BOOST_TEST(info.locked);
            BOOST_TEST(info.holder_pid == h.pid());
            BOOST_TEST(info.recorded_pid == h.pid());
            BOOST_TEST((info.writer == zl::writer_state::alive), "writer state " << static_cast<int>(info.writer));
            BOOST_TEST(!info.stale);
        }
    }
#endif
}

// A record naming a live process that does not hold the lock: the start time is compared with the
// modification time, allowing 5 minutes of clock skew (doc/design.adoc says why 5).
BOOST_AUTO_TEST_CASE(the_start_time_check_allows_five_minutes_of_clock_skew, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it reads the start time from /proc and sets the modification time with touch(1) (logging_test's a_live_process_started_after_the_record_was_written_is_not_its_writer checks the tolerance on Windows)"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process sleeper({"/bin/sleep", "600"});
    const long long started = process_start_seconds(sleeper.pid());
    write_file(path, " " + std::to_string(sleeper.pid()) + "\n");
    const auto writer_when_modified = [&](const std::string& date) {
        touch_mtime(path, date);
        return zl::inspect(path);
    };
    zl::lock_info info = writer_when_modified("@" + std::to_string(started + 1));
    BOOST_TEST((info.writer == zl::writer_state::alive));
    info = writer_when_modified("@" + std::to_string(started - 200));  // within the tolerance
    BOOST_TEST((info.writer == zl::writer_state::alive), "writer state " << static_cast<int>(info.writer));
    BOOST_TEST(!info.stale);
    info = writer_when_modified("@" + std::to_string(started - 400));  // beyond it
    BOOST_TEST((info.writer == zl::writer_state::pid_reused), "writer state " << static_cast<int>(info.writer));
    BOOST_TEST(info.stale);
    info = writer_when_modified("2001-01-01");
    BOOST_TEST((info.writer == zl::writer_state::pid_reused), "writer state " << static_cast<int>(info.writer));
    BOOST_TEST(info.stale);
#endif
}

// Issue 11, item 6: /proc/locks names a file by its superblock's device number, which overlayfs
// gives stat only when all layers are on one file system (containers: overlay2). Both layouts, a
// file from the lower layer and one made in the overlay.
BOOST_AUTO_TEST_CASE(flock_holders_are_found_on_overlayfs, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it mounts overlayfs and holds flocks"))
{
#if !defined(_WIN32)
    if (flock_emulated_as_ofd()) {
        BOOST_TEST_MESSAGE("skipped under the NFS emulation: this case is about how the kernel lists real flocks");
        return;
    }
    for (const bool one_file_system : {true, false}) {
        BOOST_TEST_CONTEXT((one_file_system ? "layers on one file system" : "layers on two file systems"))
        {
            temp_dir dir;
            overlay_mount overlay(dir.path, one_file_system, {"from_lower"});
            if (!overlay.mounted()) {
                BOOST_TEST_MESSAGE("overlayfs case not run: " << overlay.why_not());
                BOOST_TEST(!overlay.required(), overlay.why_not());
                return;
            }
            for (const std::string name : {"from_lower", "made_in_overlay"}) {
                const std::string path = overlay.point() + "/" + name;
                // Not written: flock(1) opens it read-only, which leaves it in the lower layer (Python's
                // read-write open then copies it up).
                if (name != "from_lower") write_file(path, "");
                for (const auto& argv : flock_peers(path)) {
                    BOOST_TEST_CONTEXT(name << ", " << argv[0])
                    {
                        holder h(argv);
                        check_held_by_flock_peer(path, h.pid());
                    }
                }
                BOOST_TEST(!zl::inspect(path).locked, path);
            }
        }
    }
#endif
}

// On btrfs every subvolume, the top one included, gives stat a device number of its own, and
// /proc/locks the file system's: the same inode number in two subvolumes prints the same. A holder
// is counted only once the holder's own descriptor shows it is this file.
BOOST_AUTO_TEST_CASE(flock_holders_are_found_on_btrfs_subvolumes, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it mounts btrfs and holds flocks"))
{
#if !defined(_WIN32)
    if (flock_emulated_as_ofd()) {
        BOOST_TEST_MESSAGE("skipped under the NFS emulation: this case is about how the kernel lists real flocks");
        return;
    }
    temp_dir dir;
    btrfs_loop fs(dir.path, {"a", "b"});
    if (!fs.mounted()) {
        BOOST_TEST_MESSAGE("btrfs case not run: " << fs.why_not());
        return;
    }
    const std::string top = fs.point() + "/lock", in_a = fs.point() + "/a/lock", in_b = fs.point() + "/b/lock";
    for (const std::string& path : {in_a, in_b, top}) write_file(path, "");
    struct stat sa, sb, st;
    BOOST_REQUIRE(::stat(in_a.c_str(), &sa) == 0 && ::stat(in_b.c_str(), &sb) == 0 && ::stat(top.c_str(), &st) == 0);
    BOOST_TEST_REQUIRE(sa.st_ino == sb.st_ino);  // the first file of each subvolume: the case to tell apart
    BOOST_TEST_REQUIRE(sa.st_dev != sb.st_dev);
    for (const std::string& path : {in_a, top}) {
        for (const auto& argv : flock_peers(path)) {
            BOOST_TEST_CONTEXT(path << ", " << argv[0])
            {
                holder h(argv);
                check_held_by_flock_peer(path, h.pid());
                if (path == in_a) BOOST_TEST(!zl::inspect(in_b).locked);  // same inode number, another file
            }
        }
    }
    for (const std::string& path : {in_a, in_b, top}) BOOST_TEST(!zl::inspect(path).locked, path);
#endif
}

// When the holder's descriptors cannot be read (another user's process), a flock on this file
// system with this inode number counts as a holder: calling a held lock free is the worse error.
BOOST_AUTO_TEST_CASE(an_unverifiable_flock_on_the_same_btrfs_and_inode_number_counts_as_held, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it mounts btrfs and runs a prober as another user"))
{
#if !defined(_WIN32)
    if (flock_emulated_as_ofd()) {
        BOOST_TEST_MESSAGE("skipped under the NFS emulation: this case is about how the kernel lists real flocks");
        return;
    }
    temp_dir dir;
    btrfs_loop fs(dir.path, {"a", "b"});
    if (!fs.mounted()) {
        BOOST_TEST_MESSAGE("btrfs case not run: " << fs.why_not());
        return;
    }
    const std::string in_a = fs.point() + "/a/lock", in_b = fs.point() + "/b/lock";
    for (const std::string& path : {in_a, in_b}) write_file(path, "");
    std::filesystem::permissions(dir.path, std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
    if (!others_can_search(dir.path)) {
        BOOST_TEST_MESSAGE("unverifiable-holder case not run: user nobody cannot reach " << dir.path << " (set TMPDIR to a directory others can search, or leave it unset)");
        return;
    }
    holder h(flock_peers(in_a)[0]);
    // A forked child that drops root cannot read root's /proc/PID/fd: 0 when it reports in_b held
    // by the flock(1) holder, 1 when free, 2 on an error.
    const pid_t holder_pid = h.pid();
    const int verdict = in_forked_child([&] {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) return 2;
        boost::system::error_code ec;
        const zl::lock_info info = zl::inspect(in_b, "{pid}", zl::options(), ec);
        if (ec) return 2;
        return info.locked && info.holder_pid == holder_pid ? 0 : 1;
    });
    BOOST_TEST(verdict == 0);
    BOOST_TEST(!zl::inspect(in_b).locked);  // root can read the holder's descriptors: not this file
#endif
}
