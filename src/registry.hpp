// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The in-process registry: which files (by device and inode) this process holds or is locking,
// and how (exclusive, or shared by how many holders).
//
// It closes the holes that the kernel's locks leave open inside one process:
// - POSIX record locks belong to the process, so the kernel grants a second lock of the same file
//   to the same process: the registry refuses it first (or makes it wait).
// - Closing *any* descriptor of a file releases the process's record locks on it. So a descriptor
//   this library opens on a file that is held here (a failed attempt, inspect, a shared holder
//   that leaves while others stay) is not closed while the lock is held: it is handed to the
//   registry, which closes it when the last holder releases (the "pending close" of SQLite's unix
//   VFS).
#ifndef ZC_LOCKFILE_SRC_REGISTRY_HPP
#define ZC_LOCKFILE_SRC_REGISTRY_HPP

#include "os_lock.hpp"

#include <chrono>
#include <cstddef>
#include <functional>

namespace zc {
namespace lockfile {
namespace detail {

namespace registry {

using deadline = std::chrono::steady_clock::time_point;

// Reserves id for an acquisition through descriptor h, exclusive or shared (a shared request
// joins other shared holders of this process). False when this process holds or is acquiring id
// in a conflicting mode; then `holder` is called, under the registry's lock, with a holder's
// descriptor (valid for that call only), to read its record.
bool reserve(const file_id& id, handle h, bool shared, const std::function<void(handle)>& holder);

// True when a request of this mode would conflict with what this process holds; then `holder`
// is called as for reserve.
bool conflicts(const file_id& id, bool shared, const std::function<void(handle)>& holder);

// Waits until a request of this mode would no longer conflict inside this process, or until the
// deadline; true when it no longer does. Released holders wake waiters at once.
bool wait_until_free(const file_id& id, bool shared, deadline until);

// Ends the holding (or reservation) through h. When h was the last holder of id in this process:
// releases the flock of h and of every descriptor deferred on id (when release_flocks, that is,
// in the process that took them, never in a forked child), closes them all, and forgets id.
// Otherwise h is deferred until then, its kernel locks kept: the process goes on holding the file
// in both families until its last holder leaves. (Releasing one family early would let a writer
// of another process take the flock and then wait for the record lock, while a shared holder of
// this process still acquiring waits for the flock: a deadlock.)
//
// h_alone says that no other process can share h's open file description (no fork since it was
// opened): then closing h releases its flock by itself, and the explicit unlock is skipped.
void release(const file_id& id, handle h, bool release_flocks, bool h_alone = false) noexcept;

// The same for a holder that keeps h open to lock it again (unlock()): when h was the last holder
// of id in this process, undoes both of h's kernel locks (under the registry's lock, so that no
// other thread of this process can have locked the file meanwhile), keeps h open and returns
// true. Otherwise defers h as release() does and returns false: h is no longer the caller's.
bool release_keep_open(const file_id& id, handle h) noexcept;

// Closes h, a descriptor of file id that holds no lock, or defers the close while this process
// holds id.
void close_unless_held(const file_id& id, handle h) noexcept;

// Calls f with a holder's descriptor, under the registry's lock, if this process holds id.
bool with_holder(const file_id& id, const std::function<void(handle)>& f);

// True when this process holds nothing: then no pre-check by path is needed.
bool empty() noexcept;

// Number of files held or being acquired (for tests and benchmarks).
std::size_t size() noexcept;

} // namespace registry

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
