// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Windows implementation of the platform seam.
//
// The lock is the Python original's: one byte at offset 0, taken with LockFileEx (msvcrt.locking
// is LockFile on the same byte), so this library and Python's zc.lockfile exclude each other by
// construction. Windows byte-range locks are mandatory: no other handle can read or write the
// locked byte, which is why every record starts with a space and others read it from offset 1.
// The rest of the file stays readable, so a record can be read (inspect, the error record) while
// the lock is held.
//
// boost::interprocess::file_lock is not used here: on Windows it locks the whole file
// (LockFileEx over bytes 0 to 2^64-1), so no other process could read the record while it is
// held, and it would not exclude the Python original's one-byte lock the way the same byte does.

#include "../os_lock.hpp"
#include "reparse.hpp"

#include <zc/lockfile/error.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <string>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

namespace zc {
namespace lockfile {
namespace detail {

static_assert(reparse_tag_symlink == IO_REPARSE_TAG_SYMLINK && reparse_tag_mount_point == IO_REPARSE_TAG_MOUNT_POINT &&
                  attribute_reparse_point == FILE_ATTRIBUTE_REPARSE_POINT,
              "reparse.hpp's constants are winnt.h's");

namespace {

HANDLE native(handle h) noexcept { return reinterpret_cast<HANDLE>(h); }

boost::system::error_code last_error() noexcept
{
    return boost::system::error_code(static_cast<int>(::GetLastError()), boost::system::system_category());
}

// The paths the library is given are UTF-8.
bool widen(const std::string& path, std::wstring& out, boost::system::error_code& ec) noexcept
{
    if (!usable_path(path, ec)) return false;
    const int n = ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(), static_cast<int>(path.size()), nullptr, 0);
    if (n <= 0) {
        ec = last_error();
        return false;
    }
    try {
        out.assign(static_cast<std::size_t>(n), L'\0');
    } catch (...) {
        ec = boost::system::errc::make_error_code(boost::system::errc::not_enough_memory);
        return false;
    }
    ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path.data(), static_cast<int>(path.size()), &out[0], n);
    return true;
}

// FILETIME (100 ns units since 1601) to ns since the Unix epoch.
std::int64_t unix_ns(const FILETIME& t) noexcept
{
    const std::int64_t ticks = (static_cast<std::int64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
    return (ticks - 116444736000000000LL) * 100;
}

bool describe(HANDLE h, file_facts& out) noexcept
{
    BY_HANDLE_FILE_INFORMATION info;
    if (!::GetFileInformationByHandle(h, &info)) return false;
    out.id.dev = info.dwVolumeSerialNumber;
    out.id.ino = (static_cast<std::uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
    const DWORD type = ::GetFileType(h);
    const bool directory = (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
    // A reparse point is a link only by its tag (reparse.hpp). A tag that cannot be read is taken
    // for a link: refusing is the safe side.
    FILE_ATTRIBUTE_TAG_INFO tag{};
    tag.ReparseTag = IO_REPARSE_TAG_SYMLINK;
    if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) ::GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag);
    const bool link = is_link(info.dwFileAttributes, tag.ReparseTag);
    out.regular = type == FILE_TYPE_DISK && !directory && !link;
    out.kind = directory ? file_kind::directory : link ? file_kind::symbolic_link : type == FILE_TYPE_PIPE ? file_kind::pipe
             : type == FILE_TYPE_CHAR ? file_kind::character_device : out.regular ? file_kind::regular : file_kind::other;
    out.mtime_ns = unix_ns(info.ftLastWriteTime);
    return true;
}

OVERLAPPED at_offset(std::uint64_t offset) noexcept
{
    OVERLAPPED ov{};
    ov.Offset = static_cast<DWORD>(offset & 0xffffffffu);
    ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
    return ov;
}

bool is_missing(DWORD e) noexcept { return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND; }

} // namespace

handle open_file(const std::string& path, open_mode mode, bool follow, boost::system::error_code& ec) noexcept
{
    ec.clear();
    std::wstring wide;
    if (!widen(path, wide, ec)) return invalid_handle;
    const bool create = mode == open_mode::create_read_write;
    // Not inheritable (no security attributes): a child process gets no handle, as O_CLOEXEC.
    // Others may read, write and delete: what POSIX allows, and what the Python original's
    // open() allows.
    const HANDLE h = ::CreateFileW(wide.c_str(), create ? (GENERIC_READ | GENERIC_WRITE) : GENERIC_READ,
                                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                                   create ? OPEN_ALWAYS : OPEN_EXISTING,
                                   FILE_ATTRIBUTE_NORMAL | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        const DWORD e = ::GetLastError();
        const DWORD attributes = ::GetFileAttributesW(wide.c_str());
        if (e == ERROR_ACCESS_DENIED && attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY))
            ec = make_error_code(error::not_a_regular_file);
        else
            ec = boost::system::error_code(static_cast<int>(e), boost::system::system_category());
        return invalid_handle;
    }
    if (!follow) {
        file_facts facts;
        if (describe(h, facts) && facts.kind == file_kind::symbolic_link) {
            ::CloseHandle(h);
            ec = make_error_code(error::symbolic_link);
            return invalid_handle;
        }
    }
    return reinterpret_cast<handle>(h);
}

bool stat_handle(handle h, file_facts& out, boost::system::error_code& ec, stat_detail) noexcept
{
    if (!describe(native(h), out)) {
        ec = last_error();
        return false;
    }
    ec.clear();
    return true;
}

// One kind of lock on Windows: nothing to decide.
bool note_lock_families(handle, const file_facts&, boost::system::error_code& ec, const char*&) noexcept
{
    ec.clear();
    return true;
}

bool stat_path(const std::string& path, bool follow, file_facts& out, boost::system::error_code& ec, stat_detail) noexcept
{
    ec.clear();
    std::wstring wide;
    if (!widen(path, wide, ec)) return false;
    // Attributes only: no read or write access, so nothing is refused for a locked file.
    const HANDLE h = ::CreateFileW(wide.c_str(), FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                   nullptr, OPEN_EXISTING,
                                   FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), nullptr);
    if (h == INVALID_HANDLE_VALUE) {
        const DWORD e = ::GetLastError();
        if (!is_missing(e)) ec = boost::system::error_code(static_cast<int>(e), boost::system::system_category());
        return false;
    }
    const bool ok = describe(h, out);
    if (!ok) ec = last_error();
    ::CloseHandle(h);
    return ok;
}

