// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The record a LockFile writes: " " + expanded template + "\n" from offset 0. The leading space
// is the Python original's: on Windows it locks byte 0, which others then cannot read, so the
// record proper starts at offset 1 and readers start there.
#ifndef ZC_LOCKFILE_SRC_RECORD_HPP
#define ZC_LOCKFILE_SRC_RECORD_HPP

#include "os_lock.hpp"
#include "text.hpp"  // sanitize(): what a log message shows of a record or a path

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zc {
namespace lockfile {
namespace detail {

// How much of a lock file is ever read: a record is one short line, and a 1 GiB lock file must
// cost no more than a small one.
constexpr std::size_t record_read_limit = 4096;
// How much of a holder's record goes into a log message (the Python original's 20).
constexpr std::size_t holder_report_limit = 20;

struct parsed_record {
    bool matched = false;
    bool has_pid = false;
    long long pid = 0;       // valid when has_pid
    bool has_hostname = false;
    std::string hostname;    // valid when has_hostname
};

class content_template {
public:
    // Parses text; on an unknown field or a stray brace returns false and says why in `why`.
    bool parse(std::string_view text, std::string& why);

    // The whole record: " " + expansion + "\n".
    std::string expand(long long pid, std::string_view hostname) const;
    bool uses_hostname() const noexcept { return uses_hostname_; }
    // Matches a record line (already without the leading space and newline) against the template.
    parsed_record match(std::string_view line) const;

private:
    enum class kind { literal, pid, hostname };
    struct part {
        kind what;
        std::string text;
    };
    std::vector<part> parts_;
    bool uses_hostname_ = false;
};

// The file's first bytes, never more than record_read_limit however large it is: read without
// allocating, so that a holder's record can be read under the registry's lock and on the way out
// of a failed acquisition.
struct record_head {
    char bytes[record_read_limit];
    std::size_t size = 0;
    std::string_view view() const noexcept { return std::string_view(bytes, size); }
};
// Reads them at an offset through h, so nothing is opened or closed. Empty on a read error.
void read_head(handle h, record_head& out) noexcept;

// The record line of a file whose first bytes are `head`: from offset 1 up to the first newline,
// with surrounding white space trimmed. Empty when there is no record (a cleared file is blank).
std::string_view record_line(std::string_view head) noexcept;

// The record as the error log reports the holder: at most holder_report_limit bytes of the
// record line, made log-safe, or "UNKNOWN".
std::string holder_for_log(std::string_view head);

// Overwrites a record of `size` bytes at offset 0 through h with what close() leaves: spaces,
// then the final newline. Allocates nothing.
void blank_record(handle h, std::size_t size, boost::system::error_code& ec) noexcept;

} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
