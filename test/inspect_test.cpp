// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// inspect(): what is known about a lock file, from the kernel and the record, without taking it.
#define BOOST_TEST_MODULE inspect
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace zl = zc::lockfile;
using namespace zc_test;

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
    BOOST_TEST(info.holder_pid == ::getpid());
    BOOST_TEST(info.recorded_pid == ::getpid());
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
    BOOST_TEST(info.locked);
    BOOST_TEST((info.family == zl::lock_family::posix));
    BOOST_TEST(info.holder_pid == holder.pid());
    BOOST_TEST(info.recorded_pid == holder.pid());
    BOOST_TEST(info.record == std::to_string(holder.pid()));
}

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

BOOST_AUTO_TEST_CASE(held_by_flock_peers)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        holder flock_holder({"flock", "-n", path, "-c", "echo locked; read line || true"});
        const zl::lock_info info = zl::inspect(path);
        BOOST_TEST(info.locked);
        check_flock_holder(info, flock_holder.pid());
    }
    child_process python({"/usr/bin/python3", "-c", python_peer_script(), path});
    BOOST_REQUIRE(python.read_line() == "locked");
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    check_flock_holder(info, python.pid());
    BOOST_TEST(info.recorded_pid == python.pid());
}

BOOST_AUTO_TEST_CASE(held_by_boost_file_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "");
    child_process holder({boost_peer(), path});
    BOOST_REQUIRE(holder.read_line() == "locked");
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.locked);
    BOOST_TEST((info.family == zl::lock_family::posix));
    BOOST_TEST(info.holder_pid == holder.pid());
}

BOOST_AUTO_TEST_CASE(stale_after_the_holder_is_killed)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path, "{pid}/{hostname}"});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    holder.kill(SIGKILL);
    holder.wait();
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
BOOST_AUTO_TEST_CASE(inspect_never_takes_the_lock)
{
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
}
