// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Hostile records: whatever a lock file holds, acquiring it, failing to acquire it and inspecting
// it never crash or hang, log one printable line, never call a record stale that cannot be
// judged, and never truncate a file that is not ours to write (SimpleLockFile).
#define BOOST_TEST_MODULE hostile
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/log_capture.hpp"

#include <zc/lockfile.hpp>

#include <filesystem>
#include <random>

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {

struct hostile_case {
    const char* name;
    std::string content;
    bool judged_dead;  // a LockFile taking it over reports it stale
};

std::vector<hostile_case> cases()
{
    std::mt19937 rng(7);
    std::string garbage(4096, '\0');
    for (char& c : garbage) c = static_cast<char>(rng());
    return {
        {"empty", "", false},
        {"blank", "       \n", false},
        {"no newline", " 999999998", true},
        {"binary garbage", garbage, false},
        {"control characters and escapes", std::string(" 1\x1b[2J\x1b]0;pwned\x07\r\n\x00\x7f", 17), false},
        {"invalid UTF-8", " \xff\xfe\xc3\x28\xed\xa0\x80 42\n", false},
        {"pid beyond pid_t", " 99999999999\n", false},
        {"pid beyond long long", " 99999999999999999999999999\n", false},
        {"negative pid", " -1\n", false},
        {"pid 0", " 0\n", false},
        {"pid 1 (alive)", " 1\n", false},
        {"leading zeros", " 0001\n", false},
        {"hostname of 10,000 characters", " 999999998/" + std::string(10000, 'h') + "\n", false},
        {"many lines", " 999999998\n 2\n 3\n", true},
    };
}

bool one_printable_line(const std::string& s)
{
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

} // namespace

BOOST_AUTO_TEST_CASE(every_hostile_record_is_handled)
{
    temp_dir dir;
    for (const auto& c : cases()) {
        BOOST_TEST_CONTEXT(c.name)
        {
            const std::string path = dir / "lock";
            write_file(path, c.content);
            log_capture log;

            // A holder that writes nothing keeps the content; a failed attempt reports it.
            {
                zl::SimpleLockFile holder(path);
                BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
                BOOST_TEST(read_file(path) == c.content);
            }
            // inspect: never stale unless its writer can be judged gone.
            for (const char* tmpl : {"{pid}", "{pid}/{hostname}"}) {
                const zl::lock_info info = zl::inspect(path, tmpl);
                BOOST_TEST(!info.locked);
                if (!c.judged_dead) BOOST_TEST(!info.stale, tmpl);
            }
            // A LockFile takes it over, reporting it stale only when it can tell.
            {
                zl::LockFile taker(path);
                BOOST_TEST(read_file(path) == " " + std::to_string(::getpid()) + "\n");
            }
            std::size_t stale = 0;
            for (const auto& r : log.records()) {
                BOOST_TEST(one_printable_line(r.message), r.message);
                BOOST_TEST(r.message.size() < 4096u);
                if (r.message.rfind("Stale record in lock file", 0) == 0) ++stale;
            }
            BOOST_TEST(stale == (c.judged_dead ? 1u : 0u));
            std::filesystem::remove(path);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_huge_sparse_file_costs_a_bounded_read)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 999999998");
    std::filesystem::resize_file(path, std::uintmax_t(1) << 30);  // 1 GiB, no newline in it
    log_capture log;
    {
        zl::SimpleLockFile holder(path);
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        BOOST_TEST(std::filesystem::file_size(path) == std::uintmax_t(1) << 30);  // SimpleLockFile: untouched
    }
    const zl::lock_info info = zl::inspect(path);
    BOOST_TEST(info.record.size() < 4096u);
    for (const auto& r : log.records()) BOOST_TEST(one_printable_line(r.message));
}