void close_handle(handle h) noexcept
{
    if (h == invalid_handle) return;
    // Windows releases a closed handle's locks "depending upon available system resources":
    // unlock first, so that the next holder never waits for that. (Fails harmlessly when the
    // handle holds no lock.)
    OVERLAPPED ov = at_offset(0);
    ::UnlockFileEx(native(h), 0, 1, 0, &ov);
    ::CloseHandle(native(h));
}

// The holder's LockFileEx on byte 0 refuses every other handle's read of it.
const std::uint64_t first_readable_byte = 1;

std::size_t read_at(handle h, char* buf, std::size_t n, std::uint64_t offset, boost::system::error_code& ec) noexcept
{
    ec.clear();
    std::size_t done = 0;
    while (done < n) {
        OVERLAPPED ov = at_offset(offset + done);
        DWORD got = 0;
        const DWORD want = static_cast<DWORD>(std::min<std::size_t>(n - done, 1u << 30));
        if (!::ReadFile(native(h), buf + done, want, &got, &ov)) {
            if (::GetLastError() == ERROR_HANDLE_EOF) break;
            ec = last_error();
            return 0;
        }
        done += got;
        if (got < want) break;  // the end of the file
    }
    return done;
}

void write_at(handle h, const char* buf, std::size_t n, std::uint64_t offset, boost::system::error_code& ec) noexcept
{
    ec.clear();
    std::size_t done = 0;
    while (done < n) {
        OVERLAPPED ov = at_offset(offset + done);
        DWORD put = 0;
        const DWORD want = static_cast<DWORD>(std::min<std::size_t>(n - done, 1u << 30));
        if (!::WriteFile(native(h), buf + done, want, &put, &ov)) {
            ec = last_error();
            return;
        }
        done += put;
    }
}

void truncate_to(handle h, std::uint64_t size, boost::system::error_code& ec) noexcept
{
    ec.clear();
    FILE_END_OF_FILE_INFO end{};
    end.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
    if (!::SetFileInformationByHandle(native(h), FileEndOfFileInfo, &end, sizeof end)) ec = last_error();
}

