// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "stale.hpp"

#include "os_lock.hpp"

namespace zc {
namespace lockfile {
namespace detail {

// The start time is the kernel's boot time (btime, whole seconds, computed from the wall clock
// when it is read) plus the start's clock ticks; the modification time is whatever clock stamped
// the file: the NFS server's for a file on NFS, or this host's as it was before a step. The two
// are compared with clock_skew_tolerance_ns (stale.hpp) of slack, 5 minutes. Why that much: it is
// the largest skew Kerberos accepts by default between hosts, so NFS with Kerberos (and any network
// of hosts that keeps to it) stays within it; it covers the second that btime is rounded to many
// times over; and the cost of a larger one falls on the rarer case, a writer that died within 5
// minutes of writing its record and whose pid was taken again within that time: such a record is
// reported alive (not stale) rather than reused. Calling a live writer reused is the worse error,
// since a report must claim no more than is known. A clock stepped forward by more than that after
// the record was written can still make a live writer that does not hold the lock look reused;
// when it holds the lock, the kernel's word settles it (holder_pid) and no clock is consulted.

writer_assessment assess_writer(std::string_view head, const content_template& tmpl, std::int64_t mtime_ns,
                                long long holder_pid)
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
    // The kernel names the recorded pid as the lock's holder: that process is the writer or
    // shares its pid with it, and nothing here may call it dead or reused.
    const bool named_by_kernel = holder_pid > 0 && holder_pid == r.pid;
    switch (probe_process(r.pid)) {
    case process_state::gone:
        // Possible only for a flock taken by a process that has since exited, its descriptor kept
        // by a child: the kernel and kill() disagree, so nothing is claimed.
        out.state = named_by_kernel ? writer_state::unknown : writer_state::dead;
        break;
    case process_state::unknown: out.state = writer_state::unknown; break;
    case process_state::running: {
        std::int64_t started = 0;
        const bool reused = !named_by_kernel && process_start_time(r.pid, started) &&
                            started > mtime_ns + clock_skew_tolerance_ns;
        out.state = reused ? writer_state::pid_reused : writer_state::alive;
        break;
    }
    }
    return out;
}

} // namespace detail
} // namespace lockfile
} // namespace zc
