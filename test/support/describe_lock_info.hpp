// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// What inspect() said, as one line for a test's failure message.
#ifndef ZC_LOCKFILE_TEST_DESCRIBE_LOCK_INFO_HPP
#define ZC_LOCKFILE_TEST_DESCRIBE_LOCK_INFO_HPP

#include <zc/lockfile/inspect.hpp>

#include <string>

namespace zc_test {

inline const char* name_of(zc::lockfile::lock_family f)
{
    using zc::lockfile::lock_family;
    switch (f) {
    case lock_family::none: return "none";
    case lock_family::flock: return "flock";
    case lock_family::posix: return "posix";
    case lock_family::ofd: return "ofd";
    case lock_family::this_process: return "this_process";
    case lock_family::byte_range: return "byte_range";
    }
    return "?";
}

// "locked=1 family=flock holder_pid=4242"
inline std::string describe(const zc::lockfile::lock_info& info)
{
    return "locked=" + std::to_string(info.locked) + " family=" + name_of(info.family) +
           " holder_pid=" + std::to_string(info.holder_pid);
}

} // namespace zc_test

#endif
