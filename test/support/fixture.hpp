// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Shared test fixtures: a private temporary directory, file helpers, the helper programs' paths.
#ifndef ZC_LOCKFILE_TEST_FIXTURE_HPP
#define ZC_LOCKFILE_TEST_FIXTURE_HPP

#include <boost/test/unit_test.hpp>

#include "process.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <random>
#include <string>

#if defined(_WIN32)
#include <process.h>  // windows.h comes with process.hpp
#else
#include <unistd.h>
#endif

namespace zc_test {

// For Boost.Test's decorators: a case that cannot apply on one platform is registered on both and
// disabled on that one, with the reason as its description:
//   BOOST_AUTO_TEST_CASE(name, *boost::unit_test::enable_if<!on_windows>()
//                                  * boost::unit_test::description("not on Windows: REASON"))
#if defined(_WIN32)
constexpr bool on_windows = true;
#else
constexpr bool on_windows = false;
#endif

// This process's id, as the records and inspect give it.
inline long long current_pid()
{
#if defined(_WIN32)
    return ::_getpid();
#else
    return ::getpid();
#endif
}

// True under Wine (this suite's CI), which implements byte-range locks between lockers but does
// not enforce them on reads and writes as Windows does, and cannot tell a reparse point: the
// checks that rest on those are made on Windows only. False on POSIX.
inline bool under_wine()
{
#if defined(_WIN32)
    const HMODULE ntdll = ::GetModuleHandleA("ntdll.dll");
    return ntdll != nullptr && ::GetProcAddress(ntdll, "wine_get_version") != nullptr;
#else
    return false;
#endif
}

// For Boost.Test's precondition decorator: a case that cannot fail under Wine, for it rests on
// what Wine does not do (above), is reported as skipped there with the reason, not as passed:
//   BOOST_AUTO_TEST_CASE(name, *boost::unit_test::precondition(not_under_wine{"REASON"}))
struct not_under_wine {
    const char* reason;
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const
    {
        boost::test_tools::assertion_result r(!under_wine());
        if (!r) r.message() << "not under Wine: " << reason;
        return r;
    }
};

// This machine's name, as the records' {hostname} gives it.
inline std::string host_name()
{
#if defined(_WIN32)
    char buf[256];
    DWORD size = sizeof buf;
    if (!::GetComputerNameExA(ComputerNameDnsHostname, buf, &size)) throw std::runtime_error("GetComputerNameExA failed");
    return std::string(buf, size);
#else
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
#endif
}

// A fresh directory of our own, removed with everything in it at the end of the test.
struct temp_dir {
    std::string path;

    temp_dir() : temp_dir(nullptr) {}

    // Under base (POSIX; nullptr: $TMPDIR, or /tmp).
    explicit temp_dir(const char* base)
    {
#if defined(_WIN32)
        (void)base;
        std::random_device seed;
        for (int attempt = 0; path.empty(); ++attempt) {
            const auto candidate = std::filesystem::temp_directory_path() / ("zc_lockfile_test." + std::to_string(seed()));
            if (std::filesystem::create_directory(candidate)) path = std::filesystem::canonical(candidate).generic_string();
            if (attempt > 100) throw std::runtime_error("cannot create a temporary directory");
        }
#else
        if (base == nullptr) base = std::getenv("TMPDIR");
        std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/zc_lockfile_test.XXXXXX";
        if (::mkdtemp(&pattern[0]) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = std::filesystem::canonical(pattern).string();
#endif
    }
    ~temp_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The first byte of a held lock file that another handle may read: 1 on Windows, where the
// holder's lock on byte 0 is mandatory (Windows refuses the read; Wine does not enforce it), 0 on
// POSIX, where locks are advisory. As the library reads a record (src/os_lock.hpp).
constexpr std::size_t first_readable_byte = on_windows ? 1 : 0;

// What another handle can read of a lock file while it is held: the file from
// first_readable_byte. Compare it with the expected content's substr(first_readable_byte).
inline std::string read_held_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(first_readable_byte));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& data)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << data;
}

// Paths of the helper programs, given on the test's command line by the Jamfile: the argument
// whose file name is `name`, or "" when there is none.
inline std::string optional_helper_arg(const std::string& name)
{
    const auto& suite = boost::unit_test::framework::master_test_suite();
    for (int i = 1; i < suite.argc; ++i) {
        if (std::filesystem::path(suite.argv[i]).filename() == name) return std::filesystem::absolute(suite.argv[i]).string();
    }
    return std::string();
}
inline std::string helper_arg(const std::string& name)
{
    std::string path = optional_helper_arg(name);
    if (path.empty()) throw std::runtime_error("the path of helper program " + name + " is missing from the command line");
    return path;
}
#if defined(_WIN32)
constexpr const char* exe_suffix = ".exe";
// The Python original's Windows protocol (msvcrt.locking on byte 0): test/helper/msvcrt_peer.cpp.
inline std::string msvcrt_peer() { return helper_arg("msvcrt_peer.exe"); }
#else
constexpr const char* exe_suffix = "";
#endif
inline std::string lock_helper() { return helper_arg(std::string("lock_helper") + exe_suffix); }
inline std::string boost_peer() { return helper_arg("boost_peer"); }
inline std::string zc_lockfile_command() { return helper_arg(std::string("zc-lockfile") + exe_suffix); }

// ThreadSanitizer postpones a signal handler while the process is blocked in a system call it does
// not intercept (flock, waitpid, waitid): under it, the cases that need zc-lockfile's handlers to
// run while it waits cannot pass, and say so.
inline bool signals_postponed_by_tsan()
{
#if defined(__SANITIZE_THREAD__)
    BOOST_TEST_MESSAGE("not run under ThreadSanitizer, which postpones signal handlers during blocking calls");
    return true;
#else
    return false;
#endif
}

// A helper library's path for LD_PRELOAD, which splits its list at spaces and colons and cannot
// quote them: a library under a path holding either (a clone in "/root/my projects") is copied
// to a temporary directory, once per test program.
inline std::string preloadable(const std::string& library)
{
    const std::string built = helper_arg(library);
    if (built.find_first_of(" :") == std::string::npos) return built;
    static temp_dir copy_dir;
    const std::string copy = copy_dir / library;
    if (!std::filesystem::exists(copy)) std::filesystem::copy_file(built, copy);
    return copy;
}

#if !defined(_WIN32)
// The Python interpreter the peers run under: an argument named python3 on the command line (a
// virtual environment's bin/python3, as test/peer_releases.sh gives), else the first python3 on
// PATH that imports zc.lockfile (process.hpp's python3_on_path(), which the benchmarks use too).
// Throws, saying so, when there is none.
inline std::string python3()
{
    static const std::string found = [] {
        const std::string given = optional_helper_arg("python3");
        return given.empty() ? python3_on_path() : given;
    }();
    return found;
}
#endif

// The Python original as installed by Debian (python3-zc.lockfile), run by python3().
inline const char* python_peer_script()
{
    return "import sys, zc.lockfile\n"
           "try:\n"
           "    l = zc.lockfile.LockFile(sys.argv[1])\n"
           "except zc.lockfile.LockError:\n"
           "    print('busy', flush=True)\n"
           "    sys.exit(3)\n"
           "print('locked', flush=True)\n"
           "sys.stdin.readline()\n"
           "l.close()\n";
}

} // namespace zc_test

#endif
