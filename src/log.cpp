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
// lock no thread of the child holds, at its first record. Constant-initialized; a leaf: nothing is
// locked under it but Boost.Log's own locks.
std::mutex emitting;
void lock_emitting() noexcept { emitting.lock(); }
void unlock_emitting() noexcept { emitting.unlock(); }
[[maybe_unused]] const bool at_load = (at_fork(fork_layer::log, lock_emitting, unlock_emitting, unlock_emitting), true);

// build() makes the message; it is called only when a sink accepts the record.
template <class Build> void emit(severity level, Build build) noexcept
{
    try {
        const std::lock_guard<std::mutex> hold(emitting);
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
