// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Stale detection: is the process a record names still the one that wrote it?
#ifndef ZC_LOCKFILE_SRC_STALE_HPP
#define ZC_LOCKFILE_SRC_STALE_HPP

#include "record.hpp"

#include <zc/lockfile/inspect.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace zc {
namespace lockfile {
namespace detail {

struct writer_assessment {
    writer_state state = writer_state::none;
    long long pid = 0;
    std::string hostname;
};

// How much later than the lock file's modification time a process must have started before it
// is taken for a later process that reuses the recorded pid (stale.cpp says why 5 minutes).
constexpr std::int64_t clock_skew_tolerance_ns = 300LL * 1000000000;

// Assesses the writer of the record in `head` (the file's first bytes), written no later than
// mtime_ns. A record from another host is never judged. A live process that started more than
// clock_skew_tolerance_ns after the record was written is not its writer (pid reuse across
// reboots and containers). holder_pid: the pid the kernel names as the lock's holder now (0 if
// none or unknown); when it is the recorded pid, the writer is never called dead or reused,
// whatever the clocks say.
writer_assessment assess_writer(std::string_view head, const content_template& tmpl, std::int64_t mtime_ns,
                                long long holder_pid = 0);

inline bool writer_gone(writer_state s) noexcept
{
    return s == writer_state::dead || s == writer_state::pid_reused;
}

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
