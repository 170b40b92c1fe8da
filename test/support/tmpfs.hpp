// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// A small tmpfs of the test's own (needs CAP_SYS_ADMIN, which CI has as root), unmounted at the end.
#ifndef ZC_LOCKFILE_TEST_TMPFS_HPP
#define ZC_LOCKFILE_TEST_TMPFS_HPP

#include <filesystem>
#include <string>

#include <sys/mount.h>

namespace zc_test {

class tmpfs {
public:
    tmpfs(const std::string& where, const char* size) : point_(where)
    {
        std::filesystem::create_directory(point_);
        mounted_ = ::mount("tmpfs", point_.c_str(), "tmpfs", 0, (std::string("size=") + size).c_str()) == 0;
    }
    ~tmpfs()
    {
        if (mounted_) ::umount2(point_.c_str(), MNT_DETACH);
    }
    tmpfs(const tmpfs&) = delete;
    tmpfs& operator=(const tmpfs&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& point() const { return point_; }
    bool remount_read_only() { return ::mount("tmpfs", point_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0; }

private:
    std::string point_;
    bool mounted_ = false;
};

} // namespace zc_test

#endif
