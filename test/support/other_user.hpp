// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Running a helper program as another user: uid and gid 65534 (nobody), for the cases about
// permission bits, which do not apply to root.
//
// That user may not be able to reach the program. A clone under a 0700 directory (root's home,
// a `mktemp -d` folder, a user's home when the suite runs with sudo) is closed to it: it could
// neither execute the helper nor load libzc_lockfile from the build tree (issue 16). So it runs a
// copy: the program, and every shared library the program loads that other users cannot read,
// copied into a fresh 0755 directory under $TMPDIR (or /tmp, when other users cannot search
// $TMPDIR or its path holds a colon, which LD_LIBRARY_PATH cannot quote), with that directory put
// first in LD_LIBRARY_PATH (the caller's entries follow: a library found through them and readable
// by others is not copied). The copy is removed at the end of the test.
#ifndef ZC_LOCKFILE_TEST_OTHER_USER_HPP
#define ZC_LOCKFILE_TEST_OTHER_USER_HPP

#include "fixture.hpp"
#include "process.hpp"

#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace zc_test {

// Whether a user who is neither the owner nor in the group of anything on the way (nobody, with
// no supplementary groups) may search every directory up to path and then do `last` (S_IROTH,
// S_IXOTH) to path itself: by the permission bits (ACLs are not read; they could only make the
// answer wrong towards copying too much or skipping).
inline bool others_may(const std::filesystem::path& path, mode_t last)
{
    const std::filesystem::path full = std::filesystem::absolute(path);
    std::filesystem::path prefix;
    for (auto part = full.begin(); part != full.end(); ++part) {
        prefix /= *part;
        struct stat st;
        if (::stat(prefix.c_str(), &st) != 0) return false;
        if ((st.st_mode & (std::next(part) == full.end() ? last : S_IXOTH)) == 0) return false;
    }
    return true;
}
inline bool others_can_read(const std::filesystem::path& path) { return others_may(path, S_IROTH); }
inline bool others_can_search(const std::filesystem::path& directory) { return others_may(directory, S_IXOTH); }

// The shared libraries the dynamic loader would load for program, as (the name it asks for, the
// file it finds): the loader's own list (LD_TRACE_LOADED_OBJECTS=1, what ldd prints), which
// follows the program's RUNPATH and this process's LD_LIBRARY_PATH as a real start would.
inline std::vector<std::pair<std::string, std::string>> loaded_libraries(const std::string& program)
{
    child_process trace({"env", "LD_TRACE_LOADED_OBJECTS=1", program});
    std::vector<std::pair<std::string, std::string>> libraries;
    for (const std::string& line : trace.read_all_lines()) {
        // "\tlibzc_lockfile.so.0 => /a path/with spaces/libzc_lockfile.so.0 (0x00007f...)"
        const auto arrow = line.find(" => ");
        const auto address = line.rfind(" (0x");
        if (arrow == std::string::npos || address == std::string::npos || address < arrow) continue;
        const auto name_start = line.find_first_not_of(" \t");
        libraries.emplace_back(line.substr(name_start, arrow - name_start), line.substr(arrow + 4, address - arrow - 4));
    }
    if (trace.exit_code() != 0) throw std::runtime_error("cannot list the libraries of " + program);
    return libraries;
}

// A copy of program that any user can run (see the top of this file).
class copy_for_other_users {
public:
    explicit copy_for_other_users(const std::string& program) : dir_(base())
    {
        std::filesystem::permissions(dir_.path, std::filesystem::perms(0755));
        for (const auto& [name, file] : loaded_libraries(program)) {
            if (!others_can_read(file)) copy(file, name);
        }
        program_ = copy(program, std::filesystem::path(program).filename().string());
        if (!others_can_read(program_)) {
            throw std::runtime_error("other users cannot reach " + dir_.path +
                                     ": set TMPDIR to a directory they can search (or leave it unset)");
        }
    }

    // The command that runs the copy, to follow `setpriv ...`.
    std::vector<std::string> command() const
    {
        const char* inherited = std::getenv("LD_LIBRARY_PATH");
        std::string search = dir_.path;
        if (inherited != nullptr && *inherited != '\0') search += std::string(":") + inherited;
        return {"env", "LD_LIBRARY_PATH=" + search, program_};
    }

private:
    static const char* base()
    {
        const char* tmpdir = std::getenv("TMPDIR");
        if (tmpdir == nullptr || *tmpdir == '\0') return nullptr;
        if (std::string(tmpdir).find(':') != std::string::npos || !others_can_search(tmpdir)) return "/tmp";
        return nullptr;
    }

    std::string copy(const std::string& from, const std::string& name)
    {
        const std::string to = dir_ / name;
        std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
        std::filesystem::permissions(to, std::filesystem::perms(0755));
        return to;
    }

    temp_dir dir_;
    std::string program_;
};

// argv for running program with args as nobody when this process is root, and as this process's
// user otherwise (then the permission bits already apply).
class as_unprivileged_user {
public:
    as_unprivileged_user(const std::string& program, const std::vector<std::string>& args)
    {
        if (::geteuid() == 0) {
            copy_.emplace(program);
            argv_ = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
            const auto command = copy_->command();
            argv_.insert(argv_.end(), command.begin(), command.end());
        } else {
            argv_ = {program};
        }
        argv_.insert(argv_.end(), args.begin(), args.end());
    }
    const std::vector<std::string>& argv() const { return argv_; }

private:
    std::optional<copy_for_other_users> copy_;
    std::vector<std::string> argv_;
};

} // namespace zc_test

#endif
