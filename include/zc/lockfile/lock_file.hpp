// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_LOCK_FILE_HPP
#define ZC_LOCKFILE_LOCK_FILE_HPP

#include <zc/lockfile/config.hpp>
#include <zc/lockfile/deadline.hpp>
#include <zc/lockfile/error.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

namespace zc {
namespace lockfile {

namespace detail {
struct lock_state;
}

// tag::options[]
// How a lock file is opened and locked. The defaults are the seed's behaviour and the safe ones.
struct options {
    // Follow a symbolic link at the final component of the path. Off by default: a link planted
    // in a shared directory must not make a LockFile write to (and truncate) the link's target.
    bool follow_symlinks = false;
    // How long the constructors wait for a busy lock: zero (the default) means exactly one
    // attempt; wait_forever (or a century or more) means as long as it takes; to_wait() converts
    // any duration. Deadlines use std::chrono::steady_clock.
    std::chrono::nanoseconds wait{0};
    // A shared (reader) lock: many shared holders at once, none while an exclusive holder has it.
    // A shared holder writes no record.
    bool shared = false;
};
// end::options[]

// An exclusive (or shared) lock on a file, which it creates (mode 0644 before umask) when it is
// missing and never removes. It never writes to the file. doc/reference.adoc documents every
// member with its Effects, Throws and Logs.
//
// It meets the standard TimedLockable requirements (lock, try_lock, unlock, try_lock_for,
// try_lock_until), so std::unique_lock<SimpleLockFile> works; construct it with std::defer_lock
// to lock it later.
//
// While a lock is held, the application must not open the lock file itself: on POSIX, closing any
// descriptor of the file releases the process's record locks on it. Use read_contents().
// tag::simple_lock_file[]
class ZC_LOCKFILE_DECL SimpleLockFile {
public:
    SimpleLockFile() noexcept;
    explicit SimpleLockFile(std::string path, const options& opts = options());
    // The error_code forms report every failure in ec (error::locked when the lock is busy) and
    // throw only std::bad_alloc.
    SimpleLockFile(std::string path, boost::system::error_code& ec);
    SimpleLockFile(std::string path, const options& opts, boost::system::error_code& ec);
    // Does not lock: lock(), try_lock() and friends do, later.
    SimpleLockFile(std::string path, std::defer_lock_t, const options& opts = options());

    SimpleLockFile(SimpleLockFile&& other) noexcept;
    SimpleLockFile& operator=(SimpleLockFile&& other) noexcept;
    SimpleLockFile(const SimpleLockFile&) = delete;
    SimpleLockFile& operator=(const SimpleLockFile&) = delete;
    ~SimpleLockFile();

    // Lockable. lock() waits as long as it takes; try_lock() makes one attempt and returns false
    // when the lock is busy; try_lock_for/until wait up to a steady-clock deadline. They throw
    // lock_file_error (naming the path) for every failure but a busy lock. The error_code forms
    // report in ec what those throw (a busy lock is no failure: false, with ec clear), and throw
    // only std::bad_alloc.
    void lock();
    void lock(boost::system::error_code& ec);
    [[nodiscard]] bool try_lock();
    [[nodiscard]] bool try_lock(boost::system::error_code& ec);
    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout)
    {
        return try_lock_before(detail::deadline::after(timeout), nullptr);
    }
    template <class Rep, class Period>
    [[nodiscard]] bool try_lock_for(const std::chrono::duration<Rep, Period>& timeout, boost::system::error_code& ec)
    {
        return try_lock_before(detail::deadline::after(timeout), &ec);
    }
    template <class Clock, class Duration>
    [[nodiscard]] bool try_lock_until(const std::chrono::time_point<Clock, Duration>& when)
    {
        return try_lock_before(detail::deadline::at(when), nullptr);
    }
    template <class Clock, class Duration>
    [[nodiscard]] bool try_lock_until(const std::chrono::time_point<Clock, Duration>& when, boost::system::error_code& ec)
    {
        return try_lock_before(detail::deadline::at(when), &ec);
    }
    // Releases the lock as close() does, but keeps the file open, so that locking this object
    // again skips the open (about a third of an acquisition's cost). The next lock still checks
    // that the path names the file. close() and the destructor close it.
    void unlock() noexcept;

    // Releases the lock and closes the file; does nothing when neither is held or open. Never
    // throws: if clearing a LockFile's record fails, the lock is released all the same and a
    // warning is logged. The object may be locked again afterwards.
    void close() noexcept;
    // The same, reporting a failure to clear the record in ec instead of logging it.
    void close(boost::system::error_code& ec) noexcept;

    bool is_locked() const noexcept;
    bool is_shared() const noexcept;
    // The path as the caller gave it (empty for a default-constructed object).
    const std::string& path() const noexcept;

    // Up to max_bytes of the file's contents from offset 0, read through the descriptor the lock
    // already holds. Throws lock_file_error (naming the path) on a read error, and when no lock
    // is held. The error_code form reports those in ec (and returns an empty string) instead; it
    // throws only std::bad_alloc.
    std::string read_contents(std::size_t max_bytes = 4096) const;
    std::string read_contents(std::size_t max_bytes, boost::system::error_code& ec) const;
// end::simple_lock_file[]

protected:
    SimpleLockFile(std::string path, const std::string* template_text, const options& opts, bool defer,
                   boost::system::error_code* ec);

private:
    bool try_lock_before(const detail::deadline& until, boost::system::error_code* ec);

    std::string path_;
    std::unique_ptr<detail::lock_state> state_;
};

// A SimpleLockFile that, once it holds the lock exclusively, writes " " + expanded template +
// "\n" from offset 0 and truncates the file after it; close() overwrites that record with blanks
// while the lock is still held. Fields: {pid} and {hostname}; {{ and }} are literal braces.
// tag::lock_file[]
class ZC_LOCKFILE_DECL LockFile : public SimpleLockFile {
public:
    LockFile() noexcept = default;
    explicit LockFile(std::string path, const std::string& content_template = "{pid}",
                      const options& opts = options());
    LockFile(std::string path, boost::system::error_code& ec);
    LockFile(std::string path, const std::string& content_template, boost::system::error_code& ec);
    LockFile(std::string path, const std::string& content_template, const options& opts,
             boost::system::error_code& ec);
    LockFile(std::string path, std::defer_lock_t, const std::string& content_template = "{pid}",
             const options& opts = options());
};
// end::lock_file[]

} // namespace lockfile
} // namespace zc

#endif
