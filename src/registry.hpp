// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The in-process registry: every descriptor the library keeps open on a lock file, by file
// (device and inode), and what it is for.
//
// It closes the holes that the kernel's locks leave open inside one process:
// - POSIX record locks belong to the process, so the kernel grants a second lock of the same file
//   to the same process: the registry refuses it first (or makes it wait).
// - Closing *any* descriptor of a file releases the process's record locks on it. So a descriptor
//   of a file that is held here (a failed attempt's, inspect's, a shared holder's that leaves
//   while others stay, one that unlock() kept) is never closed while the lock is held: it is
//   parked in the registry until the last holder releases (the "pending close" of SQLite's unix
//   VFS).
// - Parked descriptors are reused: a shared request that joins this process's shared holders
//   adopts one instead of opening the file again. So a file never has more descriptors open
//   than it has had holders, acquirers and inspectors at one time (doc/reliability.adoc).
// - A forked child inherits the table but none of the locks: the child's fork handler closes
//   every descriptor listed (none can hold a lock of the child's yet) and empties the table.
//
// Nothing here allocates after a descriptor was opened: its place in the table (a slot_node) is
// allocated before the open, and the table's operations that can fail do so before anything is
// changed. So releasing never allocates, and a failed acquisition can always be undone.
#ifndef ZC_LOCKFILE_SRC_REGISTRY_HPP
#define ZC_LOCKFILE_SRC_REGISTRY_HPP

#include "os_lock.hpp"
#include "record.hpp"

#include <chrono>
#include <cstddef>
#include <list>

namespace zc {
namespace lockfile {
namespace detail {

namespace registry {

// What a descriptor listed in the registry is for.
enum class slot_state {
    holding,        // a holder's, or an acquirer's (locked or not yet)
    parked_locked,  // a shared holder's that left while others stay: its kernel locks are kept
    parked,         // holds no lock of its own (a failed attempt's, inspect's); closed at the end
    kept,           // kept open by an object's unlock(), holds no lock; the object closes it
};

struct slot {
    handle fd = invalid_handle;
    slot_state state = slot_state::parked;
};

// The storage of one slot, allocated (allocate()) before the descriptor is opened; registering the
// descriptor moves it into the table without allocating.
class slot_node {
public:
    void allocate() { one_.emplace_back(); }
    std::list<slot>& list() noexcept { return one_; }
    bool used() const noexcept { return one_.empty(); }

private:
    std::list<slot> one_;
};

// True when a request of this mode conflicts with what this process holds (or is acquiring);
// then, when holder_head is given, the first bytes of a holder's file are read into it.
bool conflicts(const file_id& id, bool shared, record_head* holder_head) noexcept;

// Waits until a request of this mode would no longer conflict inside this process, or until the
// deadline; true when it no longer does. Released holders wake waiters at once.
bool wait_until_free(const file_id& id, bool shared, const deadline& until);

// For a shared request when this process holds id shared: takes a parked descriptor of id as a
// holding one, so that no new descriptor is opened. locked says whether it still holds both
// kernel locks (then nothing more is needed). invalid_handle when there is none to adopt.
handle adopt(const file_id& id, bool shared, bool& locked) noexcept;

// Registers h as a holder (or acquirer) of id, exclusive or shared. h is new to the registry and
// takes node's (allocated) storage, or (node == nullptr) it is listed already, kept by its object's unlock().
// False, with nothing changed, when this process holds or is acquiring id in a conflicting mode;
// then a holder's first bytes are read into holder_head when it is given. Throws std::bad_alloc
// only when id was not listed (so nothing of this process holds it), with nothing changed.
bool reserve(const file_id& id, handle h, bool shared, slot_node* node, record_head* holder_head);

// Ends the holding (or the reservation) through h. h_locked: h holds the kernel locks. When other
// holders of id remain, h is parked, its locks kept (releasing one family early would let a
// writer of another process take the flock and then wait for the record lock, while a shared
// holder of this process still acquiring waits for the flock: a deadlock); returns false.
// When h was the last holder, every parked descriptor of id is closed (after releasing its flock,
// when unlock_flocks, that is, in the process that took them), and then:
// - with keep: h's kernel locks are undone, h stays open as the caller's kept descriptor, and
//   the result is true;
// - otherwise h is closed and the result is false. Its flock is released first unless no fork
//   can have copied h since fork_epoch() read h_epoch before h was opened: then closing it
//   releases the flock. That is judged under the registry's lock, which fork() waits for.
bool leave(const file_id& id, handle h, bool h_locked, bool keep, bool unlock_flocks,
             std::uint64_t h_epoch = 1) noexcept;

// Closes h, kept by its object's unlock(), or parks it while this process holds id.
void close_kept(const file_id& id, handle h) noexcept;

// Closes h, a descriptor of file id not in the registry that holds no lock; while this process
// holds id, parks it instead, in node's (allocated) storage.
void close_unless_held(const file_id& id, handle h, slot_node& node) noexcept;

// Calls f with a holder's descriptor, under the registry's lock, if this process holds id.
template <class F> bool with_holder(const file_id& id, F&& f);
handle holder_of(const file_id& id) noexcept;  // under the caller's registry::guard

// True when no file has a holder (or an acquirer) in this process: then a request can neither
// conflict inside the process nor adopt a parked descriptor (there are none without holders), and
// no pre-check by path is needed. Descriptors kept by unlock() do not count: they hold no lock.
bool empty() noexcept;

// Number of files listed (for tests and benchmarks).
std::size_t size() noexcept;
// Number of descriptors listed for id (for tests).
std::size_t descriptors(const file_id& id) noexcept;

// Holds the registry's lock for the caller's scope.
class guard {
public:
    guard() noexcept;
    ~guard();
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
};

template <class F> bool with_holder(const file_id& id, F&& f)
{
    guard g;
    const handle h = holder_of(id);
    if (h == invalid_handle) return false;
    f(h);
    return true;
}

} // namespace registry

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
