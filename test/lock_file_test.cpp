// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// LockFile and SimpleLockFile inside one process: the seed's story, same-process exclusion by
// device and inode, threads, moves. It runs on Windows too (under Wine, test/windows.sh), but for
// the cases marked POSIX: file modes, and the probes of the kernel's two lock families.
#define BOOST_TEST_MODULE lock_file
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#if defined(_WIN32)
#include <process.h>
#define getpid _getpid
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace zl = zc::lockfile;
using zc_test::read_file;
using zc_test::temp_dir;
using zc_test::write_file;

static const std::string own_record = " " + std::to_string(::getpid()) + "\n";

BOOST_AUTO_TEST_CASE(seed_story_lock_fail_close_relock_file_left_behind)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    BOOST_TEST(lock.is_locked());
    BOOST_TEST(lock.path() == path);
    BOOST_TEST(std::filesystem::exists(path));
    BOOST_CHECK_THROW(zl::LockFile again(path), zl::LockError);
    lock.close();
    BOOST_TEST(!lock.is_locked());
    BOOST_TEST(std::filesystem::exists(path));  // left behind
    lock.close();                               // a second close does nothing
    zl::LockFile relocked(path);
    BOOST_TEST(relocked.is_locked());
}

BOOST_AUTO_TEST_CASE(lock_error_is_a_system_error_naming_the_path)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    try {
        zl::LockFile again(path);
        BOOST_FAIL("the second lock was granted");
    } catch (const zl::LockError& e) {
        const boost::system::system_error& base = e;
        BOOST_TEST(std::string(base.what()).find("Couldn't lock '" + path + "'") != std::string::npos);
        BOOST_TEST((e.code() == zl::error::locked));
        BOOST_TEST(e.path() == path);
    }
}

BOOST_AUTO_TEST_CASE(error_code_form_reports_busy_without_throwing)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    boost::system::error_code ec;
    zl::LockFile lock(path, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(lock.is_locked());
    zl::SimpleLockFile again(path, ec);
    BOOST_TEST((ec == zl::error::locked));
    BOOST_TEST((ec == boost::system::errc::resource_unavailable_try_again));
    BOOST_TEST(!again.is_locked());
    lock.close();
    zl::SimpleLockFile third(path, ec);
    BOOST_TEST(!ec);  // cleared on success
    BOOST_TEST(third.is_locked());
}

BOOST_AUTO_TEST_CASE(creates_missing_file_with_mode_0644_before_umask, *boost::unit_test::enable_if<!zc_test::on_windows>()
                              * boost::unit_test::description("not on Windows: POSIX file modes and umask"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    const mode_t old = ::umask(0);
    {
        zl::SimpleLockFile lock(path);
    }
    ::umask(old);
    struct stat st;
    BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0644u);
#endif
}

BOOST_AUTO_TEST_CASE(two_spellings_of_one_file_are_one_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    std::filesystem::create_directory(dir / "sub");
    zl::LockFile lock(path);
    BOOST_CHECK_THROW(zl::LockFile{dir / "sub/../lock"}, zl::LockError);
    BOOST_CHECK_THROW(zl::LockFile{dir / "./lock"}, zl::LockError);
#if !defined(_WIN32)  // a symbolic link to a directory needs a privilege on Windows
    std::filesystem::create_directory_symlink(dir.path, dir / "alias");
    BOOST_CHECK_THROW(zl::LockFile{dir / "alias/lock"}, zl::LockError);
#endif
    std::filesystem::create_hard_link(path, dir / "hardlink");
    BOOST_CHECK_THROW(zl::SimpleLockFile{dir / "hardlink"}, zl::LockError);
    // A relative spelling too.
    const auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir.path);
    BOOST_CHECK_THROW(zl::SimpleLockFile{"lock"}, zl::LockError);
    std::filesystem::current_path(cwd);
}

BOOST_AUTO_TEST_CASE(simple_and_full_lock_files_exclude_each_other)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::SimpleLockFile simple(path);
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
    }
    zl::LockFile full(path);
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
}

BOOST_AUTO_TEST_CASE(another_thread_is_refused)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    bool refused = false;
    std::thread([&] {
        try {
            zl::LockFile other(path);
        } catch (const zl::LockError&) {
            refused = true;
        }
    }).join();
    BOOST_TEST(refused);
}

