// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The record: exact bytes, the template, clearing on close, truncation, content left alone.
#define BOOST_TEST_MODULE record
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include "../src/record.hpp"  // the record layer's own functions (this module links statically)
#include "../src/stale.hpp"

#include <filesystem>

namespace zl = zc::lockfile;
namespace zd = zc::lockfile::detail;
using namespace zc_test;

static const std::string pid_text = std::to_string(current_pid());

// The record's bytes are read as another handle may read a held lock file (read_held_file, from
// first_readable_byte), or through the holding object (read_contents), so that they are read on
// Windows too, where the holder's lock on byte 0 refuses other handles' reads of it.

BOOST_AUTO_TEST_CASE(default_record_is_space_pid_newline)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    BOOST_TEST(lock.read_contents() == " " + pid_text + "\n");
}

// Another handle reads a held record from first_readable_byte on: on Windows the holder's lock on
// byte 0 refuses it byte 0 (Windows refuses the read; Wine lets it through, so the refusal itself
// is checked on Windows only, in windows_test), and the head gets the space every record starts
// with in its place. Seen under Wine too: a byte 0 that is not a space never reaches the head.
BOOST_AUTO_TEST_CASE(another_handle_reads_the_head_from_the_first_byte_it_may_read)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "X" + pid_text + "\n");
    boost::system::error_code ec;
    const zd::handle h = zd::open_file(path, zd::open_mode::read_only, false, ec);
    BOOST_REQUIRE(!ec);
    zd::record_head head;
    zd::read_head(h, head);
    zd::close_handle(h);
    BOOST_TEST(std::string(head.view()) == (on_windows ? " " : "X") + pid_text + "\n");
}

BOOST_AUTO_TEST_CASE(another_process_record_is_exactly_its_pid)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line() == "locked " + std::to_string(holder.pid()));
    BOOST_TEST(read_held_file(path) == (" " + std::to_string(holder.pid()) + "\n").substr(first_readable_byte));
}

BOOST_AUTO_TEST_CASE(template_fields_and_literal_braces)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path, "{{{pid}}}/{hostname} {{x}}");
    BOOST_TEST(lock.read_contents() == " {" + pid_text + "}/" + host_name() + " {x}\n");
}

// The Python original's test vector.
BOOST_AUTO_TEST_CASE(pid_123_on_myhostname)
{
    zd::content_template t;
    std::string why;
    BOOST_REQUIRE(t.parse("{pid}/{hostname}", why));
    BOOST_TEST(t.expand(123, "myhostname") == " 123/myhostname\n");
}

BOOST_AUTO_TEST_CASE(malformed_templates_are_rejected_before_anything_is_locked_or_written)
{
    temp_dir dir;
    const std::string fresh = dir / "fresh";
    const std::string existing = dir / "existing";
    write_file(existing, "precious");
    for (const char* bad : {"{", "}", "{pid", "pid}", "{}", "{pid}}", "{{pid}", "{x}", "{PID}", "{ pid}", "{pid{}}",
                            "a}b", "{hostname", "{{}"}) {
        BOOST_TEST_CONTEXT("template " << bad)
        {
            try {
                zl::LockFile lock(existing, bad);
                BOOST_FAIL("accepted");
            } catch (const zl::LockError&) {
                BOOST_FAIL("reported as a busy lock");
            } catch (const boost::system::system_error& e) {
                BOOST_TEST((e.code() == zl::error::invalid_template));
                BOOST_TEST(std::string(e.what()).find(existing) != std::string::npos);
                BOOST_TEST(std::string(e.what()).find(bad) != std::string::npos);
            }
            boost::system::error_code ec;
            zl::LockFile lock(fresh, bad, ec);
            BOOST_TEST((ec == zl::error::invalid_template));
            BOOST_TEST(!std::filesystem::exists(fresh));
            BOOST_TEST(read_file(existing) == "precious");
            BOOST_TEST(probe_flock(existing) == probe_acquired);
            BOOST_TEST(probe_fcntl(existing) == probe_acquired);
        }
    }
}

BOOST_AUTO_TEST_CASE(close_blanks_the_record_and_keeps_the_length_and_newline)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    const std::string record = lock.read_contents();
    lock.close();
    const std::string after = read_file(path);
    BOOST_TEST(after.size() == record.size());
    BOOST_TEST(after == std::string(record.size() - 1, ' ') + "\n");
    BOOST_TEST(std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(longer_old_content_is_truncated_to_the_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, std::string(10000, 'x') + "\n");
    {
        zl::LockFile lock(path);
        BOOST_TEST(lock.read_contents(100000) == " " + pid_text + "\n");
    }
    write_file(path, " 1234567890123\n");
    zl::LockFile lock(path);
    BOOST_TEST(lock.read_contents(100000) == " " + pid_text + "\n");
}

BOOST_AUTO_TEST_CASE(a_huge_sparse_lock_file_is_taken_and_cut_to_the_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "");
    std::filesystem::resize_file(path, std::uintmax_t(1) << 30);
    zl::LockFile lock(path);
    BOOST_TEST(std::filesystem::file_size(path) == pid_text.size() + 2);
}

BOOST_AUTO_TEST_CASE(simple_lock_file_leaves_content_byte_for_byte)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::string content = std::string("my own\0content\n\xff", 17) + std::string(5000, 'z');
    write_file(path, content);
    {
        zl::SimpleLockFile lock(path);
        BOOST_TEST(read_held_file(path) == content.substr(first_readable_byte));
        BOOST_TEST(lock.read_contents(100000) == content);
    }
    BOOST_TEST(read_file(path) == content);
}

