// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_ERROR_HPP
#define ZC_LOCKFILE_ERROR_HPP

#include <zc/lockfile/config.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <string>
#include <type_traits>
#include <utility>

namespace zc {
namespace lockfile {

// Errors of this library that are not operating-system errors. OS errors are reported with
// boost::system::system_category() and their errno value.
// tag::errors[]
enum class error {
    locked = 1,          // somebody else holds the lock (another process, or this one)
    empty_path,          // the path is the empty string
    not_a_regular_file,  // a directory, FIFO, socket or device is at the path
    symbolic_link,       // the final component is a symbolic link and following was not asked for
    invalid_template,    // the content template has an unknown field or a stray brace
    file_replaced        // the path stopped naming the locked file while it was being locked
};

ZC_LOCKFILE_DECL const boost::system::error_category& lockfile_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept
{
    return boost::system::error_code(static_cast<int>(e), lockfile_category());
}
// end::errors[]

// tag::lock_error[]
// Thrown when the lock is held by somebody else. what() contains "Couldn't lock '<path>'",
// with the path as the caller gave it; code() == error::locked.
class BOOST_SYMBOL_VISIBLE LockError : public boost::system::system_error {
public:
    explicit LockError(std::string path)
        : boost::system::system_error(make_error_code(error::locked), "Couldn't lock '" + path + "'"),
          path_(std::move(path))
    {
    }

    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};
// end::lock_error[]

} // namespace lockfile
} // namespace zc

namespace boost {
namespace system {
template <> struct is_error_code_enum<zc::lockfile::error> : std::true_type {};
} // namespace system
} // namespace boost

#endif
