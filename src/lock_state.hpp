// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// What a held lock consists of; shared by lock_file.cpp and inspect.cpp.
#ifndef ZC_LOCKFILE_SRC_LOCK_STATE_HPP
#define ZC_LOCKFILE_SRC_LOCK_STATE_HPP

#include "os_lock.hpp"

#include <cstddef>

namespace zc {
namespace lockfile {
namespace detail {

struct lock_state {
    handle fd = invalid_handle;  // our descriptor: the flock, the record's reads and writes
    file_id id;                  // the registry's key
    os_lock lock;                // both kernel lock families
    long long owner = 0;         // the pid that took the lock; a forked child's copy only closes
    std::size_t record_size = 0; // bytes of our record (LockFile), blanked on close
};

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
