// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Reporting through Boost.Log: the seed's error record, stale detection, pid reuse, other hosts.
#define BOOST_TEST_MODULE logging
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/wait_for.hpp"

#include <zc/lockfile.hpp>

#include <chrono>
#include <filesystem>

namespace zl = zc::lockfile;
using namespace zc_test;
using boost::log::trivial::severity_level;

namespace {

// Exactly one record, on channel zc.lockfile, with this severity and message.
void check_one_record(log_capture& log, severity_level severity, const std::string& message)
{
    const auto records = log.records();
    BOOST_REQUIRE_EQUAL(records.size(), 1u);
    BOOST_TEST(records[0].channel == "zc.lockfile");
    BOOST_TEST(records[0].has_severity);
    BOOST_TEST(records[0].severity == severity);
    BOOST_TEST(records[0].message == message);
    log.clear();
}

void set_mtime_back(const std::string& path, int seconds)
{
    const auto p = std::filesystem::u8path(path);
    std::filesystem::last_write_time(p, std::filesystem::last_write_time(p) - std::chrono::seconds(seconds));
}

const std::string own_pid = std::to_string(current_pid());

} // namespace

BOOST_AUTO_TEST_CASE(busy_lock_logs_one_error_with_the_other_process_pid)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    log_capture log;
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    check_one_record(log, severity_level::error, "Error locking file " + path + "; pid=" + std::to_string(holder.pid()));
    boost::system::error_code ec;
    zl::SimpleLockFile simple(path, ec);
    check_one_record(log, severity_level::error, "Error locking file " + path + "; pid=" + std::to_string(holder.pid()));
}

BOOST_AUTO_TEST_CASE(busy_lock_in_this_process_reports_this_process_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path);
    log_capture log;
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    check_one_record(log, severity_level::error, "Error locking file " + path + "; pid=" + own_pid);
}

BOOST_AUTO_TEST_CASE(a_holder_without_a_record_is_unknown)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::SimpleLockFile lock(path);
    log_capture log;
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    check_one_record(log, severity_level::error, "Error locking file " + path + "; pid=UNKNOWN");
}

BOOST_AUTO_TEST_CASE(hostile_records_and_paths_stay_one_printable_line, *boost::unit_test::enable_if<!on_windows>()
                              * boost::unit_test::description("not on Windows: a Windows file name cannot hold a newline"))
{
    temp_dir dir;
    const std::string path = dir / "lock\nforged line";
    write_file(path, std::string(" 12\x1b[2J\r\n\x07\xff rest of a very long line", 33));
    zl::SimpleLockFile lock(path);
    log_capture log;
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
    check_one_record(log, severity_level::error, "Error locking file " + dir.path + "/lock?forged line; pid=12?[2J");
    lock.close();
    write_file(path, " 123456789012345678901234567890\n");
    zl::SimpleLockFile again(path);
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
    check_one_record(log, severity_level::error, "Error locking file " + dir.path + "/lock?forged line; pid=12345678901234567890");
}

BOOST_AUTO_TEST_CASE(success_and_close_log_nothing)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    log_capture log;
    for (int i = 0; i < 3; ++i) {
        zl::LockFile lock(path);
        zl::SimpleLockFile other(dir / "other");
    }
    BOOST_TEST(log.records().empty());
}

BOOST_AUTO_TEST_CASE(holder_killed_leaves_a_stale_record_reported_once_with_the_dead_pid)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    const std::string dead = std::to_string(holder.pid());
    holder.terminate();
    BOOST_TEST(read_file(path) == " " + dead + "\n");  // the record survived its writer
    log_capture log;
    {
        zl::LockFile lock(path);
        check_one_record(log, severity_level::warning,
                         "Stale record in lock file " + path + ": pid=" + dead +
                             " is no longer running (it died holding the lock, or released it without clearing its record, "
                             "as Python's zc.lockfile always does); replacing the record");
        BOOST_TEST(lock.read_contents() == " " + own_pid + "\n");  // held: read as the holder
    }
    zl::LockFile again(path);  // our record was cleared: nothing stale any more
    BOOST_TEST(log.records().empty());
}

