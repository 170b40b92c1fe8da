// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Reporting through Boost.Log's global core: channel "zc.lockfile", boost::log::trivial severity.
// The library only emits records; sinks and filters are the application's business. Logging never
// throws and never changes a result: a message is built only when a sink will take it, and a
// failure to build or deliver it (no memory, a throwing sink) loses that one record.
#ifndef ZC_LOCKFILE_SRC_LOG_HPP
#define ZC_LOCKFILE_SRC_LOG_HPP

#include <boost/system/error_code.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace zc {
namespace lockfile {
namespace detail {

// error: "Error locking file <path>; pid=<holder>", the seed's message. head is the holder's
// file's first bytes.
void log_lock_failed(const std::string& path, std::string_view head) noexcept;
// debug: try_lock() found the lock busy (a poll, not an error).
void log_busy(const std::string& path, std::string_view head) noexcept;
// debug: a wait begins; and a wait that ended with the lock.
void log_waiting(const std::string& path, std::string_view head) noexcept;
void log_acquired_after_wait(const std::string& path, std::chrono::steady_clock::duration waited) noexcept;
// debug: the path stopped naming the file while it was being locked; trying again.
void log_replaced(const std::string& path) noexcept;
// warning: a dead writer's record found by the new holder.
void log_stale_taken_over(const std::string& path, long long pid, bool pid_reused) noexcept;
// info: a surviving record from another host, which is never called stale.
void log_other_host(const std::string& path, long long pid, const std::string& host) noexcept;
// warning: close() could not blank the record (the lock was released all the same).
void log_clear_failed(const std::string& path, const boost::system::error_code& ec) noexcept;

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
