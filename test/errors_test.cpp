// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Bad input and hostile paths: each is a clear boost::system::system_error (never a LockError)
// naming the path and the reason; nothing hangs; nothing that is not ours is written.
#define BOOST_TEST_MODULE errors
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"
#if !defined(_WIN32)
#include "support/other_user.hpp"
#include "support/tmpfs.hpp"
#endif

#include <zc/lockfile.hpp>

#include <cerrno>
#include <filesystem>
#include <functional>

#if defined(_WIN32)
#include "../src/windows/reparse.hpp"  // the rule, header-only

#include <winioctl.h>  // FSCTL_SET_REPARSE_POINT
#else
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#endif

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

// The system calls take a path up to its first NUL: "dir/lock\0x" named dir/lock, which was
// created and locked (found by the issue 14 attack). Such a path is refused, and nothing created.
BOOST_AUTO_TEST_CASE(a_path_holding_a_nul_is_refused)
{
    temp_dir dir;
    const std::string cut = dir / "lock";
    const std::string path = cut + std::string("\0x", 2);
    const auto invalid = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
    for (int simple = 0; simple < 2; ++simple) {
        try {
            if (simple) zl::SimpleLockFile lock(path);
            else zl::LockFile lock(path);
            BOOST_FAIL("locked");
        } catch (const zl::lock_file_error& e) {
            BOOST_TEST(e.code() == invalid, e.code().message());
            BOOST_TEST(e.path() == path);
        }
        boost::system::error_code ec;
        zl::SimpleLockFile lock(path, std::defer_lock);
        BOOST_TEST(!lock.try_lock(ec));
        BOOST_TEST(ec == invalid, ec.message());
    }
    boost::system::error_code ec;
    (void)zl::inspect(path, "{pid}", zl::options(), ec);
    BOOST_TEST(ec == invalid, ec.message());
    BOOST_TEST(!std::filesystem::exists(cut));
}

