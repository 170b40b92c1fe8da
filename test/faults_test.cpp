// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Faults: the lock file removed or replaced while it is being locked (the library never reports a
// lock on a file the path no longer names), removed or replaced while held (what happens, as
// documented), and a full disk while writing the record (no half-held lock).
#define BOOST_TEST_MODULE faults
#include <boost/test/unit_test.hpp>
#include <boost/version.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"
#include "support/tmpfs.hpp"

#include <zc/lockfile.hpp>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/mount.h>
#include <sys/stat.h>

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {

std::string replace_shim() { return preloadable("libreplace_shim.so"); }

// lock_helper under the shim, which removes or replaces PATH `times` times at flock(); with
// no_statx, statx() fails with ENOSYS there too, and the library falls back to fstatat.
child_process shimmed_holder(const std::string& path, const char* action, int times, bool no_statx = false)
{
    return child_process({"env", "LD_PRELOAD=" + replace_shim(), "ZC_SHIM_PATH=" + path, std::string("ZC_SHIM_ACTION=") + action,
                          "ZC_SHIM_TIMES=" + std::to_string(times), std::string("ZC_SHIM_NO_STATX=") + (no_statx ? "1" : "0"),
                          lock_helper(), "lock", path});
}

ino_t inode_of(const std::string& path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

} // namespace

BOOST_AUTO_TEST_CASE(replaced_while_being_locked_the_lock_is_taken_on_what_the_path_names)
{
    for (const bool no_statx : {false, true})
    for (const char* action : {"replace", "unlink"}) {
        BOOST_TEST_CONTEXT(action << (no_statx ? ", without statx" : ""))
        {
            temp_dir dir;
            const std::string path = dir / "lock";
            write_file(path, "");
            child_process holder = shimmed_holder(path, action, 1, no_statx);
            const std::string line = holder.read_line();
            BOOST_REQUIRE_MESSAGE(line.rfind("locked", 0) == 0, line);
            // The lock is on the file the path names now: the kernel says the helper holds it, and
            // its record is there.
            const zl::lock_info info = zl::inspect(path);
            BOOST_TEST(info.locked);
            BOOST_TEST(info.holder_pid == holder.pid());
            BOOST_TEST(read_file(path) == " " + std::to_string(holder.pid()) + "\n");
            BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_path_that_keeps_changing_is_reported_not_locked)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder = shimmed_holder(path, "replace", 1000);
    const std::string line = holder.read_line();
    // Boost.System's system_error::what() ends with " [category:value]" since Boost 1.78; 1.74's
    // ends with the message (README, "Boost versions").
    const std::string code = BOOST_VERSION >= 107800 ? " [zc.lockfile:6]" : "";
    BOOST_TEST(line == "error Couldn't lock '" + path + "': the path no longer names the file that was locked" + code);
    BOOST_TEST(holder.exit_code() == 4);
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}

// Documented: removing or replacing a lock file while it is held cannot be prevented by a lock
// file library. The holder keeps its lock on the old inode; the path then names another file,
// which a newcomer can lock. inspect() and the newcomer see the file the path names.
BOOST_AUTO_TEST_CASE(replaced_while_held_the_holder_keeps_the_old_file)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile held(path);
    const ino_t old = inode_of(path);
    write_file(dir / "new", "");
    std::filesystem::rename(dir / "new", path);
    BOOST_TEST(inode_of(path) != old);
    BOOST_TEST(held.is_locked());
    BOOST_TEST(!zl::inspect(path).locked);
    child_process newcomer({lock_helper(), "lock", path});
    BOOST_TEST(newcomer.read_line().rfind("locked", 0) == 0);
}

namespace {
// A full 64 KiB tmpfs with an empty lock file on it.
void fill(const tmpfs& disk)
{
    write_file(disk.point() + "/lock", "");
    std::ofstream filler(disk.point() + "/filler", std::ios::binary);
    const std::string block(4096, 'x');
    for (int i = 0; i < 64 && filler.write(block.data(), static_cast<std::streamsize>(block.size())); ++i) {
    }
}
} // namespace

BOOST_AUTO_TEST_CASE(a_full_disk_while_writing_the_record_fails_clearly_and_releases_the_lock)
{
    temp_dir dir;
    tmpfs disk(dir / "full", "64k");
    if (disk.mounted()) fill(disk);
    if (!disk.mounted()) {
        BOOST_TEST_MESSAGE("cannot mount a tmpfs here (mounting needs root: CAP_SYS_ADMIN): full-disk case not run");
        BOOST_TEST(::geteuid() != 0, "root could not mount a tmpfs");
        return;
    }
    const std::string path = disk.point() + "/lock";
    try {
        zl::LockFile lock(path);
        BOOST_FAIL("the record was written on a full disk");
    } catch (const zl::LockError&) {
        BOOST_FAIL("reported as a busy lock");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(std::string(e.what()).find("Couldn't write the record to lock file '" + path + "': No space left on device") == 0,
                   e.what());
        BOOST_TEST(e.code().value() == ENOSPC);
    }
    // No half-held lock, no half-written record.
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    BOOST_TEST(read_file(path).empty());
    // A SimpleLockFile writes nothing and gets it; once there is room, so does a LockFile.
    { zl::SimpleLockFile simple(path); }
    std::filesystem::remove(disk.point() + "/filler");
    zl::LockFile lock(path);
    BOOST_TEST(read_file(path) == " " + std::to_string(::getpid()) + "\n");
}
