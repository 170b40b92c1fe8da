// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// What a lock object consists of: its configuration, and while it is held, the held lock.
#ifndef ZC_LOCKFILE_SRC_LOCK_STATE_HPP
#define ZC_LOCKFILE_SRC_LOCK_STATE_HPP

#include "os_lock.hpp"
#include "record.hpp"

#include <zc/lockfile/lock_file.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace zc {
namespace lockfile {
namespace detail {

struct lock_state {
    // Configuration, fixed at construction.
    std::optional<content_template> tmpl;  // LockFile only
    options opts;

    // The held lock. A descriptor that is open while nothing is held was kept by unlock(), to be
    // locked again without opening the file; close() closes it.
    bool held = false;
    bool shared = false;
    handle fd = invalid_handle;  // our descriptor: both locks, the record's reads and writes
    file_id id;                  // the registry's key
    kernel_lock lock;            // both kernel lock families
    long long owner = 0;         // the pid that opened fd; a forked child's copy only closes
    std::uint64_t fork_epoch = 0; // fork_epoch() before fd was opened
    std::size_t record_size = 0; // bytes of our record (LockFile), blanked on close
};

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
