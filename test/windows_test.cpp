// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// What only Windows has, run under Wine by test/windows.sh: the Python original's protocol (one
// byte at offset 0, the record readable by others while held) against a helper that locks exactly
// as msvcrt.locking does, exclusion across processes in both directions, and the zc-lockfile
// command's Windows cases (COMMAND's exit code and a missing COMMAND, the wide command line, a job
// object). The feature modules run here too (test/modules.txt): the record, a dead holder's stale
// record, inspect and the command's common cases are theirs; test/CMakeLists.txt lists the modules
// that do not apply, and why.
#define BOOST_TEST_MODULE windows
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <filesystem>
#include <vector>

#include <process.h>

namespace zl = zc::lockfile;
using namespace zc_test;
using boost::log::trivial::severity_level;

namespace {

const std::string own_pid = std::to_string(::_getpid());
const std::string own_record = " " + own_pid + "\n";

// Starts a holder and returns its pid as its first line says it ("locked <pid>").
std::string await_locked(child_process& holder)
{
    const std::string line = holder.read_line();
    BOOST_REQUIRE_MESSAGE(line.rfind("locked ", 0) == 0, line);
    return line.substr(7);
}

// Another process's single attempt with the library: "locked <pid>" or "busy".
std::string helper_attempt(const std::string& mode, const std::string& path)
{
    child_process p({lock_helper(), mode, path});
    const std::string line = p.read_line();
    p.close_stdin();
    p.wait();
    return line.rfind("locked", 0) == 0 ? "locked" : line;
}

std::string peer_attempt(const std::string& path)
{
    child_process p({msvcrt_peer(), path});
    const std::string line = p.read_line();
    p.close_stdin();
    p.wait();
    return line.rfind("locked", 0) == 0 ? "locked" : line;
}

// The error records the library logged, on its channel.
std::vector<std::string> errors(log_capture& log)
{
    std::vector<std::string> out;
    for (const auto& r : log.records())
        if (r.channel == "zc.lockfile" && r.has_severity && r.severity == severity_level::error) out.push_back(r.message);
    return out;
}

} // namespace

// The protocol that makes the record readable while it is held: the lock covers byte 0 only.
BOOST_AUTO_TEST_CASE(the_record_is_readable_by_others_while_held_except_byte_0)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    HANDLE other = ::CreateFileA(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                 OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    BOOST_REQUIRE(other != INVALID_HANDLE_VALUE);
    char buf[64];
    DWORD got = 0;
    OVERLAPPED at1{};
    at1.Offset = 1;
    BOOST_TEST(::ReadFile(other, buf, sizeof buf, &got, &at1));
    BOOST_TEST(std::string(buf, got) == own_record.substr(1));
    if (under_wine()) {
        BOOST_TEST_MESSAGE("Wine does not enforce byte-range locks on reads: byte 0's refusal is checked on Windows only");
    } else {
        OVERLAPPED at0{};
        BOOST_TEST(!::ReadFile(other, buf, 1, &got, &at0));  // byte 0 is under the lock
        BOOST_TEST(::GetLastError() == DWORD(ERROR_LOCK_VIOLATION));
    }
    ::CloseHandle(other);
}

// The same protocol as Wine can check it: it does not refuse reads of a locked byte, but it does
// refuse a conflicting lock. Another handle can lock every byte after 0 while the holder holds the
// file (a lock wider than byte 0 would refuse Windows's readers the record), and not byte 0.
BOOST_AUTO_TEST_CASE(the_lock_covers_byte_0_and_nothing_else)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    HANDLE other = ::CreateFileA(path.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                 nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    BOOST_REQUIRE(other != INVALID_HANDLE_VALUE);
    const DWORD now = LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY;
    OVERLAPPED at0{};
    BOOST_TEST(!::LockFileEx(other, now, 0, 1, 0, &at0));
    OVERLAPPED at1{};
    at1.Offset = 1;
    BOOST_TEST(::LockFileEx(other, now, 0, MAXDWORD, MAXDWORD - 1, &at1));  // bytes 1 to 2^64 - 1
    ::UnlockFileEx(other, 0, MAXDWORD, MAXDWORD - 1, &at1);
    ::CloseHandle(other);
}

BOOST_AUTO_TEST_CASE(another_process_of_ours_is_excluded_both_ways)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        child_process holder({lock_helper(), "lock", path});
        const std::string pid = await_locked(holder);
        log_capture log;
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        // Its pid was read from the record while it held the lock.
        BOOST_TEST(errors(log) == std::vector<std::string>{"Error locking file " + path + "; pid=" + pid});
        holder.close_stdin();
        BOOST_TEST(holder.wait() == 0);
    }
    zl::LockFile mine(path);
    BOOST_TEST(helper_attempt("lock", path) == "busy");
    BOOST_TEST(helper_attempt("simple", path) == "busy");
    mine.close();
    BOOST_TEST(helper_attempt("lock", path) == "locked");
}