BOOST_AUTO_TEST_CASE(failed_attempts_leave_the_holders_bytes_untouched)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    {
        zl::LockFile lock(path, "{pid} holder");
        const std::string before = lock.read_contents();
        BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
        BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
        BOOST_TEST(lock.read_contents() == before);
    }
    child_process holder({lock_helper(), "lock", path, "{pid} other"});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    const std::string before = read_held_file(path);
    BOOST_TEST(before == (" " + std::to_string(holder.pid()) + " other\n").substr(first_readable_byte));
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
    BOOST_TEST(read_held_file(path) == before);
}

BOOST_AUTO_TEST_CASE(record_line_reads_from_offset_one_first_line_trimmed)
{
    BOOST_TEST(zd::record_line(" 4242\n") == "4242");
    BOOST_TEST(zd::record_line("X4242\nmore") == "4242");
    BOOST_TEST(zd::record_line("      \n").empty());
    BOOST_TEST(zd::record_line("").empty());
    BOOST_TEST(zd::record_line(" \t 12/host \r\n") == "12/host");
}

BOOST_AUTO_TEST_CASE(holder_for_log_is_bounded_and_printable)
{
    BOOST_TEST(zd::holder_for_log(" 4242\n") == "4242");
    BOOST_TEST(zd::holder_for_log("     \n") == "UNKNOWN");
    BOOST_TEST(zd::holder_for_log("") == "UNKNOWN");
    BOOST_TEST(zd::holder_for_log(" 123456789012345678901234567890\n") == "12345678901234567890");
    BOOST_TEST(zd::holder_for_log(std::string(" 1\x1b[31m\x07\x7f\0x\n", 11)) == "1?[31m???x");
}

BOOST_AUTO_TEST_CASE(sanitize_keeps_valid_utf8_and_replaces_the_rest)
{
    BOOST_TEST(zd::sanitize("caf\xc3\xa9") == "caf\xc3\xa9");
    BOOST_TEST(zd::sanitize("a\nb\rc\td") == "a?b?c?d");
    BOOST_TEST(zd::sanitize("\xff\xfe") == "??");
    BOOST_TEST(zd::sanitize("\xc2\x85") == "?");            // C1 control NEL
    BOOST_TEST(zd::sanitize("\xe2\x82") == "??");           // cut sequence
    BOOST_TEST(zd::sanitize("\xed\xa0\x80") == "???");      // surrogate
    BOOST_TEST(zd::sanitize("\xf0\x9f\x94\x92") == "\xf0\x9f\x94\x92");
}

BOOST_AUTO_TEST_CASE(match_reads_pid_and_hostname_back)
{
    zd::content_template t;
    std::string why;
    BOOST_REQUIRE(t.parse("{pid}/{hostname}", why));
    auto r = t.match("123/my.host");
    BOOST_TEST(r.matched);
    BOOST_TEST(r.pid == 123);
    BOOST_TEST(r.hostname == "my.host");
    BOOST_TEST(!t.match("123").matched);
    BOOST_TEST(!t.match("abc/host").matched);
    BOOST_TEST(!t.match("/host").matched);
    BOOST_TEST(!t.match("99999999999999999999999/h").matched);  // beyond long long
    BOOST_REQUIRE(t.parse("{pid}", why));
    BOOST_TEST(t.match("-5").pid == -5);
    BOOST_TEST(!t.match("12 ").matched);
    BOOST_TEST(!t.match("").matched);
    BOOST_TEST(!t.match("007").matched);  // not what {pid} writes
    BOOST_TEST(!t.match("-").matched);
    // A digit right after {pid} cannot be told from the pid: such a record is never believed.
    BOOST_REQUIRE(t.parse("{pid}5{hostname}", why));
    BOOST_TEST(!t.match("123455host").matched);
    BOOST_REQUIRE(t.parse("{hostname}/{pid}", why));
    BOOST_TEST(!t.match("a/b/123").matched);  // the host would be "a", and "b/123" is no pid
    BOOST_TEST(t.match("a.b/123").matched);
}


// Issue 11, item 5: judging the record's writer. When the kernel names the recorded pid as the
// lock's holder, the writer is never called dead or reused, whatever the clocks say; if no process
// has that pid (a flock taken by a process that has exited, its descriptor kept by a child), it
// is unknown.
BOOST_AUTO_TEST_CASE(the_kernels_holder_is_never_called_dead_or_reused)
{
    zd::content_template tmpl;
    std::string why;
    BOOST_REQUIRE(tmpl.parse("{pid}", why));
    const std::string mine = " " + pid_text + "\n", nobody = " 999999999\n";
    const std::int64_t in_2001 = 978307200LL * 1000000000;  // this process started long after
    BOOST_TEST((zd::assess_writer(mine, tmpl, in_2001).state == zl::writer_state::pid_reused));
    BOOST_TEST((zd::assess_writer(mine, tmpl, in_2001, current_pid()).state == zl::writer_state::alive));
    BOOST_TEST((zd::assess_writer(mine, tmpl, in_2001, 1).state == zl::writer_state::pid_reused));  // another holder
    BOOST_TEST((zd::assess_writer(nobody, tmpl, in_2001).state == zl::writer_state::dead));
    BOOST_TEST((zd::assess_writer(nobody, tmpl, in_2001, 999999999).state == zl::writer_state::unknown));
}
