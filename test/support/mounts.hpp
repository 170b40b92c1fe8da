// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// File systems of the test's own where st_dev is not the device number /proc/locks prints (the
// superblock's): an overlay mount and a loop-mounted btrfs. Both need root (CAP_SYS_ADMIN); the
// btrfs one also btrfs-progs and a loop device. Each is unmounted at the end. When one cannot be
// had, mounted() is false and why_not() says exactly what failed, for the test to report.
#ifndef ZC_LOCKFILE_TEST_MOUNTS_HPP
#define ZC_LOCKFILE_TEST_MOUNTS_HPP

#include "process.hpp"
#include "times.hpp"
#include "tmpfs.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <sys/mount.h>
#include <unistd.h>

namespace zc_test {

// Whether the running kernel has this file system type registered now.
inline bool kernel_has_file_system(const std::string& type)
{
    std::ifstream in("/proc/filesystems");
    for (std::string line; std::getline(in, line);) {
        const auto tab = line.rfind('\t');
        if ((tab == std::string::npos ? line : line.substr(tab + 1)) == type) return true;
    }
    return false;
}

// The program's path, looked up in PATH and then in the sbin directories (root's tools live
// there, and a test's PATH may lack them); empty when it is not installed.
inline std::string find_program(const std::string& name)
{
    std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
    dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        const auto end = std::min(dirs.find(':', start), dirs.size());
        const std::string candidate = dirs.substr(start, end - start) + "/" + name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return std::string();
}

// overlayfs at where/merged. With layers_on_one_file_system, the lower, upper and work
// directories are all on one tmpfs, as container runtimes lay them out (overlay2): stat then gives
// the overlay's own device number. Otherwise the lower layer is a directory of `where` (the
// temporary directory's file system) and the others are on a tmpfs: the layers are on two file
// systems, and without xino stat gives each layer's files a device number of its own. The files
// named in lower_files are created in the lower layer before mounting.
class overlay_mount {
public:
    overlay_mount(const std::string& where, bool layers_on_one_file_system, const std::vector<std::string>& lower_files)
        : layers_(where + "/layers", "16m"), merged_(where + "/merged")
    {
        if (::geteuid() != 0) {
            why_not_ = "not root: mounting needs CAP_SYS_ADMIN";
            return;
        }
        if (!layers_.mounted()) {
            why_not_ = "cannot mount the tmpfs for the layers";
            return;
        }
        const std::string lower = layers_on_one_file_system ? layers_.point() + "/lower" : where + "/lower";
        for (const std::string& dir : {lower, layers_.point() + "/upper", layers_.point() + "/work", merged_})
            std::filesystem::create_directories(dir);
        for (const std::string& name : lower_files) std::ofstream(lower + "/" + name) << "";
        const std::string options =
            "lowerdir=" + lower + ",upperdir=" + layers_.point() + "/upper,workdir=" + layers_.point() + "/work";
        mounted_ = ::mount("overlay", merged_.c_str(), "overlay", 0, options.c_str()) == 0;
        if (!mounted_) why_not_ = std::string("mount -t overlay -o ") + options + " failed: " + std::strerror(errno);
    }
    ~overlay_mount()
    {
        if (mounted_) ::umount2(merged_.c_str(), MNT_DETACH);
    }
    overlay_mount(const overlay_mount&) = delete;
    overlay_mount& operator=(const overlay_mount&) = delete;

    bool mounted() const { return mounted_; }
    // Root on a kernel with overlayfs must be able to mount it: only then is a failure the test's.
    bool required() const { return ::geteuid() == 0 && kernel_has_file_system("overlay"); }
    const std::string& why_not() const { return why_not_; }
    const std::string& point() const { return merged_; }

private:
    tmpfs layers_;
    std::string merged_;
    bool mounted_ = false;
    std::string why_not_;
};

// A btrfs image of 256 MiB (sparse) in `where`, loop-mounted at where/mnt, with the subvolumes
// named in `subvolumes` created at its top.
class btrfs_loop {
public:
    btrfs_loop(const std::string& where, const std::vector<std::string>& subvolumes) : point_(where + "/mnt")
    {
        const std::string image = where + "/btrfs.img";
        if (::geteuid() != 0) {
            why_not_ = "not root: a loop mount needs CAP_SYS_ADMIN";
            return;
        }
        const std::string mkfs = find_program("mkfs.btrfs"), btrfs = find_program("btrfs"), mount = find_program("mount");
        if (mkfs.empty() || btrfs.empty()) {
            why_not_ = "mkfs.btrfs or btrfs not found (install btrfs-progs)";
            return;
        }
        if (::access("/dev/loop-control", F_OK) != 0) {
            why_not_ = "no /dev/loop-control: this machine has no loop devices";
            return;
        }
        std::filesystem::create_directories(point_);
        std::ofstream(image).close();
        std::filesystem::resize_file(image, 256u << 20);  // sparse: it costs what mkfs writes
        std::string output;
        if (run_command({mkfs, "-q", "-f", image}, output) != 0) {
            why_not_ = "mkfs.btrfs failed: " + output;
            return;
        }
        if (run_command({mount, "-t", "btrfs", "-o", "loop", image, point_}, output) != 0) {
            why_not_ = "mount -t btrfs -o loop failed" + std::string(kernel_has_file_system("btrfs") ? "" : " (no btrfs in this kernel)") +
                       ": " + output;
            return;
        }
        attached_ = mounted_ = true;
        for (const std::string& name : subvolumes) {
            if (run_command({btrfs, "subvolume", "create", point_ + "/" + name}, output) != 0) {
                why_not_ = "btrfs subvolume create failed: " + output;
                mounted_ = false;
                return;
            }
        }
    }
    ~btrfs_loop()
    {
        // mount(8) set the loop device to clear itself once the file system lets go of it.
        if (attached_ && ::umount2(point_.c_str(), 0) != 0) ::umount2(point_.c_str(), MNT_DETACH);
    }
    btrfs_loop(const btrfs_loop&) = delete;
    btrfs_loop& operator=(const btrfs_loop&) = delete;

    bool mounted() const { return mounted_; }
    const std::string& why_not() const { return why_not_; }
    const std::string& point() const { return point_; }

private:
    std::string point_;
    bool attached_ = false;  // mounted, whether or not the subvolumes could be made
    bool mounted_ = false;
    std::string why_not_;
};

} // namespace zc_test

#endif
