// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Which lock families a lock takes, per file system (src/posix/lock_families.hpp): the rules, and
// the real detection on this machine's file system, natively and under test/helper/nfs_shim.c
// (test/nfs_emulation.sh), where it must read "nfs" and the local_lock mount option.
#define BOOST_TEST_MODULE lock_families
#include <boost/test/unit_test.hpp>

#include "../src/posix/lock_families.hpp"
#include "support/fixture.hpp"

#include <zc/lockfile.hpp>

#include <cstdlib>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

using zc::lockfile::detail::classify_file_system;
using zc::lockfile::detail::lock_families;

namespace {

bool env_is(const char* name, const char* value)
{
    const char* v = std::getenv(name);
    return v != nullptr && std::strcmp(v, value) == 0;
}

// What this run must detect: the shim's setting, or a local file system.
lock_families expected_here()
{
    if (zc::lockfile::detail::families_always_interact) return lock_families::interact;
    if (env_is("ZC_NFS_SHIM_FSTYPE", "nfs"))
        return env_is("ZC_NFS_SHIM_LOCAL_LOCK", "flock") || env_is("ZC_NFS_SHIM_LOCAL_LOCK", "all") ? lock_families::separate
                                                                                                       : lock_families::interact;
    return lock_families::separate;
}

} // namespace

BOOST_AUTO_TEST_CASE(nfs_interacts_unless_local_lock_keeps_flock_local)
{
    BOOST_TEST((classify_file_system(0x6969, "rw,vers=4.2,local_lock=none,addr=10.0.0.1", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0x6969, "", true) == lock_families::interact));  // the default, and /proc unreadable
    BOOST_TEST((classify_file_system(0x6969, "rw,vers=3,local_lock=flock", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x6969, "rw,local_lock=all,vers=3", true) == lock_families::separate));
    // local_lock=posix keeps record locks local while flock goes to the server: they no longer
    // meet, and only both exclude both kinds of peer.
    BOOST_TEST((classify_file_system(0x6969, "rw,local_lock=posix", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x6969, "rw,xlocal_lock=flock", true) == lock_families::interact));
}

BOOST_AUTO_TEST_CASE(smb_interacts_since_5_5_unless_nobrl)
{
    BOOST_TEST((classify_file_system(0xFF534D42, "rw,vers=3.1.1", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0xFE534D42, "rw,vers=3.1.1", true) == lock_families::interact));
    BOOST_TEST((classify_file_system(0xFE534D42, "rw,nobrl,vers=3.1.1", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0xFE534D42, "rw,vers=3.1.1", false) == lock_families::separate));
}

BOOST_AUTO_TEST_CASE(other_network_and_cluster_file_systems)
{
    BOOST_TEST((classify_file_system(0x01021997, "rw,trans=virtio", true) == lock_families::interact));  // 9p2000.L
    BOOST_TEST((classify_file_system(0x01021997, "rw,trans=virtio,version=9p2000.u", true) == lock_families::separate));
    // Legacy 9P2000 as the kernel prints it (p9_show_client_options: ",noextend"; it never prints
    // "version=9p2000"): no lock operations, flock is local, both families are taken.
    BOOST_TEST((classify_file_system(0x01021997, "rw,trans=virtio,noextend", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x01021997, "rw,msize=8192,trans=tcp,noextend,port=564", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x0BD00BD0, "rw,flock", true) == lock_families::interact));  // Lustre
    BOOST_TEST((classify_file_system(0x0BD00BD0, "rw,localflock", true) == lock_families::separate));
    BOOST_TEST((classify_file_system(0x65735546, "", true) == lock_families::separate));  // FUSE, virtiofs
    BOOST_TEST((classify_file_system(0x00c36400, "", true) == lock_families::separate));  // Ceph
    BOOST_TEST((classify_file_system(0x47504653, "", true) == lock_families::separate));  // GPFS
    BOOST_TEST((classify_file_system(0x794c7630, "", true) == lock_families::separate));  // overlayfs
    BOOST_TEST((classify_file_system(0xEF53, "", true) == lock_families::separate));      // ext4
    BOOST_TEST((classify_file_system(0x01021994, "", true) == lock_families::separate));  // tmpfs
}

// The real detection (fstatfs, /proc/self/mountinfo) on a file of this run's file system.
BOOST_AUTO_TEST_CASE(detection_on_this_file_system)
{
    zc_test::temp_dir dir;
    const std::string path = dir / "probe.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    BOOST_REQUIRE(fd >= 0);
    struct stat st;
    BOOST_REQUIRE(::fstat(fd, &st) == 0);
    const auto dev = static_cast<std::uint64_t>(makedev(major(st.st_dev), minor(st.st_dev)));
    const lock_families want = expected_here();
    BOOST_TEST((zc::lockfile::detail::families_of_device(fd, dev) == want));
    // The second time from the cache, the same answer.
    BOOST_TEST((zc::lockfile::detail::families_of_device(fd, dev) == want));
    BOOST_TEST(zc::lockfile::detail::takes_flock(fd) == (want == lock_families::separate));
    ::close(fd);
    BOOST_TEST_MESSAGE("families on " << dir.path << ": " << (want == lock_families::interact ? "interact" : "separate"));
}

// The self-refusal of issue 12 cannot happen: the lock can be taken, refused to a second holder
// in this process, released, and taken again.
BOOST_AUTO_TEST_CASE(lock_file_takes_a_free_lock)
{
    zc_test::temp_dir dir;
    const std::string path = dir / "free.lock";
    {
        zc::lockfile::LockFile lock(path);
        BOOST_CHECK_THROW(zc::lockfile::LockFile again(path), zc::lockfile::LockError);
    }
    zc::lockfile::LockFile lock(path);
    BOOST_TEST(lock.is_locked());
}
