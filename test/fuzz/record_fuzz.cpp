// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// libFuzzer target: the record parser, on whatever a lock file may hold.
//   clang++ -fsanitize=fuzzer,address,undefined (see test/tools.sh)
#include "../../src/record.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace zd = zc::lockfile::detail;

namespace {
void check(bool ok)
{
    if (!ok) std::abort();
}

bool printable(std::string_view s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view head(reinterpret_cast<const char*>(data), size);

    // The record line lies within the input, from offset 1, without newline or edge spaces.
    const std::string_view line = zd::record_line(head);
    check(line.empty() || (line.data() >= head.data() + 1 && line.data() + line.size() <= head.data() + head.size()));
    check(line.find('\n') == std::string_view::npos);

    // What goes into a log message: printable, bounded, and stable under sanitising again.
    const std::string holder = zd::holder_for_log(head);
    check(printable(holder));
    check(holder == "UNKNOWN" || holder.size() <= zd::holder_report_limit);
    const std::string clean = zd::sanitize(head);
    check(printable(clean));
    check(zd::sanitize(clean) == clean);

    // A match is only ever what the template itself would have written.
    for (const char* text : {"{pid}", "{pid}/{hostname}", "{hostname}:{pid}", "a{{{pid}}}b{hostname}"}) {
        zd::content_template t;
        std::string why;
        check(t.parse(text, why));
        const zd::parsed_record r = t.match(line);
        if (r.matched) check(t.expand(r.pid, r.hostname) == " " + std::string(line) + "\n");
    }
    return 0;
}
