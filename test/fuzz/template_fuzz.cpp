// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// libFuzzer target: the content-template parser, on any template a caller may pass.
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
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    zd::content_template t;
    std::string why;
    if (!t.parse(text, why)) {
        check(!why.empty());  // a refusal always says why
        return 0;
    }
    // An accepted template expands to one record: a space, the expansion, a newline.
    const std::string record = t.expand(4242, "host.example");
    check(record.size() >= 2 && record.front() == ' ' && record.back() == '\n');
    // Reading our own record back gives our own fields, or no match at all.
    const zd::parsed_record r = t.match(std::string_view(record).substr(1, record.size() - 2));
    if (r.matched) {
        check(!r.has_pid || r.pid == 4242);
        check(t.expand(r.pid, r.hostname) == record);
    }
    return 0;
}