// The Python original's test: 50 threads busy-retrying the lock and incrementing a counter end at
// exactly 50, and while each holds it the file holds exactly its one record.
BOOST_AUTO_TEST_CASE(fifty_threads_increment_a_counter_exactly)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::string counter = dir / "counter";
    write_file(counter, "0");
    std::atomic<int> bad_records{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 50; ++t) {
        threads.emplace_back([&] {
            for (;;) {
                boost::system::error_code ec;
                zl::LockFile lock(path, ec);
                if (ec == zl::error::locked) {
                    std::this_thread::yield();
                    continue;
                }
                if (ec || lock.read_contents() != own_record) ++bad_records;
                const int value = std::stoi(read_file(counter));
                std::this_thread::yield();  // widen the window a lost update would need
                write_file(counter, std::to_string(value + 1));
                return;
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(read_file(counter) == "50");
    BOOST_TEST(bad_records.load() == 0);
}

BOOST_AUTO_TEST_CASE(moves_transfer_the_lock)
{
    static_assert(!std::is_copy_constructible<zl::LockFile>::value, "not copyable");
    static_assert(std::is_nothrow_move_constructible<zl::LockFile>::value, "movable");
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile a(path);
    zl::LockFile b(std::move(a));
    BOOST_TEST(!a.is_locked());
    BOOST_TEST(b.is_locked());
    BOOST_TEST(b.path() == path);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    zl::LockFile c;
    BOOST_TEST(!c.is_locked());
    c = std::move(b);
    BOOST_TEST(c.is_locked());
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    // Move-assigning over a held lock releases the old one.
    const std::string other = dir / "other";
    zl::LockFile d(other);
    d = std::move(c);
    zl::LockFile other_again(other);
    BOOST_TEST(other_again.is_locked());
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
}

BOOST_AUTO_TEST_CASE(destructor_releases)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    { zl::LockFile lock(path); }
    zl::LockFile again(path);
    BOOST_TEST(again.is_locked());
}

BOOST_AUTO_TEST_CASE(read_contents_reads_through_the_held_descriptor)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    BOOST_TEST(lock.read_contents() == own_record);
    BOOST_TEST(lock.read_contents(2) == own_record.substr(0, 2));
    lock.close();
    BOOST_CHECK_THROW(lock.read_contents(), boost::system::system_error);
}

// A max_bytes no string can hold means "all of it": the buffer grows with the file, and neither
// form throws std::length_error (the error_code form may throw only std::bad_alloc). Found by an
// attack on issue 14: both threw length_error from the string's constructor.
BOOST_AUTO_TEST_CASE(read_contents_with_a_huge_limit_reads_what_the_file_holds)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    for (const std::size_t limit : {std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max() / 2,
                                    std::size_t(1) << 40, std::size_t(4097)}) {
        BOOST_TEST_CONTEXT("max_bytes " << limit)
        {
            BOOST_TEST(lock.read_contents(limit) == own_record);
            boost::system::error_code ec = zl::error::locked;
            BOOST_TEST(lock.read_contents(limit, ec) == own_record);
            BOOST_TEST(!ec, ec.message());
        }
    }
    BOOST_TEST(lock.read_contents(0).empty());
    lock.close();
    // A file larger than the first read of 4096 bytes, read whole or up to a limit between reads.
    const std::string big = std::string(10000, 'x') + "end";
    {
        std::ofstream(path, std::ios::binary) << big;
    }
    zl::SimpleLockFile simple(path);
    BOOST_TEST(simple.read_contents(std::numeric_limits<std::size_t>::max()) == big);
    BOOST_TEST(simple.read_contents(5000) == big.substr(0, 5000));
    BOOST_TEST(simple.read_contents(8192) == big.substr(0, 8192));
    BOOST_TEST(simple.read_contents(8193) == big.substr(0, 8193));
}

BOOST_AUTO_TEST_CASE(many_files_held_at_once_are_independent)
{
    temp_dir dir;
    std::vector<zl::LockFile> locks;
    for (int i = 0; i < 100; ++i) locks.emplace_back(dir / ("lock" + std::to_string(i)));
    for (int i = 0; i < 100; ++i) BOOST_CHECK_THROW(zl::SimpleLockFile{dir / ("lock" + std::to_string(i))}, zl::LockError);
    locks.erase(locks.begin() + 50);
    zl::SimpleLockFile freed(dir / "lock50");
    BOOST_TEST(freed.is_locked());
}

// What unlock() keeps, seen through the kernel's probes (on Windows both try byte 0 through a handle
// of their own: process.hpp) and, on POSIX only, through /proc/self/fd.
using zc_test::probe_acquired;
using zc_test::probe_busy;
using zc_test::probe_fcntl;
using zc_test::probe_flock;

#if defined(_WIN32)
#define CHECK_DESCRIPTORS(path, n) ((void)0)  // Windows has no /proc/self/fd to count them in
#else
#define CHECK_DESCRIPTORS(path, n) BOOST_TEST(descriptors_of(path) == (n))

namespace {
// How many descriptors of this process refer to the file at path (by device and inode).
int descriptors_of(const std::string& path)
{
    struct stat target;
    if (::stat(path.c_str(), &target) != 0) return -1;
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        struct stat st;
        if (::stat(e.path().c_str(), &st) == 0 && st.st_dev == target.st_dev && st.st_ino == target.st_ino) ++n;
    }
    return n;
}
} // namespace
#endif