namespace {

// LockFileEx on byte 0 of h: exclusive, or shared (many shared holders; no writer).
lock_result lock_byte_zero(handle h, bool shared, bool wait, boost::system::error_code& ec) noexcept
{
    OVERLAPPED ov = at_offset(0);
    const DWORD flags = (shared ? 0 : LOCKFILE_EXCLUSIVE_LOCK) | (wait ? 0 : LOCKFILE_FAIL_IMMEDIATELY);
    if (::LockFileEx(native(h), flags, 0, 1, 0, &ov)) return lock_result::acquired;
    const DWORD e = ::GetLastError();
    if (e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING) return lock_result::busy;
    ec = boost::system::error_code(static_cast<int>(e), boost::system::system_category());
    return lock_result::failed;
}


} // namespace

lock_result kernel_lock::lock_until(handle h, bool shared, const deadline& until, boost::system::error_code& ec) noexcept
{
    ec.clear();
    // Waiting for ever blocks in LockFileEx (the handle is synchronous); a deadline polls, as on
    // POSIX, since LockFileEx takes no timeout.
    const bool forever = until.is_forever();
    auto interval = min_poll_interval;
    return attempt_until(until, interval, [&] { return lock_byte_zero(h, shared, forever, ec); });
}

// The lock is the handle's: nothing to take back.
void kernel_lock::disown() noexcept {}

// There is no second lock family on Windows: the byte-range lock is all.
void unlock_flock(handle) noexcept {}

void unlock_record_lock(handle h) noexcept
{
    OVERLAPPED ov = at_offset(0);
    ::UnlockFileEx(native(h), 0, 1, 0, &ov);
}

kernel_holder probe_holder(handle h, const file_id&)
{
    // Windows cannot name the holder of a byte-range lock. What it can tell without taking
    // anything: a read of the locked byte through another handle is refused while somebody holds
    // it exclusively. (A shared holder lets reads through, so it is not seen.)
    kernel_holder out;
    char byte;
    OVERLAPPED ov = at_offset(0);
    DWORD got = 0;
    if (!::ReadFile(native(h), &byte, 1, &got, &ov) && ::GetLastError() == ERROR_LOCK_VIOLATION) {
        out.locked = true;
        out.family = kernel_holder::kind::byte_range;
    }
    return out;
}

long long current_pid() noexcept
{
    static const long long pid = static_cast<long long>(::GetCurrentProcessId());
    return pid;
}

// Windows has no fork(): a handle is never shared with another process behind our back (it is
// not inheritable).
std::uint64_t fork_epoch() noexcept { return 0; }
bool no_fork_since(std::uint64_t) noexcept { return true; }

void at_fork(fork_layer, void (*)() noexcept, void (*)() noexcept, void (*)() noexcept) noexcept {}

std::string host_name()
{
    char buf[256];
    DWORD size = sizeof buf;
    if (!::GetComputerNameExA(ComputerNameDnsHostname, buf, &size)) return std::string();
    return std::string(buf, size);
}

process_state probe_process(long long pid) noexcept
{
    if (pid <= 0 || pid > 0xffffffffLL) return process_state::unknown;
    const HANDLE p = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
    if (p == nullptr) {
        const DWORD e = ::GetLastError();
        if (e == ERROR_INVALID_PARAMETER) return process_state::gone;  // no such process
        if (e == ERROR_ACCESS_DENIED) return process_state::running;  // it exists; not ours to open
        return process_state::unknown;
    }
    DWORD code = 0;
    const bool ok = ::GetExitCodeProcess(p, &code);
    ::CloseHandle(p);
    if (!ok) return process_state::unknown;
    return code == STILL_ACTIVE ? process_state::running : process_state::gone;
}

bool process_start_time(long long pid, std::int64_t& ns_since_epoch) noexcept
{
    if (pid <= 0 || pid > 0xffffffffLL) return false;
    const HANDLE p = ::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
    if (p == nullptr) return false;
    FILETIME created, exited, kernel, user;
    const bool ok = ::GetProcessTimes(p, &created, &exited, &kernel, &user);
    ::CloseHandle(p);
    if (!ok) return false;
    ns_since_epoch = unix_ns(created);
    return true;
}

} // namespace detail
} // namespace lockfile
} // namespace zc
