// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include <zc/lockfile/error.hpp>

#include "failure.hpp"
#include "os_lock.hpp"

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

namespace detail {

bool usable_path(const std::string& path, boost::system::error_code& ec) noexcept
{
    if (path.empty()) {
        ec = make_error_code(error::empty_path);
        return false;
    }
    if (path.find('\0') != std::string::npos) {
        ec = boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
        return false;
    }
    return true;
}

void emit_error(const boost::system::error_code& code, const std::string& path, const failure& f,
                boost::system::error_code* ec)
{
    if (ec != nullptr) {
        *ec = code;
        return;
    }
    if (code == error::locked) throw LockError(path);
    std::string what = std::string("Couldn't ") + f.step;
    if (f.template_text != nullptr) what += " '" + *f.template_text + "' for lock file";
    if (!f.names_path) throw lock_file_error(code, what + ": " + f.detail, path, f.detail);
    what += " '" + path + "'";
    std::string reason = f.detail;
    if (f.found != nullptr) {
        reason = std::string("found ") + f.found;
        what += " (" + reason + ")";
    }
    if (!f.detail.empty()) what += " (" + f.detail + ")";
    throw lock_file_error(code, what, path, reason);
}

} // namespace detail

} // namespace lockfile
} // namespace zc
