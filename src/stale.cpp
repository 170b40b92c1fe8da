// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "stale.hpp"

#include "os_lock.hpp"

namespace zc {
namespace lockfile {
namespace detail {

namespace {
// Boot time is known to the second only, and a start time to a clock tick: a process counts as
// started after the record only when it started more than this after the file was modified.
constexpr std::int64_t start_time_tolerance_ns = 2000000000;
} // namespace

writer_assessment assess_writer(std::string_view head, const content_template& tmpl, std::int64_t mtime_ns)
{
    writer_assessment out;
    const parsed_record r = tmpl.match(record_line(head));
    if (!r.matched || !r.has_pid) return out;
    out.pid = r.pid;
    if (r.has_hostname) {
        out.hostname = r.hostname;
        if (r.hostname != host_name()) {
            out.state = writer_state::other_host;
            return out;
        }
    }
    switch (probe_process(r.pid)) {
    case process_state::gone: out.state = writer_state::dead; break;
    case process_state::unknown: out.state = writer_state::unknown; break;
    case process_state::running: {
        std::int64_t started = 0;
        const bool known = process_start_time(r.pid, started);
        out.state = known && started > mtime_ns + start_time_tolerance_ns ? writer_state::pid_reused : writer_state::alive;
        break;
    }
    }
    return out;
}

} // namespace detail
} // namespace lockfile
} // namespace zc
