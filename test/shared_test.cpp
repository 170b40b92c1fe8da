// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Shared (reader) locks: many shared holders at once, none while an exclusive holder has it; the
// same peers excluded in both directions (flock -s/-x, boost file_lock sharable/exclusive),
// across processes and inside one process. A shared holder writes no record.
#define BOOST_TEST_MODULE shared
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <future>
#include <thread>

namespace zl = zc::lockfile;
using namespace zc_test;
using namespace std::chrono_literals;

namespace {

zl::options shared_mode()
{
    zl::options o;
    o.shared = true;
    return o;
}

// Outcome of a peer process trying the lock once: "locked" (then released), or "busy".
std::string peer_attempt(const std::vector<std::string>& argv)
{
    child_process peer(argv);
    std::string line = peer.read_line();
    peer.close_stdin();
    const int code = peer.exit_code();
    if (line.empty() && code == 3) line = "busy";  // flock -E 3 prints nothing
    if (line.rfind("locked", 0) == 0) line = "locked";
    return line;
}

std::vector<std::string> flock_peer(const std::string& mode, const std::string& path)
{
    return {"flock", "-n", mode, "-E", "3", path, "-c", "echo locked; read line || true"};
}

} // namespace

BOOST_AUTO_TEST_CASE(many_shared_holders_in_one_process_and_across_processes)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::SimpleLockFile a(path, shared_mode());
    zl::LockFile b(path, "{pid}", shared_mode());
    BOOST_TEST(a.is_shared());
    BOOST_TEST(b.is_shared());
    BOOST_TEST(peer_attempt({lock_helper(), "shared", path}) == "locked");
    BOOST_TEST(peer_attempt({lock_helper(), "lock", path}) == "busy");
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
}

BOOST_AUTO_TEST_CASE(a_shared_holder_writes_no_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "  \n");
    {
        zl::LockFile reader(path, "{pid}", shared_mode());
        BOOST_TEST(read_file(path) == "  \n");
    }
    BOOST_TEST(read_file(path) == "  \n");
}

BOOST_AUTO_TEST_CASE(an_exclusive_holder_excludes_shared_requests)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::LockFile writer(path);
        BOOST_CHECK_THROW(zl::SimpleLockFile(path, shared_mode()), zl::LockError);
        BOOST_TEST(peer_attempt({lock_helper(), "shared", path}) == "busy");
    }
    child_process writer({lock_helper(), "lock", path});
    BOOST_REQUIRE(writer.read_line().rfind("locked", 0) == 0);
    BOOST_CHECK_THROW(zl::SimpleLockFile(path, shared_mode()), zl::LockError);
}

// Record locks belong to the process and any close drops them: when one of two shared holders of
// this process leaves, the other must still hold the process's read lock.
BOOST_AUTO_TEST_CASE(one_shared_holder_leaving_keeps_the_others_lock, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: its peers are flock(1) and boost_peer, POSIX programs, and it is about POSIX record locks, which any close drops"))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    auto first = std::make_unique<zl::SimpleLockFile>(path, shared_mode());
    zl::SimpleLockFile second(path, shared_mode());
    first.reset();
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(peer_attempt({boost_peer(), path}) == "busy");
    BOOST_TEST(peer_attempt(flock_peer("-x", path)) == "busy");
    second.close();
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    BOOST_TEST(probe_flock(path) == probe_acquired);
}

// unlock() keeps a descriptor open only when it can undo its locks: never while another shared
// holder of this process relies on the process-wide record lock.
BOOST_AUTO_TEST_CASE(one_shared_holder_unlocking_keeps_the_others_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::SimpleLockFile first(path, shared_mode());
    zl::SimpleLockFile second(path, shared_mode());
    first.unlock();
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(first.try_lock());  // joins the other shared holder again
    second.unlock();
    first.unlock();  // the last one: both families released, its descriptor kept
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(first.try_lock());
    BOOST_TEST(second.try_lock());
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}

BOOST_AUTO_TEST_CASE(flock_peers_in_both_modes_and_both_directions, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: flock(1) is a Linux program"))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::SimpleLockFile reader(path, shared_mode());
        BOOST_TEST(peer_attempt(flock_peer("-s", path)) == "locked");
        BOOST_TEST(peer_attempt(flock_peer("-x", path)) == "busy");
    }
    {
        holder peer(flock_peer("-s", path));
        zl::SimpleLockFile reader(path, shared_mode());
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    }
    holder peer(flock_peer("-x", path));
    BOOST_CHECK_THROW(zl::SimpleLockFile(path, shared_mode()), zl::LockError);
}

BOOST_AUTO_TEST_CASE(boost_file_lock_peers_in_both_modes_and_both_directions, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: boost_peer is built for POSIX, where file_lock is a record lock"))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "");
    {
        zl::SimpleLockFile reader(path, shared_mode());
        BOOST_TEST(peer_attempt({boost_peer(), path, "shared"}) == "locked");
        BOOST_TEST(peer_attempt({boost_peer(), path}) == "busy");
    }
    {
        holder peer({boost_peer(), path, "shared"});
        zl::SimpleLockFile reader(path, shared_mode());
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    }
    holder peer({boost_peer(), path});
    BOOST_CHECK_THROW(zl::SimpleLockFile(path, shared_mode()), zl::LockError);
}

BOOST_AUTO_TEST_CASE(an_exclusive_waiter_gets_the_lock_when_the_last_shared_holder_leaves)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    auto a = std::make_unique<zl::SimpleLockFile>(path, shared_mode());
    auto b = std::make_unique<zl::SimpleLockFile>(path, shared_mode());
    zl::LockFile writer(path, std::defer_lock);
    auto waiter = std::async(std::launch::async, [&] { return writer.try_lock_for(20s); });
    a.reset();
    BOOST_TEST((waiter.wait_for(50ms) == std::future_status::timeout));  // b still holds it
    b.reset();
    BOOST_REQUIRE((waiter.wait_for(step_limit) == std::future_status::ready));
    BOOST_TEST(waiter.get());
}

BOOST_AUTO_TEST_CASE(inspect_sees_shared_holders, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: Windows cannot name a lock's holder (holder_pid is 0), and Wine does not show another process's lock to inspect"))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::SimpleLockFile reader(path, shared_mode());
        BOOST_TEST(zl::inspect(path).locked);
    }
    child_process reader({lock_helper(), "shared", path});
    BOOST_REQUIRE(reader.read_line().rfind("locked", 0) == 0);
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    BOOST_TEST(info.holder_pid == reader.pid());
}
