// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Exclusion across real processes and from every kind of peer, in both directions: our library
// in another process, Python's zc.lockfile and flock(1) (flock family), a process holding
// boost::interprocess::file_lock (POSIX record locks). And nothing this process does from inside
// weakens its lock against any of them.
#define BOOST_TEST_MODULE peers
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <csignal>
#include <thread>

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {

// The lock is fully held by this process: refused to an outside flock prober and an outside
// fcntl prober alike.
void check_held_against_both_families(const std::string& path)
{
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}

void check_free_for_both_families(const std::string& path)
{
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}

std::vector<std::string> python_peer(const std::string& path)
{
    return {python3(), "-c", python_peer_script(), path};
}

std::vector<std::string> flock_peer(const std::string& path)
{
    return {"flock", "-n", "-E", "3", path, "-c", "echo locked; read line || true"};
}

std::vector<std::string> lockfile_peer(const std::string& path) { return {lock_helper(), "lock", path}; }

std::vector<std::string> boost_file_lock_peer(const std::string& path) { return {boost_peer(), path}; }

// While `peer` holds the file, LockFile and SimpleLockFile are refused; after it lets go, both
// get it.
void check_refused_while_peer_holds(const std::vector<std::string>& argv, const std::string& path)
{
    child_process peer(argv);
    BOOST_REQUIRE(peer.read_line().rfind("locked", 0) == 0);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
    peer.close_stdin();
    BOOST_TEST(peer.exit_code() == 0);
    zl::LockFile after(path);
    BOOST_TEST(after.is_locked());
}

// While we hold the file, `peer` is refused (it reports busy and exits 3).
void check_peer_refused_while_we_hold(const std::vector<std::string>& argv, const std::string& path)
{
    zl::LockFile lock(path);
    child_process peer(argv);
    const std::string line = peer.read_line();
    BOOST_TEST((line == "busy" || line.empty()), "peer said: " << line);
    BOOST_TEST(peer.exit_code() == 3);
}

} // namespace

BOOST_AUTO_TEST_CASE(lockfile_in_another_process_both_directions)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    check_refused_while_peer_holds(lockfile_peer(path), path);
    check_peer_refused_while_we_hold(lockfile_peer(path), path);
    zl::SimpleLockFile simple(path);
    child_process peer({lock_helper(), "simple", path});
    BOOST_TEST(peer.read_line() == "busy");
}

BOOST_AUTO_TEST_CASE(python_zc_lockfile_both_directions)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    check_refused_while_peer_holds(python_peer(path), path);
    check_peer_refused_while_we_hold(python_peer(path), path);
}

BOOST_AUTO_TEST_CASE(flock_command_both_directions)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    check_refused_while_peer_holds(flock_peer(path), path);
    check_peer_refused_while_we_hold(flock_peer(path), path);
}

BOOST_AUTO_TEST_CASE(boost_file_lock_both_directions)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "");  // file_lock opens only an existing file
    check_refused_while_peer_holds(boost_file_lock_peer(path), path);
    check_peer_refused_while_we_hold(boost_file_lock_peer(path), path);
}

BOOST_AUTO_TEST_CASE(held_lock_excludes_both_kernel_families)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::LockFile lock(path);
        check_held_against_both_families(path);
    }
    check_free_for_both_families(path);
    {
        zl::SimpleLockFile lock(path);
        check_held_against_both_families(path);
    }
    check_free_for_both_families(path);
}

BOOST_AUTO_TEST_CASE(failed_attempts_in_this_process_do_not_weaken_the_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    for (int i = 0; i < 3; ++i) {
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        BOOST_CHECK_THROW(zl::SimpleLockFile{dir / "./lock"}, zl::LockError);
        std::thread([&] {
            boost::system::error_code ec;
            zl::LockFile other(path, ec);
            BOOST_TEST((ec == zl::error::locked));
        }).join();
    }
    check_held_against_both_families(path);
    // Reading the record and inspecting the file go through what the lock holds.
    BOOST_TEST(!lock.read_contents().empty());
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    check_held_against_both_families(path);
    lock.close();
    check_free_for_both_families(path);
}

// The race the registry's deferred close exists for: another thread locks the file while this
// one's failed attempt or inspect still has a descriptor of it open.
BOOST_AUTO_TEST_CASE(concurrent_attempts_and_inspects_never_drop_a_held_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    for (int round = 0; round < 200; ++round) {
        std::thread prober([&] {
            boost::system::error_code ec;
            zl::SimpleLockFile l(path, ec);
            zl::inspect(path, "{pid}", zl::options(), ec);
        });
        boost::system::error_code ec;
        zl::LockFile lock(path, ec);
        prober.join();
        if (!ec) {
            BOOST_REQUIRE(probe_fcntl(path) == probe_busy);
            BOOST_REQUIRE(probe_flock(path) == probe_busy);
        }
    }
}

BOOST_AUTO_TEST_CASE(holder_killed_with_sigkill_frees_the_lock_at_once)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder(lockfile_peer(path));
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    holder.kill(SIGKILL);
    BOOST_TEST(holder.exit_code() == 128 + SIGKILL);
    zl::LockFile lock(path);
    BOOST_TEST(lock.is_locked());
}

// Without /proc (a chroot, a minimal container) the record lock is taken through the path, and
// the lock still excludes both families.
BOOST_AUTO_TEST_CASE(without_proc_the_lock_still_excludes_both_families)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    if (::geteuid() != 0) {
        BOOST_TEST_MESSAGE("needs root for a private mount namespace: not run");
        return;
    }
    child_process holder({"unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                          "mount -t tmpfs none /proc && test ! -e /proc/self && exec \"$0\" lock \"$1\"",
                          lock_helper(),
                          path});
    const std::string line = holder.read_line();
    BOOST_REQUIRE_MESSAGE(line.rfind("locked", 0) == 0, "holder said: " << line);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    holder.close_stdin();
    BOOST_TEST(holder.exit_code() == 0);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}