BOOST_AUTO_TEST_CASE(simple_lock_file_does_not_judge_records)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 999999999\n");  // no such pid
    log_capture log;
    zl::SimpleLockFile lock(path);
    BOOST_TEST(log.records().empty());
}

BOOST_AUTO_TEST_CASE(a_live_process_started_after_the_record_was_written_is_not_its_writer)
{
    temp_dir dir;
    const std::string path = dir / "lock";
#if defined(_WIN32)
    child_process sleeper({lock_helper(), "simple", dir / "other"});  // alive until its input ends
#else
    child_process sleeper({"/bin/sleep", "600"});
#endif
    const std::string pid = std::to_string(sleeper.pid());
    write_file(path, " " + pid + "\n");
    log_capture log;
    {
        // Written just now, and the process is alive: it may be the writer. Not stale.
        zl::LockFile lock(path);
        BOOST_TEST(log.records().empty());
    }
    {
        // Written 200 s before the process started, as far as the clocks tell: within the 5 minutes
        // allowed for clock skew (another host's clock on NFS, a clock stepped since), so it may
        // still be the writer. Not stale.
        write_file(path, " " + pid + "\n");
        set_mtime_back(path, 200);
        zl::LockFile lock(path);
        BOOST_TEST(log.records().empty());
    }
    write_file(path, " " + pid + "\n");
    set_mtime_back(path, 3600);  // written an hour before the process started: pid reused
    zl::LockFile lock(path);
    check_one_record(log, severity_level::warning,
                     "Stale record in lock file " + path + ": pid=" + pid +
                         " now belongs to a process that started more than 5 minutes after the record was written (its "
                         "writer died holding the lock, or released it without clearing its record, as Python's "
                         "zc.lockfile always does); replacing the record");
}

BOOST_AUTO_TEST_CASE(a_record_from_another_host_is_never_stale_and_names_the_host)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 999999999/elsewhere.example\n");
    log_capture log;
    zl::LockFile lock(path, "{pid}/{hostname}");
    check_one_record(log, severity_level::info,
                     "Lock file " + path +
                         " holds a record of pid=999999999 on host elsewhere.example; a record from another host is never called stale");
}

BOOST_AUTO_TEST_CASE(the_library_adds_no_sink_and_sets_no_filter)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    auto core = boost::log::core::get();
    BOOST_TEST(core->get_logging_enabled());
    zl::LockFile lock(path);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    // With no sink of ours, the record goes nowhere: a capture added now sees only new records.
    log_capture log;
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    BOOST_TEST(log.records().size() == 1u);
}

namespace {

// A sink that uses the library itself: for each record about `watched`, it tries `probe`, which
// the test holds, so that the library logs again from inside the sink (Boost.Log's synchronous
// sinks allow that: their lock is recursive).
class locking_backend : public boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
public:
    locking_backend(std::string watched, std::string probe) : watched_(std::move(watched)), probe_(std::move(probe)) {}
    void consume(const boost::log::record_view& rec)
    {
        const auto m = boost::log::extract<std::string>("Message", rec);
        if (!m || m->find(watched_) == std::string::npos) return;
        boost::system::error_code ec;
        zl::SimpleLockFile inner(probe_, ec);
        refused += ec == zl::error::locked;
    }
    int refused = 0;

private:
    std::string watched_, probe_;
};

} // namespace

BOOST_AUTO_TEST_CASE(a_sink_may_use_the_library_while_it_logs)
{
    temp_dir dir;
    const std::string watched = dir / "watched", probe = dir / "probe";
    zl::LockFile holds_watched(watched), holds_probe(probe);
    auto backend = boost::make_shared<locking_backend>(watched, probe);
    auto sink = boost::make_shared<boost::log::sinks::synchronous_sink<locking_backend>>(backend);
    boost::log::core::get()->add_sink(sink);
    // A refused attempt on `watched` logs; the sink's attempt on `probe` logs from inside it. On
    // another thread, bounded: a library that cannot be re-entered from a sink hangs there.
    const bool refused = returns_in_time("logging from inside a sink", [&] {
        boost::system::error_code ec;
        zl::LockFile second(watched, ec);
        return ec == zl::error::locked;
    });
    boost::log::core::get()->remove_sink(sink);
    BOOST_TEST(refused);
    BOOST_TEST(backend->refused >= 1);
}
