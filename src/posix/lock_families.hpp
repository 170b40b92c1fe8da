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

enum class lock_families : std::uint8_t { unknown = 0, separate = 1, interact = 2 };

// The rule, from the file system's magic number (fstatfs's f_type) and, where it matters, the
// super-block options of its line in /proc/self/mountinfo. Pure, for the tests.
// kernel_5_5_or_later: SMB/CIFS emulates flock only since 5.5.
lock_families classify_file_system(unsigned long f_type, const std::string& super_options,
                                   bool kernel_5_5_or_later) noexcept;

// The decision for descriptor h on device dev, cached per device: the first descriptor seen on a
// device costs an fstatfs (and, for the file systems above, a read of /proc/self/mountinfo);
// later ones a lookup in a small lock-free table.
lock_families families_of_device(int h, std::uint64_t dev) noexcept;

// Per descriptor, so that the lock and its release need no system call: stat_handle notes the
// device's decision for every descriptor it identifies, close_handle forgets it.
void note_descriptor(int h, std::uint64_t dev) noexcept;
void forget_descriptor(int h) noexcept;
// Whether a lock through h takes the flock as well as the record lock. A descriptor never noted
// costs an fstat.
bool takes_flock(int h) noexcept;

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
