// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile status: what is known about a lock file, without taking it.

#include "cli.hpp"

#include <zc/lockfile.hpp>

#include "../../src/text.hpp"  // the library's sanitising and UTF-8 check, header-only

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

namespace zc_cli {

namespace {

// A JSON string literal of bytes that need not be UTF-8 (a record, a path), itself always valid
// UTF-8 (doc/cli.adoc): '"' and '\' escaped; control characters (C0, DEL and C1) as \u00XX, so
// that none reaches a terminal; valid UTF-8 as it is; and each byte that is not part of valid
// UTF-8 as \udcXX, the escape of the lone surrogate U+DC00 + byte. That is Python's
// "surrogateescape" (PEP 383): s.encode('utf-8', 'surrogateescape') gives the bytes back, and
// os.fsencode() gives a path back. (A \u00XX of the byte itself would not be reversible: it reads
// as the character U+00XX, which a valid two-byte sequence also gives.)
// Written by hand: eight flat keys do not need a JSON library.
std::string json_string(std::string_view s)
{
    std::string out = "\"";
    const auto escape = [&out](unsigned code) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", code);
        out += buf;
    };
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const std::size_t len = zc::lockfile::detail::utf8_sequence(s, i);
            if (len == 0) {
                escape(0xDC00 + c);
                ++i;
            } else if (zc::lockfile::detail::is_c1_control(s, i, len)) {
                escape(static_cast<unsigned char>(s[i + 1]));
                i += len;
            } else {
                out.append(s.substr(i, len));
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) escape(c);
            else out += static_cast<char>(c);
        }
        ++i;
    }
    return out + "\"";
}

// Text from the file (or a path) on the terminal: as the logs show it (src/text.hpp).
std::string shown(std::string_view s) { return zc::lockfile::detail::sanitize(s); }

const char* family_name(zc::lockfile::lock_family f)
{
    switch (f) {
    case zc::lockfile::lock_family::flock: return "flock";
    case zc::lockfile::lock_family::posix: return "POSIX record";
    case zc::lockfile::lock_family::ofd: return "OFD";
    case zc::lockfile::lock_family::this_process: return "this process's";
    case zc::lockfile::lock_family::byte_range: return "Windows byte-range";
    case zc::lockfile::lock_family::none: break;
    }
    return "unknown";
}

// true, false, or null when it cannot be told (no record, another host, a pid out of range).
const char* alive_json(zc::lockfile::writer_state w)
{
    using zc::lockfile::writer_state;
    if (w == writer_state::alive) return "true";
    if (w == writer_state::dead || w == writer_state::pid_reused) return "false";
    return "null";
}

const char* writer_text(zc::lockfile::writer_state w)
{
    using zc::lockfile::writer_state;
    switch (w) {
    case writer_state::alive: return "running";
    case writer_state::dead: return "no longer running";
    case writer_state::pid_reused:
        return "no longer running (its pid now belongs to a process that started more than 5 minutes after the record "
               "was written)";
    case writer_state::other_host: return "on another host: not checked";
    case writer_state::unknown: return "cannot be checked";
    case writer_state::none: break;
    }
    return "";
}

} // namespace

int status(const status_args& args)
{
    zc::lockfile::lock_info info;
    try {
        // The writer's template is not known: try the default, then the common one with a host.
        info = zc::lockfile::inspect(args.path);
        if (info.writer == zc::lockfile::writer_state::none && !info.record.empty()) {
            const auto with_host = zc::lockfile::inspect(args.path, "{pid}/{hostname}");
            if (with_host.writer != zc::lockfile::writer_state::none) info = with_host;
        }
    } catch (const boost::system::system_error& e) {
        std::cerr << "zc-lockfile: " << e.what() << "\n";
        return exit_io;
    }
    if (args.json) {
        std::cout << "{\"path\": " << json_string(args.path) << ", \"exists\": " << (info.exists ? "true" : "false")
                  << ", \"locked\": " << (info.locked ? "true" : "false") << ", \"holder_pid\": "
                  << (info.holder_pid > 0 ? std::to_string(info.holder_pid) : "null") << ", \"recorded_pid\": "
                  << (info.recorded_pid != 0 ? std::to_string(info.recorded_pid) : "null") << ", \"recorded_hostname\": "
                  << (info.recorded_hostname.empty() ? "null" : json_string(info.recorded_hostname))
                  << ", \"recorded_alive\": " << alive_json(info.writer) << ", \"stale\": " << (info.stale ? "true" : "false")
                  << "}\n";
    } else if (!info.exists) {
        std::cout << shown(args.path) << ": does not exist (free)\n";
    } else {
        std::cout << shown(args.path) << ": " << (info.locked ? "locked" : "free");
        if (info.locked) {
            std::cout << " (" << family_name(info.family) << " lock";
            if (info.holder_pid > 0) std::cout << " held by pid " << info.holder_pid;
            std::cout << ")";
        }
        std::cout << "\n";
        if (info.record.empty()) {
            std::cout << "  record: none\n";
        } else {
            std::cout << "  record: \"" << shown(info.record) << "\"\n";
            if (info.recorded_pid != 0) {
                std::cout << "  recorded pid " << info.recorded_pid;
                if (!info.recorded_hostname.empty()) std::cout << " on " << shown(info.recorded_hostname);
                std::cout << ": " << writer_text(info.writer) << "\n";
            }
        }
        // Not "died holding the lock": Python's zc.lockfile never clears its record, so a clean
        // release by a process that has since exited leaves a stale record too.
        if (info.stale)
            std::cout << "  stale: nobody holds the lock and the record's writer is no longer running; it died holding the "
                         "lock, or released it without clearing its record (Python's zc.lockfile never clears it)\n";
    }
    return info.locked ? exit_busy : exit_ok;
}

int usage_error(const std::string& problem)
{
    std::cerr << "zc-lockfile: " << problem << "; try 'zc-lockfile --help'\n";
    return exit_usage;
}

} // namespace zc_cli
