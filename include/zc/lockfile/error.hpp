// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_ERROR_HPP
#define ZC_LOCKFILE_ERROR_HPP

#include <zc/lockfile/config.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <memory>
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
// Every failure the library throws (but std::bad_alloc): a system_error that carries the path as
// the caller gave it, and the reason beyond code() when there is one ("found a FIFO", a content
// template's fault, "no lock is held"; empty otherwise). Copying it cannot throw (Boost's
// error-handling guidelines): the path and the reason are shared, behind a pointer to const, as
// boost::filesystem::filesystem_error keeps its paths.
class BOOST_SYMBOL_VISIBLE lock_file_error : public boost::system::system_error {
public:
    lock_file_error(const boost::system::error_code& ec, const std::string& what_arg, const std::string& path,
                    std::string reason = std::string())
        : boost::system::system_error(ec, what_arg),
          data_(std::make_shared<const data>(data{path, std::move(reason)}))
    {
    }

    const std::string& path() const noexcept { return data_->path; }
    const std::string& reason() const noexcept { return data_->reason; }

private:
    struct data {
        std::string path;
        std::string reason;
    };
    std::shared_ptr<const data> data_;
};

// Thrown when the lock is held by somebody else. what() contains "Couldn't lock '<path>'",
// with the path as the caller gave it; code() == error::locked.
class BOOST_SYMBOL_VISIBLE LockError : public lock_file_error {
public:
    explicit LockError(std::string path)
        : lock_file_error(make_error_code(error::locked), "Couldn't lock '" + path + "'", path)
    {
    }
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
