// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The lock-families layer of the POSIX seam: whether flock and POSIX record locks see each other
// on the file system a descriptor is on, decided once per device and cached (doc/design.adoc,
// "File systems where the lock families interact").
//
// Where they do not (local Linux file systems), a lock takes both families. Where they do (NFS
// with the default local_lock=none, SMB/CIFS, 9p2000.L, Lustre with flock; macOS and the BSDs
// everywhere), our own flock and record lock would refuse each other, and the record lock alone
// excludes flock users as well: only it is taken.
#ifndef ZC_LOCKFILE_SRC_POSIX_LOCK_FAMILIES_HPP
#define ZC_LOCKFILE_SRC_POSIX_LOCK_FAMILIES_HPP

#include <cstdint>
#include <string>

// ZC_LOCKFILE_LOCK_FAMILIES_INTERACT=1 makes every file system count as interacting, as on macOS
// and the BSDs: the test stage builds the library that way on Linux to run the BSD path.
#if !defined(ZC_LOCKFILE_LOCK_FAMILIES_INTERACT)
#if defined(__linux__)
#define ZC_LOCKFILE_LOCK_FAMILIES_INTERACT 0
#else
#define ZC_LOCKFILE_LOCK_FAMILIES_INTERACT 1
#endif
#endif

namespace zc {
namespace lockfile {
namespace detail {

// True when the families interact everywhere, so nothing is detected.
constexpr bool families_always_interact = ZC_LOCKFILE_LOCK_FAMILIES_INTERACT != 0;

// statx's mount ids (older C libraries' headers lack the names): STATX_MNT_ID, filled since Linux
// 5.8, whose ids are reused once a mount is gone; STATX_MNT_ID_UNIQUE, Linux 6.8, never reused.
// Asking for both gives the unique one where the kernel has it.
constexpr unsigned statx_mount_id = 0x1000;
constexpr unsigned statx_mount_id_unique = 0x4000;

enum class lock_families : std::uint8_t { unknown = 0, separate = 1, interact = 2 };

// The rule, from the file system's magic number (fstatfs's f_type), the type its line in
// /proc/self/mountinfo names ("9p": a 9p mount's fstatfs gives the server's type) and that line's
// super-block options. Pure, for the tests. kernel_5_5_or_later: SMB/CIFS emulates flock only
// since 5.5.
lock_families classify_file_system(unsigned long f_type, const std::string& type_name, const std::string& super_options,
                                   bool kernel_5_5_or_later) noexcept;
inline lock_families classify_file_system(unsigned long f_type, const std::string& super_options,
                                          bool kernel_5_5_or_later) noexcept
{
    return classify_file_system(f_type, std::string(), super_options, kernel_5_5_or_later);
}

// Why the decision could not be made: the errno value, and what was being read (for the message).
struct families_failure {
    int error = 0;
    const char* reading = "";
};

// The decision for descriptor h, on device dev and mount mnt (statx's mount id; 0 when unknown,
// and then the device alone is the key), cached per (device, mount): the first descriptor seen on
// a mount costs an fstatfs and a read of /proc/self/mountinfo; later ones a lookup in a small
// lock-free table. When mnt is not unique (mnt_unique false: before Linux 6.8 mount ids and
// anonymous device numbers are both reused lowest-free, so a new mount can get both of a gone
// one's), each descriptor also costs an fstatfs, and a file system type other than the cached
// one is decided afresh. unknown, with why set, when that cannot be told (a transient failure: no
// descriptor or memory left, a server not answering, /proc mounted but its mountinfo missing):
// nothing is cached, and the attempt must fail rather than guess.
lock_families families_of_device(int h, std::uint64_t dev, std::uint64_t mnt, bool mnt_unique, families_failure& why) noexcept;

// Per descriptor, so that the lock and its release need no system call: the library notes the
// decision for every descriptor it opens to lock (false, with why set, when it cannot be told:
// nothing is noted then), close_handle forgets it.
bool note_descriptor(int h, std::uint64_t dev, std::uint64_t mnt, bool mnt_unique, families_failure& why) noexcept;
void forget_descriptor(int h) noexcept;
// The decision noted for h; for a descriptor never noted (numbers past the table's) it costs a
// statx, and may be unknown, with why set.
lock_families families_of_descriptor(int h, families_failure& why) noexcept;

// For the tests: empties the per-device cache, so that the next descriptor of each device is
// classified afresh. Not safe while other threads use the cache.
void forget_file_systems_for_tests() noexcept;

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