BOOST_AUTO_TEST_CASE(missing_directory, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: it expects POSIX errno values and their messages (bad_input_gets_a_clear_error_naming_the_path_on_windows checks Windows's)"))
{
    temp_dir dir;
    check_refused(dir / "missing/lock", os(ENOENT), "No such file or directory");
    BOOST_TEST(!std::filesystem::exists(dir / "missing"));
}

BOOST_AUTO_TEST_CASE(directory, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: it expects POSIX errno values and their messages (bad_input_gets_a_clear_error_naming_the_path_on_windows checks Windows's)"))
{
    temp_dir dir;
    check_refused(dir.path, os(EISDIR), "Is a directory");
}

BOOST_AUTO_TEST_CASE(fifo_is_refused_without_hanging, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: Windows has no FIFOs in its file system"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "fifo";
    BOOST_REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
    check_refused(path, zl::error::not_a_regular_file, "found a FIFO");
#endif
}

BOOST_AUTO_TEST_CASE(socket_is_refused, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: Windows has no Unix-domain socket files"))
{
#if !defined(_WIN32)
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
#endif
}

BOOST_AUTO_TEST_CASE(character_device_is_refused, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: /dev/null is a POSIX device file"))
{
    check_refused("/dev/null", zl::error::not_a_regular_file, "found a character device");
}

BOOST_AUTO_TEST_CASE(symbolic_link_to_a_file_is_not_followed_and_the_target_is_untouched, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: libstdc++ cannot make a symbolic link on mingw, and Wine 8 cannot tell one (a_windows_symbolic_link_is_not_followed_unless_asked checks Windows)"))
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

BOOST_AUTO_TEST_CASE(dangling_and_looping_links_are_refused_and_create_nothing, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: libstdc++ cannot make a symbolic link on mingw, and Wine 8 cannot tell one (a_windows_symbolic_link_is_not_followed_unless_asked checks Windows)"))
{
    temp_dir dir;
    std::filesystem::create_symlink(dir / "nowhere", dir / "dangling");
    check_refused(dir / "dangling", zl::error::symbolic_link, "symbolic link");
    BOOST_TEST(!std::filesystem::exists(dir / "nowhere"));
    std::filesystem::create_symlink(dir / "loop2", dir / "loop1");
    std::filesystem::create_symlink(dir / "loop1", dir / "loop2");
    check_refused(dir / "loop1", zl::error::symbolic_link, "symbolic link");
}

BOOST_AUTO_TEST_CASE(bad_input_gets_a_clear_error_naming_the_path_on_windows, *boost::unit_test::enable_if<on_windows>()
                              * boost::unit_test::description("Windows only: Windows's own error codes and messages"))
{
#if defined(_WIN32)
    temp_dir dir;
    try {
        zl::LockFile lock(dir.path);
        BOOST_FAIL("a directory was locked");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find(dir.path) != std::string::npos);
    }
    const std::string missing = dir / "no/such/dir/lock";
    try {
        zl::LockFile lock(missing);
        BOOST_FAIL("a file in a missing directory was locked");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find(missing) != std::string::npos);
        BOOST_TEST((e.code() == boost::system::errc::no_such_file_or_directory));
    }
    boost::system::error_code ec;
    zl::LockFile empty("", ec);
    BOOST_TEST((ec == zl::error::empty_path));
    BOOST_CHECK_THROW(zl::LockFile(dir / "lock", "{pid"), boost::system::system_error);
    BOOST_TEST(!std::filesystem::exists(dir / "lock"));  // rejected before anything was created
#endif
}

// Wine 8 makes the link, but opens through it even with FILE_FLAG_OPEN_REPARSE_POINT and reports
// no reparse attribute on either the handle or the path: skipped there.
BOOST_AUTO_TEST_CASE(a_windows_symbolic_link_is_not_followed_unless_asked, *boost::unit_test::enable_if<on_windows>()
                              * boost::unit_test::description("Windows only: CreateSymbolicLink, and the refusal of a reparse point")
                              * boost::unit_test::precondition(not_under_wine{"Wine 8 cannot tell a symbolic link: checked on Windows only"}))
{
#if defined(_WIN32)
    temp_dir dir;
    const std::string target = dir / "target";
    const std::string link = dir / "link";
    write_file(target, "precious");
    // (libstdc++'s std::filesystem::create_symlink is not implemented for mingw.) Creating one
    // needs a privilege, or developer mode, on Windows.
    if (!::CreateSymbolicLinkA(link.c_str(), target.c_str(), 0x2 /* SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE */)) {
        BOOST_TEST_MESSAGE("no symbolic link could be made here: error " << ::GetLastError());
        return;
    }
    try {
        zl::LockFile lock(link);
        BOOST_FAIL("a symbolic link was followed");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST((e.code() == zl::error::symbolic_link));
        BOOST_TEST(std::string(e.what()).find(link) != std::string::npos);
    }
    BOOST_TEST(read_file(target) == "precious");
    zl::options follow;
    follow.follow_symlinks = true;
    zl::SimpleLockFile lock(link, follow);
    BOOST_TEST(lock.is_locked());
    BOOST_CHECK_THROW(zl::SimpleLockFile{target}, zl::LockError);  // the same file
#endif
}

// Issue 13, item 6: a reparse point is refused by its tag, as a symbolic link or a mount point
// (junction) only. Files under OneDrive placeholders, deduplicated volumes or container layers
// are reparse points with other tags, and are locked like any file.
BOOST_AUTO_TEST_CASE(only_symbolic_links_and_mount_points_are_refused_among_reparse_points, *boost::unit_test::enable_if<on_windows>()
                              * boost::unit_test::description("Windows only: reparse points and their tags"))
{
#if defined(_WIN32)
    namespace zd = zc::lockfile::detail;
    const unsigned long reparse = FILE_ATTRIBUTE_REPARSE_POINT;
    BOOST_TEST(zd::is_link(reparse, IO_REPARSE_TAG_SYMLINK));
    BOOST_TEST(zd::is_link(reparse, IO_REPARSE_TAG_MOUNT_POINT));
    for (unsigned long tag : {0x80000013UL /* DEDUP */, 0x9000001AUL /* CLOUD */, 0x9000301AUL /* CLOUD_3 */,
                              0x80000018UL /* WCI */, 0x8000001BUL /* APPEXECLINK */, 0x00000FF1UL /* a third party's */})
        BOOST_TEST(!zd::is_link(reparse, tag), std::hex << tag);
    BOOST_TEST(!zd::is_link(FILE_ATTRIBUTE_NORMAL, IO_REPARSE_TAG_SYMLINK));  // no reparse point at all
#endif
}

// The same on a real file, on Windows: a reparse point with a third party's tag is locked.
// Wine 8 stores only symbolic-link and mount-point reparse points, and reports the reparse
// attribute on no file: neither the refusal nor this acceptance can show there, so it is skipped.
BOOST_AUTO_TEST_CASE(a_file_with_another_reparse_tag_is_locked_like_any_file, *boost::unit_test::enable_if<on_windows>()
                              * boost::unit_test::description("Windows only: reparse points and their tags")
                              * boost::unit_test::precondition(not_under_wine{"Wine 8 cannot make a reparse point with another tag: checked on Windows only"}))
{
#if defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "placeholder";
    write_file(path, "");
    const HANDLE h = ::CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                                   FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    BOOST_TEST_REQUIRE((h != INVALID_HANDLE_VALUE));
    REPARSE_GUID_DATA_BUFFER data{};
    data.ReparseTag = 0x00000FF1UL;  // a third party's tag, neither a link nor a mount point
    data.ReparseGuid = GUID{0x5a0c1a57, 0x13, 0x4c0f, {0x8e, 0x1d, 0x2b, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e}};
    DWORD returned = 0;
    const BOOL set = ::DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, &data, REPARSE_GUID_DATA_BUFFER_HEADER_SIZE, nullptr, 0, &returned, nullptr);
    ::CloseHandle(h);
    if (!set) {
        BOOST_TEST_MESSAGE("no reparse point could be made here: error " << ::GetLastError());
        return;
    }
    zl::LockFile lock(path);
    BOOST_TEST(lock.is_locked());
#endif
}

BOOST_AUTO_TEST_CASE(names_too_long, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: Windows limits paths differently (MAX_PATH, long paths), with its own errors"))
{
    temp_dir dir;
    check_refused(dir / std::string(300, 'n'), os(ENAMETOOLONG), "File name too long");
    std::string deep = dir.path;
    while (deep.size() < 5000) deep += "/x";
    check_refused(deep, os(ENAMETOOLONG), "File name too long");
}

BOOST_AUTO_TEST_CASE(a_file_we_may_not_write, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: permission bits and another user (nobody) are POSIX's"))
{
#if !defined(_WIN32)
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
#endif
}

BOOST_AUTO_TEST_CASE(read_only_file_system, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: it mounts a read-only tmpfs"))
{
#if !defined(_WIN32)
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
#endif
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

// Issue 14: every failure the library throws is a lock_file_error that carries the path; the
// error_code forms report the same failures instead; and copying the exception cannot throw.

// Where Boost's own system_error copies without throwing (1.81 here), ours must too: the path and
// the reason are shared, not copied. (Before Boost 1.78 system_error kept a std::string of its
// own, whose copy may throw.)
static_assert(!std::is_nothrow_copy_constructible<boost::system::system_error>::value ||
                  (std::is_nothrow_copy_constructible<zl::lock_file_error>::value &&
                   std::is_nothrow_copy_constructible<zl::LockError>::value),
              "copying the exceptions may throw");
static_assert(!std::is_nothrow_copy_assignable<boost::system::system_error>::value ||
                  (std::is_nothrow_copy_assignable<zl::lock_file_error>::value &&
                   std::is_nothrow_copy_assignable<zl::LockError>::value),
              "assigning the exceptions may throw");
static_assert(std::is_base_of<zl::lock_file_error, zl::LockError>::value &&
                  std::is_base_of<boost::system::system_error, zl::lock_file_error>::value,
              "LockError is a lock_file_error, which is a system_error");

namespace {

// f must throw a lock_file_error (not a LockError) naming `path`, whose what() starts with
// `message` and says its reason, with the code `expected`.
void check_thrown(const std::string& what_it_is, const std::function<void()>& f, const std::string& path,
                  const std::string& message, const boost::system::error_code& expected)
{
    BOOST_TEST_CONTEXT(what_it_is)
    {
        try {
            f();
            BOOST_FAIL("no error");
        } catch (const zl::LockError& e) {
            BOOST_FAIL("reported as a busy lock: " << e.what());
        } catch (const zl::lock_file_error& e) {
            const std::string what = e.what();
            BOOST_TEST(e.path() == path);
            BOOST_TEST(what.rfind(message, 0) == 0, what);
            BOOST_TEST(what.find(e.reason()) != std::string::npos, what);
            BOOST_TEST(e.code() == expected, e.code().message());
            const zl::lock_file_error copy = e;  // shares the path: nothing to copy that could throw
            BOOST_TEST(&copy.path() == &e.path());
            BOOST_TEST(std::string(copy.what()) == what);
        } catch (const std::exception& e) {
            BOOST_FAIL("not a lock_file_error: " << e.what());
        }
    }
}

} // namespace

// What locking a directory reports.
boost::system::error_code on_directory()
{
    return zc_test::on_windows ? make_error_code(zl::error::not_a_regular_file) : os(EISDIR);
}

BOOST_AUTO_TEST_CASE(every_failure_throws_a_lock_file_error_with_the_path)
{
    temp_dir dir;
    const std::string d = dir.path, fifo = dir / "fifo", lock_path = dir / "lock";
    // Opening a directory: EISDIR on POSIX; on Windows the open is refused and the library reports
    // what is there (open_file in src/windows/os_lock.cpp).
    const auto on_dir = on_directory();
    const std::string on_dir_prefix = "Couldn't open lock file '" + d + (zc_test::on_windows ? "'" : "': ");
    check_thrown("LockFile on a directory", [&] { zl::LockFile l(d); }, d, on_dir_prefix, on_dir);
    check_thrown("SimpleLockFile on a directory", [&] { zl::SimpleLockFile l(d); }, d, on_dir_prefix, on_dir);
    zl::SimpleLockFile deferred(d, std::defer_lock);
    check_thrown("lock() on a directory", [&] { deferred.lock(); }, d, on_dir_prefix, on_dir);
    check_thrown("try_lock() on a directory", [&] { (void)deferred.try_lock(); }, d, on_dir_prefix, on_dir);
    check_thrown("try_lock_for() on a directory", [&] { (void)deferred.try_lock_for(std::chrono::milliseconds(5)); }, d,
                 on_dir_prefix, on_dir);
#if !defined(_WIN32)
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    check_thrown("a FIFO", [&] { zl::LockFile l(fifo); }, fifo,
                 "Couldn't open lock file '" + fifo + "' (found a FIFO): ", zl::error::not_a_regular_file);
#endif
    check_thrown("an invalid template", [&] { zl::LockFile l(lock_path, "{nope}"); }, lock_path,
                 "Couldn't use content template '{nope}' for lock file '" + lock_path + "' (", zl::error::invalid_template);
    check_thrown("read_contents() without a lock", [&] { (void)zl::LockFile(lock_path, std::defer_lock).read_contents(); },
                 lock_path, "Couldn't read lock file '" + lock_path + "' (no lock is held): ",
                 boost::system::errc::make_error_code(boost::system::errc::bad_file_descriptor));
    zl::LockFile held(lock_path);
    check_thrown("locking a held object again", [&] { held.lock(); }, lock_path,
                 "Couldn't lock '" + lock_path + "' (this object holds it already): ",
                 boost::system::errc::make_error_code(boost::system::errc::resource_deadlock_would_occur));
    check_thrown("inspect() on a directory", [&] { (void)zl::inspect(d); }, d, "Couldn't inspect lock file '" + d + "': ",
                 zl::error::not_a_regular_file);
    check_thrown("inspect() with an invalid template", [&] { (void)zl::inspect(lock_path, "{nope}"); }, lock_path,
                 "Couldn't inspect lock file '" + lock_path + "' (content template '{nope}': ", zl::error::invalid_template);
    zl::SimpleLockFile empty;
    check_thrown("an object without a path", [&] { empty.lock(); }, "", "Couldn't lock: the lock file object has no path: ",
                 boost::system::errc::make_error_code(boost::system::errc::invalid_argument));
    // A busy lock is a LockError: a lock_file_error too, with the path and no reason.
    try {
        zl::LockFile second(lock_path);
        BOOST_FAIL("no error");
    } catch (const zl::lock_file_error& e) {
        BOOST_TEST(dynamic_cast<const zl::LockError*>(&e) != nullptr);
        BOOST_TEST(e.path() == lock_path);
        BOOST_TEST(e.reason().empty());
        BOOST_TEST(std::string(e.what()).rfind("Couldn't lock '" + lock_path + "': ", 0) == 0, e.what());
        BOOST_TEST((e.code() == zl::error::locked));
    }
}

BOOST_AUTO_TEST_CASE(the_error_code_forms_of_lock_and_read_contents_report_instead_of_throwing)
{
    temp_dir dir;
    const std::string lock_path = dir / "lock";
    boost::system::error_code ec = zl::error::locked;  // every form clears it first

    zl::SimpleLockFile on_dir(dir.path, std::defer_lock);
    BOOST_CHECK_NO_THROW(on_dir.lock(ec));
    BOOST_TEST(ec == on_directory(), ec.message());
    BOOST_TEST(!on_dir.is_locked());
    ec = zl::error::locked;
    BOOST_TEST(!on_dir.try_lock(ec));
    BOOST_TEST(ec == on_directory(), ec.message());
    ec.clear();
    BOOST_TEST(!on_dir.try_lock_for(std::chrono::milliseconds(5), ec));
    BOOST_TEST(ec == on_directory(), ec.message());
    ec.clear();
    BOOST_TEST(!on_dir.try_lock_until(std::chrono::system_clock::now() + std::chrono::milliseconds(5), ec));
    BOOST_TEST(ec == on_directory(), ec.message());

    zl::LockFile l(lock_path, std::defer_lock);
    ec = zl::error::locked;
    BOOST_TEST(l.read_contents(10, ec).empty());
    BOOST_TEST(ec == boost::system::errc::bad_file_descriptor, ec.message());
    l.lock(ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(l.is_locked());
    ec = zl::error::locked;
    BOOST_TEST(l.read_contents(100, ec) == " " + std::to_string(::getpid()) + "\n");
    BOOST_TEST(!ec, ec.message());
    l.lock(ec);  // this object holds it already
    BOOST_TEST(ec == boost::system::errc::resource_deadlock_would_occur, ec.message());
    BOOST_TEST(l.is_locked());

    // A busy lock is no failure for try_lock: false, with ec clear.
    zl::SimpleLockFile other(lock_path, std::defer_lock);
    ec = zl::error::locked;
    BOOST_TEST(!other.try_lock(ec));
    BOOST_TEST(!ec, ec.message());
    ec = zl::error::locked;
    BOOST_TEST(!other.try_lock_for(std::chrono::milliseconds(5), ec));
    BOOST_TEST(!ec, ec.message());

    ec.clear();
    (void)zl::inspect(lock_path, "{nope}", zl::options(), ec);
    BOOST_TEST((ec == zl::error::invalid_template), ec.message());
    zl::SimpleLockFile empty;
    empty.lock(ec);
    BOOST_TEST(ec == boost::system::errc::invalid_argument, ec.message());
}
