// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_LOCK_FILE_HPP
#define ZC_LOCKFILE_LOCK_FILE_HPP

#include <zc/lockfile/config.hpp>
#include <zc/lockfile/error.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace zc {
namespace lockfile {

namespace detail {
struct lock_state;
}

// How a lock file is opened. The defaults are the safe ones.
struct options {
    // Follow a symbolic link at the final component of the path. Off by default: a link planted
    // in a shared directory must not make a LockFile write to (and truncate) the link's target.
    bool follow_symlinks = false;
};

// An exclusive, non-blocking lock on a file, which it creates (mode 0644 before umask) when it is
// missing and never removes. It never writes to the file. The reference (doc/reference.adoc)
// documents every member with its Effects, Throws and Logs.
//
// While a lock is held, the application must not open the lock file itself: on POSIX, closing any
// descriptor of the file releases the process's record locks on it. Use read_contents().
class ZC_LOCKFILE_DECL SimpleLockFile {
public:
    SimpleLockFile() noexcept;
    explicit SimpleLockFile(std::string path, const options& opts = options());
    // The error_code forms report every failure in ec (error::locked when the lock is busy) and
    // throw only std::bad_alloc.
    SimpleLockFile(std::string path, boost::system::error_code& ec);
    SimpleLockFile(std::string path, const options& opts, boost::system::error_code& ec);

    SimpleLockFile(SimpleLockFile&& other) noexcept;
    SimpleLockFile& operator=(SimpleLockFile&& other) noexcept;
    SimpleLockFile(const SimpleLockFile&) = delete;
    SimpleLockFile& operator=(const SimpleLockFile&) = delete;
    ~SimpleLockFile();

    // Releases the lock; does nothing when none is held. Never throws: if clearing a LockFile's
    // record fails, the lock is released all the same and a warning is logged.
    void close() noexcept;
    // The same, reporting a failure to clear the record in ec instead of logging it.
    void close(boost::system::error_code& ec) noexcept;

    bool is_locked() const noexcept;
    // The path as the caller gave it (empty for a default-constructed object).
    const std::string& path() const noexcept;

    // Up to max_bytes of the file's contents from offset 0, read through the descriptor the lock
    // already holds. Throws boost::system::system_error (naming the path) on a read error, and
    // when no lock is held.
    std::string read_contents(std::size_t max_bytes = 4096) const;

protected:
    SimpleLockFile(std::string path, const std::string* template_text, const options& opts,
                   boost::system::error_code* ec);

private:
    std::string path_;
    std::unique_ptr<detail::lock_state> state_;
};

// A SimpleLockFile that, once it holds the lock, writes " " + expanded template + "\n" from
// offset 0 and truncates the file after it; close() overwrites that record with blanks while the
// lock is still held. Fields: {pid} and {hostname}; {{ and }} are literal braces.
class ZC_LOCKFILE_DECL LockFile : public SimpleLockFile {
public:
    LockFile() noexcept = default;
    explicit LockFile(std::string path, const std::string& content_template = "{pid}",
                      const options& opts = options());
    LockFile(std::string path, boost::system::error_code& ec);
    LockFile(std::string path, const std::string& content_template, boost::system::error_code& ec);
    LockFile(std::string path, const std::string& content_template, const options& opts,
             boost::system::error_code& ec);
};

} // namespace lockfile
} // namespace zc

#endif
