// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The in-process registry: which files (by device and inode) this process holds or is locking.
//
// It closes two holes that the kernel's locks leave open inside one process:
// - POSIX record locks belong to the process, so the kernel grants a second lock of the same file
//   to the same process: the registry refuses it first.
// - Closing *any* descriptor of a file releases the process's record locks on it. So a descriptor
//   this library opens on a file that is held here (a failed attempt, inspect) is not closed while
//   the lock is held: it is handed to the registry, which closes it after the holder's own
//   descriptors, when the lock is released (the "pending close" of SQLite's unix VFS).
#ifndef ZC_LOCKFILE_SRC_REGISTRY_HPP
#define ZC_LOCKFILE_SRC_REGISTRY_HPP

#include "os_lock.hpp"

#include <cstddef>
#include <functional>
#include <string>

namespace zc {
namespace lockfile {
namespace detail {

namespace registry {

// Reserves id for an acquisition through descriptor h. False when this process already holds or
// is acquiring id; then `holder` is called, under the registry's lock, with the holder's
// descriptor (valid for that call only), to read its record.
bool reserve(const file_id& id, handle h, const std::function<void(handle)>& holder);

// Ends a reservation or a held lock: closes h and every descriptor deferred on id, then forgets
// id. The kernel locks must already be released (or, in a forked child, not ours).
void release(const file_id& id, handle h) noexcept;

// Closes h, a descriptor of file id that holds no lock, or defers the close to release() while
// this process holds id.
void close_unless_held(const file_id& id, handle h) noexcept;

// Calls f with the holder's descriptor, under the registry's lock, if this process holds id.
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
