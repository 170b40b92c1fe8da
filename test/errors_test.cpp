// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Bad input and hostile paths: each is a clear boost::system::system_error (never a LockError)
// naming the path and the reason; nothing hangs; nothing that is not ours is written.
#define BOOST_TEST_MODULE errors
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/other_user.hpp"
#include "support/process.hpp"
#include "support/tmpfs.hpp"

#include <zc/lockfile.hpp>

#include <cerrno>
#include <filesystem>
#include <functional>

#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {

// Both classes, both forms: throws a system_error that is not a LockError, with what() naming the
// path and `reason`; the error_code form gives `expected`.
void check_refused(const std::string& path, const boost::system::error_code& expected, const std::string& reason)
{
    BOOST_TEST_CONTEXT("path " << path)
    {
        for (int simple = 0; simple < 2; ++simple) {
            try {
                if (simple) zl::SimpleLockFile lock(path);
                else zl::LockFile lock(path);
                BOOST_FAIL("no error");
            } catch (const zl::LockError& e) {
                BOOST_FAIL("reported as a busy lock: " << e.what());
            } catch (const boost::system::system_error& e) {
                const std::string what = e.what();
                BOOST_TEST(what.find("'" + path + "'") != std::string::npos, what);
                BOOST_TEST(what.find(reason) != std::string::npos, what);
                BOOST_TEST(e.code() == expected, e.code().message());
            }
            boost::system::error_code ec;
            zl::LockFile lock(path, ec);
            BOOST_TEST(ec == expected, ec.message());
            BOOST_TEST(!lock.is_locked());
        }
    }
}

boost::system::error_code os(int e) { return boost::system::error_code(e, boost::system::system_category()); }

} // namespace

BOOST_AUTO_TEST_CASE(empty_path)
{
    check_refused("", zl::error::empty_path, "the path is empty");
}

BOOST_AUTO_TEST_CASE(missing_directory)
{
    temp_dir dir;
    check_refused(dir / "missing/lock", os(ENOENT), "No such file or directory");
    BOOST_TEST(!std::filesystem::exists(dir / "missing"));
}

BOOST_AUTO_TEST_CASE(directory)
{
    temp_dir dir;
    check_refused(dir.path, os(EISDIR), "Is a directory");
}

BOOST_AUTO_TEST_CASE(fifo_is_refused_without_hanging)
{
    temp_dir dir;
    const std::string path = dir / "fifo";
    BOOST_REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
    check_refused(path, zl::error::not_a_regular_file, "found a FIFO");
}

BOOST_AUTO_TEST_CASE(socket_is_refused)
{
    temp_dir dir;
    const std::string path = dir / "sock";
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    BOOST_REQUIRE(path.size() < sizeof addr.sun_path);
    std::copy(path.begin(), path.end(), addr.sun_path);
    BOOST_REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    check_refused(path, os(ENXIO), "No such device or address");
    ::close(s);
}

BOOST_AUTO_TEST_CASE(character_device_is_refused)
{
    check_refused("/dev/null", zl::error::not_a_regular_file, "found a character device");
}

BOOST_AUTO_TEST_CASE(symbolic_link_to_a_file_is_not_followed_and_the_target_is_untouched)
{
    temp_dir dir;
    const std::string target = dir / "precious";
    const std::string link = dir / "link";
    write_file(target, "do not truncate me, I am long\n");
    std::filesystem::create_symlink(target, link);
    check_refused(link, zl::error::symbolic_link, "symbolic link");
    BOOST_TEST(read_file(target) == "do not truncate me, I am long\n");
    // Following is available when asked for, and then the target is the lock file.
    zl::options follow;
    follow.follow_symlinks = true;
    zl::LockFile lock(link, "{pid}", follow);
    BOOST_CHECK_THROW(zl::SimpleLockFile{target}, zl::LockError);
}

BOOST_AUTO_TEST_CASE(dangling_and_looping_links_are_refused_and_create_nothing)
{
    temp_dir dir;
    std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
    check_refused(dir / "dangling", zl::error::symbolic_link, "symbolic link");
    BOOST_TEST(!std::filesystem::exists(dir / "nowhere"));
    std::filesystem::create_symlink(dir / "loop2", dir / "loop1");
    std::filesystem::create_symlink(dir / "loop1", dir / "loop2");
    check_refused(dir / "loop1", zl::error::symbolic_link, "symbolic link");
}

BOOST_AUTO_TEST_CASE(names_too_long)
{
    temp_dir dir;
    check_refused(dir / std::string(300, 'n'), os(ENAMETOOLONG), "File name too long");
    std::string deep = dir.path;
    while (deep.size() < 5000) deep += "/x";
    check_refused(deep, os(ENAMETOOLONG), "File name too long");
}

BOOST_AUTO_TEST_CASE(a_file_we_may_not_write)
{
    temp_dir dir;
    const std::string path = dir / "readonly";
    write_file(path, " 1\n");
    ::chmod(path.c_str(), 0444);
    ::chmod(dir.path.c_str(), 0755);
    if (::geteuid() == 0 && !others_can_search(dir.path)) {
        // The file's own directory is under $TMPDIR: nobody would be refused on the way to it,
        // not by the file's mode, which is what this case is about.
        BOOST_TEST_MESSAGE("not run: user nobody cannot reach " << dir.path
                                                                 << " (set TMPDIR to a directory others can search, or leave it unset)");
        return;
    }
    // As root the permission bits do not apply: the attempt runs as nobody, from a copy of the
    // helper that nobody can reach wherever the build tree is (support/other_user.hpp).
    const as_unprivileged_user attempt_argv(lock_helper(), {"lock", path});
    child_process attempt(attempt_argv.argv());
    const std::string line = attempt.read_line();
    BOOST_TEST(line.find("error Couldn't open lock file '" + path + "': Permission denied") == 0, line);
    BOOST_TEST(attempt.exit_code() == 4);
    BOOST_TEST(read_file(path) == " 1\n");
}

BOOST_AUTO_TEST_CASE(read_only_file_system)
{
    temp_dir dir;
    tmpfs ro(dir / "ro", "64k");
    if (ro.mounted()) write_file(ro.point() + "/existing", " 1\n");
    if (!ro.mounted() || !ro.remount_read_only()) {
        // Mounting needs CAP_SYS_ADMIN; CI runs as root and has it.
        BOOST_TEST_MESSAGE("cannot mount a tmpfs here (mounting needs root: CAP_SYS_ADMIN): read-only case not run");
        BOOST_TEST(::geteuid() != 0, "root could not mount a read-only tmpfs");
        return;
    }
    check_refused(ro.point() + "/existing", os(EROFS), "Read-only file system");
    check_refused(ro.point() + "/new", os(EROFS), "Read-only file system");
}

BOOST_AUTO_TEST_CASE(inspect_reports_errors_naming_the_path)
{
    temp_dir dir;
    BOOST_TEST(!zl::inspect(dir / "missing").exists);
    try {
        zl::inspect(dir.path);
        BOOST_FAIL("no error");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("'" + dir.path + "'") != std::string::npos);
        BOOST_TEST((e.code() == zl::error::not_a_regular_file));
    }
    BOOST_CHECK_THROW(zl::inspect(dir / "x", "{nope}"), boost::system::system_error);
}
