// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "log.hpp"

#include "os_lock.hpp"
#include "record.hpp"

#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_channel_logger.hpp>
#include <boost/log/trivial.hpp>

#include <mutex>

namespace zc {
namespace lockfile {
namespace detail {

namespace {

using severity = boost::log::trivial::severity_level;
using logger_type = boost::log::sources::severity_channel_logger_mt<severity, std::string>;

logger_type& logger()
{
    static logger_type instance(boost::log::keywords::channel = std::string("zc.lockfile"));
    return instance;
}

// Held while a record is made and pushed: across fork() too (at_fork below), so that no thread of
// this library is inside Boost.Log (the logger's lock, the core's, a sink's) when the process
// forks. Otherwise a child forked while another thread logs would wait for ever for the copy of a
// lock no thread of the child holds, at its first record. The outermost of the library's locks
// (fork_layer::log comes first): a sink that uses the library takes the others under it.
//
// A thread may come back here from inside a sink (a sink that uses the library, which then logs;
// Boost.Log's synchronous sinks allow that, their own lock is recursive), and may fork there: it
// takes the mutex once, at its outermost record, and counts the records it is inside. Not a
// std::recursive_mutex: glibc lets only the thread id that locked one unlock it, and a forked
// child's thread has a new id, so the child could never release the copy its fork handler holds.
std::mutex emitting;
thread_local unsigned emitting_depth = 0;  // records this thread is inside

class emitting_scope {
public:
    emitting_scope()
    {
        if (emitting_depth == 0) emitting.lock();
        ++emitting_depth;
    }
    ~emitting_scope()
    {
        if (--emitting_depth == 0) emitting.unlock();
    }
    emitting_scope(const emitting_scope&) = delete;
    emitting_scope& operator=(const emitting_scope&) = delete;
};

// Around fork(), on the forking thread: a thread inside a record holds the mutex already.
void lock_emitting() noexcept
{
    if (emitting_depth == 0) emitting.lock();
}
void unlock_emitting() noexcept
{
    if (emitting_depth == 0) emitting.unlock();
}
[[maybe_unused]] const bool at_load = (at_fork(fork_layer::log, lock_emitting, unlock_emitting, unlock_emitting), true);

// build() makes the message; it is called only when a sink accepts the record.
template <class Build> void emit(severity level, Build build) noexcept
{
    try {
        const emitting_scope inside;
        BOOST_LOG_SEV(logger(), level) << build();
    } catch (...) {
        // A failing sink, or no memory for the message, must not turn a lock result into a
        // different error, nor leave an acquisition half done.
    }
}

} // namespace

void log_lock_failed(const std::string& path, std::string_view head) noexcept
{
    emit(severity::error, [&] { return "Error locking file " + sanitize(path) + "; pid=" + holder_for_log(head); });
}

void log_busy(const std::string& path, std::string_view head) noexcept
{
    emit(severity::debug, [&] { return "Lock file " + sanitize(path) + " is busy; pid=" + holder_for_log(head); });
}

void log_waiting(const std::string& path, std::string_view head) noexcept
{
    emit(severity::debug, [&] { return "Waiting for lock file " + sanitize(path) + "; pid=" + holder_for_log(head); });
}

void log_acquired_after_wait(const std::string& path, std::chrono::steady_clock::duration waited) noexcept
{
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(waited).count();
    emit(severity::debug, [&] { return "Locked file " + sanitize(path) + " after waiting " + std::to_string(us / 1000) + "." +
                              std::to_string(us / 100 % 10) + " ms"; });
}

void log_replaced(const std::string& path) noexcept
{
    emit(severity::debug, [&] { return "Lock file " + sanitize(path) + " was removed or replaced while it was being locked; trying again"; });
}

void log_stale_taken_over(const std::string& path, long long pid, bool pid_reused) noexcept
{
    // What is known is that the recorded process is not running any more. Not how it let go:
    // Python's zc.lockfile never clears its record, so its clean release leaves one as well.
    // "5 minutes" is clock_skew_tolerance_ns (stale.hpp).
    const char* what =
        pid_reused ? " now belongs to a process that started more than 5 minutes after the record was written (its writer "
                     "died holding the lock, or released it without clearing its record, as Python's zc.lockfile always does)"
                   : " is no longer running (it died holding the lock, or released it without clearing its record, as "
                     "Python's zc.lockfile always does)";
    emit(severity::warning, [&] {
        return "Stale record in lock file " + sanitize(path) + ": pid=" + std::to_string(pid) + what + "; replacing the record";
    });
}

void log_other_host(const std::string& path, long long pid, const std::string& host) noexcept
{
    emit(severity::info, [&] { return "Lock file " + sanitize(path) + " holds a record of pid=" + std::to_string(pid) +
                             " on host " + sanitize(host) + "; a record from another host is never called stale"; });
}

void log_clear_failed(const std::string& path, const boost::system::error_code& ec) noexcept
{
    emit(severity::warning, [&] { return "Couldn't clear the record in lock file " + sanitize(path) + ": " +
                                sanitize(ec.message()) + "; released the lock all the same"; });
}

} // namespace detail
} // namespace lockfile
} // namespace zc
