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
// A forked child that inherits every descriptor and stays alive, doing nothing, until destroyed.
class waiting_child {
public:
    waiting_child()
    {
        if (::pipe(ready_) != 0 || ::pipe(go_) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            char c = 'r';
            (void)!::write(ready_[1], &c, 1);
            (void)!::read(go_[0], &c, 1);
            ::_exit(0);
        }
        char c;
        if (::read(ready_[0], &c, 1) != 1) throw std::runtime_error("the child did not start");
    }
    ~waiting_child()
    {
        char c = 'g';
        (void)!::write(go_[1], &c, 1);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        for (int fd : {ready_[0], ready_[1], go_[0], go_[1]}) ::close(fd);
    }
    waiting_child(const waiting_child&) = delete;
    waiting_child& operator=(const waiting_child&) = delete;

private:
    int ready_[2], go_[2];
    pid_t pid_;
};
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
    zl::LockFile lock(path);
    waiting_child child;
    lock.close();
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    zl::LockFile again(path);
    BOOST_TEST(again.is_locked());
}

// unlock() keeps the descriptor open. A forked child that locks its copy of the object must open
// its own: locking the inherited descriptor would share the parent's flock, and the parent's next
// failed attempt would then unlock the child's.
BOOST_AUTO_TEST_CASE(a_forked_child_locking_a_kept_descriptor_excludes_the_parent)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process helper({lock_helper(), "lock", path});
    BOOST_REQUIRE(helper.read_line().rfind("locked", 0) == 0);
    helper.write_line("unlock");
    BOOST_REQUIRE(helper.read_line() == "unlocked");
    helper.write_line("fork-relock");
    const std::string said = helper.read_line();
    BOOST_REQUIRE(said.rfind("child locked ", 0) == 0);
    const std::string child_pid = said.substr(said.rfind(' ') + 1);
    helper.write_line("relock");
    BOOST_TEST(helper.read_line() == "busy");
    // The parent's refused attempt left the child's locks and record alone.
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_TEST(read_file(path) == " " + child_pid + "\n");
    helper.write_line("end-child");
    BOOST_TEST(helper.read_line() == "child ended");
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    helper.write_line("relock");
    BOOST_TEST(helper.read_line() == "relocked");
    BOOST_TEST(probe_flock(path) == probe_busy);
    helper.close_stdin();
    helper.wait();
}

// Closing alone releases the flock only when no fork copied the descriptor; after a fork the
// library unlocks explicitly, even for a descriptor that unlock() kept before the fork.
BOOST_AUTO_TEST_CASE(a_kept_descriptor_copied_by_a_fork_is_released_on_close)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    lock.unlock();
    waiting_child child;
    lock.lock();
    BOOST_TEST(probe_flock(path) == probe_busy);
    lock.close();
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}
