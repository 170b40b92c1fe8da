// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_INSPECT_HPP
#define ZC_LOCKFILE_INSPECT_HPP

#include <zc/lockfile/config.hpp>
#include <zc/lockfile/lock_file.hpp>

#include <boost/system/error_code.hpp>

#include <string>

namespace zc {
namespace lockfile {

// tag::inspect[]
// What is known of the process a record names.
enum class writer_state {
    none,        // no record, or one that does not match the template
    alive,       // a process with the recorded pid runs on this host and may be the writer
    dead,        // no process with the recorded pid runs on this host (it died, or released the
                 // lock without clearing its record, as Python's zc.lockfile does)
    pid_reused,  // a process with that pid runs, but it started more than 5 minutes (allowed for
                 // clock skew) after the record was written; never said of the kernel's holder
    other_host,  // the record names another host: nothing can be said from here
    unknown      // the pid is out of range, or the check was not possible
};

// Which kernel lock family a holder uses, where the kernel tells. byte_range: Windows, where the
// lock is on byte 0 and the kernel does not name its holder (holder_pid is 0; see the record).
enum class lock_family { none, flock, posix, ofd, this_process, byte_range };

struct lock_info {
    bool exists = false;
    bool locked = false;           // somebody (this process included) holds it now
    lock_family family = lock_family::none;
    long long holder_pid = 0;      // from the kernel (F_GETLK, /proc/locks) or getpid(); 0 if unknown
    std::string record;            // the record line (from offset 1, first line, trimmed), raw bytes
    long long recorded_pid = 0;    // 0 when the record names no pid
    std::string recorded_hostname; // empty when the record names no host
    writer_state writer = writer_state::none;
    bool stale = false;            // not locked, and the record's writer is dead or its pid reused
};

// Tells what is known about the lock file at path without taking the lock, not even for an
// instant, and without weakening a lock this process holds on it. The record is matched against
// content_template (the writer's template). Throws lock_file_error naming the path
// when the path cannot be examined (a missing file is not an error: exists is false); the
// error_code form reports that in ec and throws only std::bad_alloc.
ZC_LOCKFILE_DECL lock_info inspect(const std::string& path, const std::string& content_template = "{pid}",
                                   const options& opts = options());
ZC_LOCKFILE_DECL lock_info inspect(const std::string& path, const std::string& content_template,
                                   const options& opts, boost::system::error_code& ec);
// end::inspect[]

} // namespace lockfile
} // namespace zc

#endif