// The Python original on Windows: msvcrt.locking(fd, LK_NBLCK, 1) on byte 0, the record written
// from offset 0. Same byte, same offset: the two exclude each other by construction.
BOOST_AUTO_TEST_CASE(the_python_originals_msvcrt_lock_is_excluded_both_ways)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        child_process peer({msvcrt_peer(), path});
        const std::string pid = await_locked(peer);
        log_capture log;
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        BOOST_TEST(errors(log) == std::vector<std::string>{"Error locking file " + path + "; pid=" + pid});
        BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
        const zl::lock_info info = zl::inspect(path);
        // inspect sees the holder by the refused read of byte 0, which Wine does not enforce.
        if (!under_wine()) {
            BOOST_TEST(info.locked);
            BOOST_TEST((info.family == zl::lock_family::byte_range));
        }
        BOOST_TEST(info.holder_pid == 0);  // Windows cannot name the holder
        BOOST_TEST(std::to_string(info.recorded_pid) == pid);
        BOOST_TEST((info.writer == zl::writer_state::alive));
        peer.close_stdin();
        BOOST_TEST(peer.wait() == 0);
    }
    zl::LockFile mine(path);
    BOOST_TEST(peer_attempt(path) == "busy");
    mine.close();
    BOOST_TEST(peer_attempt(path) == "locked");
}

// --- The zc-lockfile command on Windows -------------------------------------------------------

BOOST_AUTO_TEST_CASE(cli_run_holds_the_lock_while_command_runs_and_passes_its_exit_code)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    // COMMAND tries the same lock: busy (its exit code 3), because zc-lockfile holds it.
    child_process run({zc_lockfile_command(), "run", path, "--", lock_helper(), "lock", path});
    BOOST_TEST(run.read_line() == "busy");
    BOOST_TEST(run.exit_code() == 3);
    BOOST_TEST(helper_attempt("lock", path) == "locked");  // released afterwards
    child_process missing({zc_lockfile_command(), "run", path, "--", dir / "no-such-program.exe"});
    BOOST_TEST(missing.exit_code() == 127);
}

// Issue 13, item 5: the path and COMMAND's arguments come from the wide command line. (Taken
// from the ANSI argv, "Jörg" reached the library in the code page, which is not UTF-8, and
// "日本" as "??": 74, "No Unicode translation".) COMMAND is zc-lockfile status on the same path,
// which prints the path it was given, as UTF-8, and the record zc-lockfile run wrote there. (It
// reports the lock held, and exits 75, on Windows; Wine 8 does not show the lock to inspect.)
BOOST_AUTO_TEST_CASE(cli_run_takes_a_non_ascii_path_and_passes_non_ascii_arguments_unchanged)
{
    temp_dir dir;
    const std::string sub = dir / "J\xc3\xb6rg-\xe6\x97\xa5\xe6\x9c\xac";  // Jörg-日本
    std::filesystem::create_directory(std::filesystem::u8path(sub));
    const std::string path = sub + "/x.lock";
    child_process run({zc_lockfile_command(), "run", path, "--", zc_lockfile_command(), "status", "--json", path}, true);
    const std::vector<std::string> lines = run.read_all_lines();
    const int code = run.exit_code();
    BOOST_TEST_REQUIRE(lines.size() == 1u, code << ": " << (lines.empty() ? "" : lines[0]));
    BOOST_TEST(lines[0].find("\"path\": \"" + path + "\", \"exists\": true,") != std::string::npos, lines[0]);
    BOOST_TEST(lines[0].find("\"recorded_pid\": " + std::to_string(run.pid()) + ", \"recorded_hostname\": null, \"recorded_alive\": true") !=
                   std::string::npos,
               lines[0]);
    BOOST_TEST(code == (under_wine() ? 0 : 75));  // COMMAND's status
    BOOST_TEST(std::filesystem::exists(std::filesystem::u8path(path)));
}

// If zc-lockfile dies, COMMAND dies with it (a job object), and never runs on without the lock.
BOOST_AUTO_TEST_CASE(cli_run_killed_kills_its_command)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::string other = dir / "other";
    child_process run({zc_lockfile_command(), "run", path, "--", msvcrt_peer(), other});
    await_locked(run);  // COMMAND holds other, while zc-lockfile holds path
    BOOST_TEST(peer_attempt(other) == "busy");
    run.terminate();
    BOOST_TEST(peer_attempt(other) == "locked");
    BOOST_TEST(peer_attempt(path) == "locked");
}

