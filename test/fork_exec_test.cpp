// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Descriptors do not leak into exec'd children, and a forked child's copy of a lock never
// releases the parent's.
#define BOOST_TEST_MODULE fork_exec
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <csignal>
#include <filesystem>
#include <sstream>

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {
// The targets of every open descriptor of the exec'd shell, one per line.
std::string descriptors_after_exec()
{
    child_process shell({"/bin/sh", "-c", "for f in /proc/$$/fd/*; do readlink \"$f\"; done; echo end"});
    std::string all, line;
    while ((line = shell.read_line()) != "end" && !line.empty()) all += line + "\n";
    shell.wait();
    return all;
}
} // namespace

BOOST_AUTO_TEST_CASE(an_execd_child_inherits_no_descriptor_of_the_lock_file)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::LockFile lock(path);
        const std::string fds = descriptors_after_exec();
        BOOST_TEST(fds.find("pipe:") != std::string::npos);  // the listing itself works (stdin, stdout)
        BOOST_TEST(fds.find(path) == std::string::npos, "inherited: " << fds);
    }
    zl::SimpleLockFile simple(path);
    BOOST_TEST(descriptors_after_exec().find(path) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_execd_child_does_not_keep_the_lock_alive_after_the_holder_dies)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    holder.write_line("spawn");
    const pid_t grandchild = std::stoi(holder.read_line());
    holder.kill(SIGKILL);
    holder.wait();
    BOOST_TEST(::kill(grandchild, 0) == 0);  // still running
    zl::LockFile lock(path);
    BOOST_TEST(lock.is_locked());
    ::kill(grandchild, SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_forked_child_that_exits_leaves_the_lock_held)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    BOOST_TEST(in_forked_child([] { return 0; }) == 0);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}

BOOST_AUTO_TEST_CASE(a_forked_child_that_closes_or_destroys_its_copy_leaves_the_lock_held)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::string record = " " + std::to_string(::getpid()) + "\n";
    // The child here runs library code (it is what the case is about); the helper is a
    // single-threaded process, so its fork may do anything.
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    holder.write_line("fork-exit");
    BOOST_TEST(holder.read_line() == "forked 0");
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    // The child neither unlocked nor blanked the record.
    BOOST_TEST(read_file(path) == " " + std::to_string(holder.pid()) + "\n");
    holder.write_line("close");
    BOOST_TEST(holder.read_line() == "closed");
    zl::LockFile mine(path);
    BOOST_TEST(mine.read_contents() == record);
}

BOOST_AUTO_TEST_CASE(a_forked_child_killed_leaves_the_lock_held)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    BOOST_TEST(in_forked_child([] { ::raise(SIGKILL); return 0; }) == 128 + SIGKILL);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}

// The Python original's test: re-locking after close works while a forked child that inherited
// the descriptor is still alive.
BOOST_AUTO_TEST_CASE(relock_after_close_while_a_forked_child_is_alive)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    int ready[2], go[2];
    BOOST_REQUIRE(::pipe(ready) == 0);
    BOOST_REQUIRE(::pipe(go) == 0);
    zl::LockFile lock(path);
    const pid_t child = ::fork();
    if (child == 0) {
        char c = 'r';
        (void)!::write(ready[1], &c, 1);
        (void)!::read(go[0], &c, 1);  // stay alive, descriptors inherited, until told
        ::_exit(0);
    }
    char c;
    BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
    lock.close();
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    zl::LockFile again(path);
    BOOST_TEST(again.is_locked());
    (void)!::write(go[1], &c, 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    for (int fd : {ready[0], ready[1], go[0], go[1]}) ::close(fd);
}
