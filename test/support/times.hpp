// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Clocks for the stale-detection tests: a file's modification time set with touch(1), as a user
// or another host's clock would leave it, and a process's start time read as the library reads it.
#ifndef ZC_LOCKFILE_TEST_TIMES_HPP
#define ZC_LOCKFILE_TEST_TIMES_HPP

#include "process.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace zc_test {

// Runs a command to its end; its exit code, and its output (stdout and stderr) in `output`.
inline int run_command(const std::vector<std::string>& argv, std::string& output)
{
    child_process p(argv, true);
    output.clear();
    for (const auto& line : p.read_all_lines()) output += line + "\n";
    return p.exit_code();
}

// `touch -m -d DATE path`: sets the file's modification time only. DATE as touch(1) takes it,
// for example "2001-01-01" or "@1700000000" (seconds since the epoch).
inline void touch_mtime(const std::string& path, const std::string& date)
{
    std::string output;
    if (run_command({"touch", "-m", "-d", date, path}, output) != 0)
        throw std::runtime_error("touch -m -d " + date + " " + path + " failed: " + output);
}

// When the process started, in whole seconds since the epoch, from the same sources the library
// uses: /proc/PID/stat field 22 (clock ticks after boot) plus btime from /proc/stat.
inline long long process_start_seconds(long long pid)
{
    std::ifstream stat_file("/proc/" + std::to_string(pid) + "/stat");
    const std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) throw std::runtime_error("no /proc/" + std::to_string(pid) + "/stat");
    std::istringstream fields(text.substr(paren + 1));
    std::string field;
    unsigned long long ticks = 0;
    for (int n = 3; fields >> field; ++n)
        if (n == 22) {
            ticks = std::strtoull(field.c_str(), nullptr, 10);
            break;
        }
    std::ifstream boot("/proc/stat");
    std::string key;
    long long btime = 0;
    while (boot >> key)
        if (key == "btime") {
            boot >> btime;
            break;
        }
    const long hz = ::sysconf(_SC_CLK_TCK);
    if (ticks == 0 || btime <= 0 || hz <= 0) throw std::runtime_error("cannot tell a process's start time");
    return btime + static_cast<long long>(ticks) / hz;
}

} // namespace zc_test

#endif
