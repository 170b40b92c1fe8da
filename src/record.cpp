// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.

#include "record.hpp"

#include <algorithm>
#include <cstring>

#include <cerrno>
#include <cstdlib>
#include <limits>

namespace zc {
namespace lockfile {
namespace detail {

bool content_template::parse(std::string_view text, std::string& why)
{
    parts_.clear();
    uses_hostname_ = false;
    std::string literal;
    auto flush = [&] {
        if (!literal.empty()) parts_.push_back(part{kind::literal, literal});
        literal.clear();
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
            literal += '{';
            ++i;
        } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
            literal += '}';
            ++i;
        } else if (c == '}') {
            why = "stray '}' at offset " + std::to_string(i);
            return false;
        } else if (c == '{') {
            const auto close = text.find_first_of("{}", i + 1);
            if (close == std::string_view::npos || text[close] != '}') {
                why = "unclosed '{' at offset " + std::to_string(i);
                return false;
            }
            const std::string_view field = text.substr(i + 1, close - i - 1);
            flush();
            if (field == "pid") {
                parts_.push_back(part{kind::pid, {}});
            } else if (field == "hostname") {
                parts_.push_back(part{kind::hostname, {}});
                uses_hostname_ = true;
            } else {
                why = "unknown field '{" + std::string(field) + "}' at offset " + std::to_string(i) +
                      " (known: {pid}, {hostname})";
                return false;
            }
            i = close;
        } else {
            literal += c;
        }
    }
    flush();
    return true;
}

std::string content_template::expand(long long pid, std::string_view hostname) const
{
    std::string out(1, ' ');
    for (const part& p : parts_) {
        switch (p.what) {
        case kind::literal: out += p.text; break;
        case kind::pid: out += std::to_string(pid); break;
        case kind::hostname: out += hostname; break;
        }
    }
    out += '\n';
    return out;
}

parsed_record content_template::match(std::string_view line) const
{
    parsed_record r;
    std::size_t at = 0;
    for (std::size_t n = 0; n < parts_.size(); ++n) {
        const part& p = parts_[n];
        if (p.what == kind::literal) {
            if (line.compare(at, p.text.size(), p.text) != 0) return parsed_record();
            at += p.text.size();
            continue;
        }
        if (n + 1 < parts_.size() && parts_[n + 1].what != kind::literal) return parsed_record();  // adjacent fields
        std::size_t end;
        if (p.what == kind::pid) {
            // The longest run of digits (after an optional minus sign).
            end = at + (at < line.size() && line[at] == '-' ? 1 : 0);
            while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
            if (end == at || (end == at + 1 && line[at] == '-')) return parsed_record();
            const std::string number(line.substr(at, end - at));
            errno = 0;
            const long long pid = std::strtoll(number.c_str(), nullptr, 10);
            if (errno == ERANGE || (r.has_pid && r.pid != pid)) return parsed_record();
            r.has_pid = true;
            r.pid = pid;
        } else {
            // Up to the next literal's first occurrence, or to the end of the line.
            end = n + 1 < parts_.size() ? line.find(parts_[n + 1].text, at) : line.size();
            if (end == std::string_view::npos || end == at) return parsed_record();
            const std::string_view value = line.substr(at, end - at);
            if (r.has_hostname && r.hostname != value) return parsed_record();
            r.has_hostname = true;
            r.hostname = std::string(value);
        }
        at = end;
    }
    if (at != line.size()) return parsed_record();
    // Only a record this template would have written is believed: expanding what was read must
    // give the line back (no leading zeros, no ambiguous split between fields and literals).
    const std::string again = expand(r.pid, r.hostname);
    if (again.compare(1, again.size() - 2, line) != 0) return parsed_record();
    r.matched = true;
    return r;
}

void read_head(handle h, record_head& out) noexcept
{
    boost::system::error_code ignored;
    // Where the holder's lock keeps other handles from reading the first bytes (byte 0 on
    // Windows), read after them and put back the spaces every record starts with (that is why
    // records start with a space), as the Python original does.
    const std::size_t skip = static_cast<std::size_t>(first_readable_byte);
    std::memset(out.bytes, ' ', skip);
    const std::size_t n = read_at(h, out.bytes + skip, sizeof out.bytes - skip, skip, ignored);
    out.size = n == 0 ? 0 : n + skip;
}

std::string_view record_line(std::string_view head) noexcept
{
    if (head.size() <= 1) return std::string_view();
    std::string_view line = head.substr(1);
    const auto newline = line.find('\n');
    if (newline != std::string_view::npos) line = line.substr(0, newline);
    const char* space = " \t\r\v\f";
    const auto first = line.find_first_not_of(space);
    if (first == std::string_view::npos) return std::string_view();
    const auto last = line.find_last_not_of(space);
    return line.substr(first, last - first + 1);
}

std::string holder_for_log(std::string_view head)
{
    const std::string_view line = record_line(head);
    if (line.empty()) return "UNKNOWN";
    return sanitize(line.substr(0, holder_report_limit));
}

void blank_record(handle h, std::size_t size, boost::system::error_code& ec) noexcept
{
    ec.clear();
    if (size == 0) return;
    // A record is short and is blanked with one write; a long one a block at a time, the newline
    // ending the last block.
    constexpr std::size_t block = 256;
    char spaces[block];
    std::memset(spaces, ' ', block);
    for (std::size_t at = 0; at < size && !ec; at += block) {
        const std::size_t n = std::min(block, size - at);
        if (at + n == size) spaces[n - 1] = '\n';
        write_at(h, spaces, n, at, ec);
    }
}

} // namespace detail
} // namespace lockfile
} // namespace zc
