// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include <zc/lockfile/error.hpp>

#include <cerrno>

namespace zc {
namespace lockfile {

namespace {

class category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "zc.lockfile"; }

    std::string message(int value) const override
    {
        switch (static_cast<error>(value)) {
        case error::locked: return "the lock is held by another owner";
        case error::empty_path: return "the path is empty";
        case error::not_a_regular_file: return "not a regular file";
        case error::symbolic_link: return "the path is a symbolic link, which is not followed";
        case error::invalid_template: return "invalid content template";
        case error::file_replaced: return "the path no longer names the file that was locked";
        }
        return "unknown zc.lockfile error";
    }

    boost::system::error_condition default_error_condition(int value) const noexcept override
    {
        switch (static_cast<error>(value)) {
        case error::locked: return boost::system::errc::resource_unavailable_try_again;
        case error::empty_path:
        case error::invalid_template: return boost::system::errc::invalid_argument;
        default: return boost::system::error_condition(value, *this);
        }
    }
};

} // namespace

const boost::system::error_category& lockfile_category() noexcept
{
    static const category_impl instance;
    return instance;
}

} // namespace lockfile
} // namespace zc