BOOST_AUTO_TEST_CASE(unlock_releases_both_locks_and_keeps_the_file_open_for_the_next_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    CHECK_DESCRIPTORS(path, 1);
    for (int round = 0; round < 3; ++round) {
        lock.unlock();
        BOOST_TEST(!lock.is_locked());
        CHECK_DESCRIPTORS(path, 1);  // kept
        BOOST_TEST(read_file(path) == std::string(own_record.size() - 1, ' ') + "\n");  // blanked
        BOOST_TEST(probe_flock(path) == probe_acquired);
        BOOST_TEST(probe_fcntl(path) == probe_acquired);
        lock.lock();
        BOOST_TEST(lock.is_locked());
        CHECK_DESCRIPTORS(path, 1);  // the same one, locked again
        BOOST_TEST(lock.read_contents() == own_record);
        BOOST_TEST(probe_flock(path) == probe_busy);
        BOOST_TEST(probe_fcntl(path) == probe_busy);
    }
    lock.close();
    CHECK_DESCRIPTORS(path, 0);
    lock.unlock();  // nothing held, nothing open: nothing to do
    CHECK_DESCRIPTORS(path, 0);
    BOOST_TEST(lock.try_lock());
    CHECK_DESCRIPTORS(path, 1);
}

// Boost.Interprocess keeps a flock-based file_lock under `#if 0` (detail/os_file_functions.hpp). A
// Boost that switched to it would still build (src/posix/interprocess_internals.hpp checks the
// names the library uses, not what they do), and LockFile would then hold no record lock at all:
// no exclusion of fcntl users (boost file_lock holders), nor of NFS peers. The kernel tells.
BOOST_AUTO_TEST_CASE(the_record_lock_is_a_posix_record_lock_owned_by_this_process, *boost::unit_test::enable_if<!zc_test::on_windows>()
                          * boost::unit_test::description("not on Windows: POSIX record locks, seen through F_GETLK by a forked child"))
{
#if !defined(_WIN32)
    using zc_test::record_lock_seen_by_child;
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    BOOST_TEST(record_lock_seen_by_child(path) == zc_test::write_lock_of_parent);
    lock.unlock();
    BOOST_TEST(record_lock_seen_by_child(path) == zc_test::no_record_lock);
    zl::options shared;
    shared.shared = true;
    zl::SimpleLockFile reader(path, shared);
    BOOST_TEST(record_lock_seen_by_child(path) == zc_test::read_lock_of_parent);
    reader.close();
    BOOST_TEST(record_lock_seen_by_child(path) == zc_test::no_record_lock);
#endif
}

BOOST_AUTO_TEST_CASE(unique_lock_relocks_through_the_kept_descriptor)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::SimpleLockFile lock(path, std::defer_lock);
    for (int round = 0; round < 3; ++round) {
        std::unique_lock<zl::SimpleLockFile> guard(lock);
        BOOST_TEST(probe_flock(path) == probe_busy);
        BOOST_TEST(probe_fcntl(path) == probe_busy);
    }
    CHECK_DESCRIPTORS(path, 1);
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}

BOOST_AUTO_TEST_CASE(relocking_after_the_path_was_replaced_locks_the_file_it_names_now, *boost::unit_test::enable_if<!zc_test::on_windows>()
                              * boost::unit_test::description("not on Windows: counts the descriptors kept open through /proc/self/fd"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::string old_name = dir / "old";
    zl::LockFile lock(path);
    lock.unlock();
    BOOST_REQUIRE(::link(path.c_str(), old_name.c_str()) == 0);
    write_file(dir / "new", "new\n");
    BOOST_REQUIRE(::rename((dir / "new").c_str(), path.c_str()) == 0);
    lock.lock();
    BOOST_TEST(lock.read_contents() == own_record);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_TEST(probe_flock(old_name) == probe_acquired);  // the file the path used to name
    BOOST_TEST(probe_fcntl(old_name) == probe_acquired);
    BOOST_TEST(descriptors_of(old_name) == 0);
#endif
}

// While another object of this process holds the file, closing a kept descriptor would drop that
// holder's record lock: the registry defers the close until the holder releases.
BOOST_AUTO_TEST_CASE(a_kept_descriptor_never_drops_another_objects_lock, *boost::unit_test::enable_if<!zc_test::on_windows>()
                              * boost::unit_test::description("not on Windows: counts the descriptors kept open through /proc/self/fd"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    auto idle = std::make_unique<zl::LockFile>(path);
    idle->unlock();
    zl::LockFile holder(path);
    BOOST_TEST(!idle->try_lock());  // this process holds it: refused in-process, still kept
    BOOST_TEST(descriptors_of(path) == 2);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    idle.reset();  // closes its kept descriptor: deferred
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(read_file(path) == own_record);
    holder.close();
    BOOST_TEST(descriptors_of(path) == 0);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
#endif
}

BOOST_AUTO_TEST_CASE(a_kept_descriptor_waits_for_another_object_and_then_relocks)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile idle(path);
    idle.unlock();
    auto holder = std::make_unique<zl::LockFile>(path);
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the waiter may or may not be waiting yet: both work
        holder.reset();
    });
    BOOST_TEST(idle.try_lock_for(std::chrono::seconds(30)));
    releaser.join();
    BOOST_TEST(idle.read_contents() == own_record);
    CHECK_DESCRIPTORS(path, 1);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}
