// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Waiting for a lock: one attempt by default, up to a steady-clock deadline, or for ever; across
// processes and inside one; one error record when a wait fails, nothing above debug when it
// succeeds; the standard Lockable interface with std::unique_lock.
#define BOOST_TEST_MODULE wait
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"
#include "support/wait_for.hpp"

#include <zc/lockfile.hpp>

#include <chrono>
#include <functional>
#include <limits>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace zl = zc::lockfile;
using namespace zc_test;
using namespace std::chrono_literals;
using boost::log::trivial::severity_level;

namespace {

zl::options waiting(std::chrono::nanoseconds d)
{
    zl::options o;
    o.wait = d;
    return o;
}

bool has_message_starting(log_capture& log, const std::string& prefix)
{
    for (const auto& r : log.records())
        if (r.message.rfind(prefix, 0) == 0) return true;
    return false;
}

std::size_t count_above_debug(log_capture& log)
{
    std::size_t n = 0;
    for (const auto& r : log.records())
        if (r.severity > severity_level::debug) ++n;
    return n;
}

std::size_t count_errors(log_capture& log)
{
    std::size_t n = 0;
    for (const auto& r : log.records())
        if (r.severity == severity_level::error) ++n;
    return n;
}

// A holder in another process: lock_helper in mode `kind`, or flock(1) for "flock", or a
// boost::interprocess::file_lock holder for "boost".
holder holder_of(const std::string& kind, const std::string& path)
{
    if (kind == "flock") return holder({"flock", "-n", path, "-c", "echo locked; read line || true"});
    if (kind == "boost") {
        write_file(path, "");
        return holder({boost_peer(), path});
    }
    return holder({lock_helper(), kind, path});
}

// The waiter's result, failing the test instead of hanging when it never comes.
bool result_of(std::future<bool>& waiter)
{
    if (waiter.wait_for(step_limit) != std::future_status::ready) {
        BOOST_ERROR("the waiter did not get the lock in time");
        std::abort();  // the waiting thread cannot be cancelled; end the module rather than hang
    }
    return waiter.get();
}

} // namespace

BOOST_AUTO_TEST_CASE(one_attempt_is_the_default)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    holder h = holder_of("lock", path);
    log_capture log;
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    BOOST_TEST(!has_message_starting(log, "Waiting"));
    BOOST_TEST(count_errors(log) == 1u);
}

// While a holder of each kind has the lock, `wait` waits; when it lets go, `wait` gets it, logging
// nothing above debug.
void check_wait_gets_the_lock_on_release(const std::function<bool(const std::string&)>& wait)
{
    temp_dir dir;
    const std::string path = dir / "lock";
#if defined(_WIN32)
    // flock(1) and boost_peer are POSIX programs; the Windows peer, msvcrt_peer, leaves its record
    // behind as Python's zc.lockfile does, which the waiter may then rightly report as stale.
    for (const char* kind : {"lock"}) {
#else
    for (const char* kind : {"lock", "flock", "boost"}) {
#endif
        BOOST_TEST_CONTEXT(kind)
        {
            holder h = holder_of(kind, path);
            log_capture log;
            auto waiter = std::async(std::launch::async, [&] { return wait(path); });
            wait_for([&] { return has_message_starting(log, "Waiting for lock file " + path); });
            BOOST_TEST((waiter.wait_for(0s) == std::future_status::timeout));
            h.release();
            BOOST_TEST(result_of(waiter));
            BOOST_TEST(count_above_debug(log) == 0u);
            BOOST_TEST(has_message_starting(log, "Locked file " + path + " after waiting"));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_timed_wait_gets_the_lock_when_the_holder_releases)
{
    check_wait_gets_the_lock_on_release([](const std::string& path) { return zl::LockFile(path, "{pid}", waiting(20s)).is_locked(); });
}

BOOST_AUTO_TEST_CASE(waiting_for_ever_blocks_in_the_kernel_until_release)
{
    check_wait_gets_the_lock_on_release([](const std::string& path) {
        zl::LockFile l(path, std::defer_lock);
        l.lock();
        return l.is_locked();
    });
}

BOOST_AUTO_TEST_CASE(a_wait_that_times_out_logs_one_error_and_throws)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    holder h = holder_of("lock", path);
    log_capture log;
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_THROW(zl::LockFile(path, "{pid}", waiting(300ms)), zl::LockError);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 300ms));  // it did wait
    BOOST_TEST(count_errors(log) == 1u);
    BOOST_TEST(count_above_debug(log) == 1u);
    BOOST_TEST(has_message_starting(log, "Error locking file " + path + "; pid=" + std::to_string(h.pid())));
    // The error_code form reports it too, with the same single record.
    log.clear();
    boost::system::error_code ec;
    zl::SimpleLockFile s(path, waiting(50ms), ec);
    BOOST_TEST((ec == zl::error::locked));
    BOOST_TEST(count_errors(log) == 1u);
}

BOOST_AUTO_TEST_CASE(waiting_inside_one_process)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    log_capture log;
    auto held = std::make_unique<zl::LockFile>(path);
    // Timed out: another thread of this process holds it.
    std::thread([&] {
        zl::LockFile l(path, std::defer_lock);
        BOOST_TEST(!l.try_lock_for(100ms));
    }).join();
    BOOST_TEST(count_errors(log) == 1u);
    log.clear();
    // Timed, then for ever: both get it once the holding thread releases.
    for (int forever = 0; forever < 2; ++forever) {
        auto waiter = std::async(std::launch::async, [&] {
            zl::LockFile l(path, std::defer_lock);
            if (forever) l.lock();
            else if (!l.try_lock_for(20s)) return false;
            return l.is_locked();
        });
        wait_for([&] { return has_message_starting(log, "Waiting for lock file " + path); });
        held.reset();
        BOOST_TEST(result_of(waiter));
        BOOST_TEST(count_above_debug(log) == 0u);
        held = std::make_unique<zl::LockFile>(path);
        log.clear();
    }
}

BOOST_AUTO_TEST_CASE(try_lock_is_one_attempt_returning_false_without_an_error_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    holder h = holder_of("lock", path);
    zl::LockFile l(path, std::defer_lock);
    BOOST_TEST(!l.is_locked());
    log_capture log;
    BOOST_TEST(!l.try_lock());
    BOOST_TEST(count_above_debug(log) == 0u);
    BOOST_TEST(has_message_starting(log, "Lock file " + path + " is busy; pid=" + std::to_string(h.pid())));
    h.release();
    wait_for([&] { return l.try_lock(); });
    BOOST_TEST(l.is_locked());
    BOOST_TEST(l.read_contents() == " " + std::to_string(current_pid()) + "\n");
}

BOOST_AUTO_TEST_CASE(lockable_with_std_unique_lock)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile file(path, std::defer_lock);
    {
        std::unique_lock<zl::LockFile> guard(file);
        BOOST_TEST(guard.owns_lock());
        BOOST_TEST(file.is_locked());
        BOOST_TEST(probe_flock(path) == probe_busy);
        BOOST_TEST(probe_fcntl(path) == probe_busy);
    }
    BOOST_TEST(!file.is_locked());
    BOOST_TEST(probe_fcntl(path) == probe_acquired);

    holder h = holder_of("lock", path);
    zl::SimpleLockFile simple(path, std::defer_lock);
    {
        std::unique_lock<zl::SimpleLockFile> guard(simple, std::try_to_lock);
        BOOST_TEST(!guard.owns_lock());
    }
    {
        std::unique_lock<zl::SimpleLockFile> guard(simple, 50ms);
        BOOST_TEST(!guard.owns_lock());
    }
    {
        std::unique_lock<zl::SimpleLockFile> guard(simple, std::chrono::system_clock::now() + 50ms);
        BOOST_TEST(!guard.owns_lock());
    }
    h.release();
    std::unique_lock<zl::SimpleLockFile> guard(simple, std::chrono::steady_clock::now() + 20s);
    BOOST_TEST(guard.owns_lock());
}

BOOST_AUTO_TEST_CASE(locking_an_object_twice_is_refused)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile l(path);
    try {
        l.lock();
        BOOST_FAIL("locked twice");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST((e.code() == boost::system::errc::resource_deadlock_would_occur));
    }
    BOOST_CHECK_THROW((void)l.try_lock(), boost::system::system_error);
    zl::LockFile none;
    BOOST_CHECK_THROW(none.lock(), boost::system::system_error);
}

BOOST_AUTO_TEST_CASE(unlock_then_lock_again_on_one_object)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile l(path);
    for (int i = 0; i < 3; ++i) {
        l.unlock();
        BOOST_TEST(read_file(path) == std::string(std::to_string(current_pid()).size() + 1, ' ') + "\n");
        BOOST_TEST(probe_fcntl(path) == probe_acquired);
        l.lock();
        BOOST_TEST(probe_fcntl(path) == probe_busy);
        BOOST_TEST(l.read_contents() == " " + std::to_string(current_pid()) + "\n");  // held: read as the holder
    }
}

BOOST_AUTO_TEST_CASE(invalid_template_is_rejected_at_construction_even_when_deferred)
{
    temp_dir dir;
    BOOST_CHECK_THROW(zl::LockFile(dir / "lock", std::defer_lock, "{nope}"), boost::system::system_error);
    BOOST_TEST(!std::filesystem::exists(dir / "lock"));
}

BOOST_AUTO_TEST_CASE(past_and_zero_deadlines_make_one_attempt)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::SimpleLockFile l(path, std::defer_lock);
    BOOST_TEST(l.try_lock_for(0s));
    l.unlock();
    BOOST_TEST(l.try_lock_until(std::chrono::steady_clock::now() - 1h));
    l.unlock();
    BOOST_TEST(l.try_lock_for(-5s));
    l.unlock();
    holder h = holder_of("lock", path);
    BOOST_TEST(!l.try_lock_for(-5s));
    BOOST_TEST(!l.try_lock_until(std::chrono::system_clock::now() - 1h));
}

// However far past a deadline is, it is one attempt: computing how long is left must not overflow
// into a wait for ever (found by an attack on the library: each of these used to hang).
BOOST_AUTO_TEST_CASE(deadlines_past_by_any_amount_make_one_attempt)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::SimpleLockFile held(path);
    zl::SimpleLockFile l(path, std::defer_lock);
    const std::vector<std::pair<const char*, std::function<bool()>>> cases = {
        {"try_lock_until(system_clock::time_point::min())",
         [&] { return l.try_lock_until(std::chrono::system_clock::time_point::min()); }},
        {"try_lock_until(steady_clock::time_point::min())",
         [&] { return l.try_lock_until(std::chrono::steady_clock::time_point::min()); }},
        {"try_lock_for(seconds(-10000000000))", [&] { return l.try_lock_for(std::chrono::seconds(-10000000000LL)); }},
        {"try_lock_for(hours(-3000000))", [&] { return l.try_lock_for(std::chrono::hours(-3000000)); }},
        {"try_lock_for(seconds::min())", [&] { return l.try_lock_for(std::chrono::seconds::min()); }},
        {"try_lock_for(nanoseconds::min())", [&] { return l.try_lock_for(std::chrono::nanoseconds::min()); }},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.first)
        {
            auto attempt = std::async(std::launch::async, c.second);
            const bool ended = attempt.wait_for(step_limit) == std::future_status::ready;
            BOOST_TEST(ended, "it waited instead of making one attempt");
            if (!ended) held.close();  // let the waiter through, so that the test ends
            BOOST_TEST(!attempt.get());
            if (l.is_locked()) l.unlock();
        }
    }
}

// Issue 14: one deadline type, one threshold. Every timeout and time point of the public API (and
// options::wait, and the command's --wait through to_wait) becomes a detail::deadline: one attempt,
// until a steady-clock time, or for ever.

static_assert(zl::to_wait(0s) == 0ns && zl::to_wait(-1ns) == 0ns && zl::to_wait(1ns) == 1ns, "to_wait: small");
static_assert(zl::to_wait(std::chrono::hours::max()) == zl::wait_forever && zl::to_wait(zl::wait_forever) == zl::wait_forever,
              "to_wait: huge");

BOOST_AUTO_TEST_CASE(to_wait_holds_the_one_threshold)
{
    using dseconds = std::chrono::duration<double>;
    BOOST_TEST(zl::to_wait(dseconds(std::numeric_limits<double>::quiet_NaN())).count() == 0);
    BOOST_TEST(zl::to_wait(dseconds(-std::numeric_limits<double>::infinity())).count() == 0);
    BOOST_TEST((zl::to_wait(dseconds(std::numeric_limits<double>::infinity())) == zl::wait_forever));
    BOOST_TEST(zl::to_wait(dseconds(1.5e-9)).count() == 2);  // rounded up: never less than asked for
    BOOST_TEST(zl::to_wait(dseconds(0.25)).count() == 250000000);
    BOOST_TEST((zl::to_wait(1h) == std::chrono::nanoseconds(3600000000000LL)));
    // A century or more is for ever: what the command's --wait 1e12 meant, without overflowing.
    BOOST_TEST((zl::to_wait(dseconds(3.1e9)) == std::chrono::nanoseconds(3100000000000000000LL)));
    BOOST_TEST((zl::to_wait(dseconds(3.2e9)) == zl::wait_forever));
    BOOST_TEST((zl::to_wait(dseconds(1e12)) == zl::wait_forever));
    BOOST_TEST((zl::to_wait(std::chrono::seconds::max()) == zl::wait_forever));
    using years = std::chrono::duration<long long, std::ratio<86400 * 365>>;
    BOOST_TEST((zl::to_wait(years(102)) == zl::wait_forever));
    BOOST_TEST((zl::to_wait(years(100)) == std::chrono::ceil<std::chrono::nanoseconds>(years(100))));
}

BOOST_AUTO_TEST_CASE(deadline_conversions)
{
    using zl::detail::deadline;
    using steady = std::chrono::steady_clock;
    using system = std::chrono::system_clock;
    BOOST_TEST(deadline().is_one_attempt());
    BOOST_TEST(deadline::one_attempt().passed());
    BOOST_TEST(!deadline::forever().passed());
    BOOST_TEST(deadline::after(0s).is_one_attempt());
    BOOST_TEST(deadline::after(-1ns).is_one_attempt());
    BOOST_TEST(deadline::after(std::chrono::nanoseconds::min()).is_one_attempt());
    BOOST_TEST(deadline::after(zl::wait_forever).is_forever());
    BOOST_TEST(deadline::after(std::chrono::hours::max()).is_forever());
    BOOST_TEST(deadline::after(std::chrono::seconds(3200000000LL)).is_forever());
    BOOST_TEST(deadline::after(std::chrono::duration<double>(1e300)).is_forever());

    const auto before = steady::now();
    const deadline hour = deadline::after(1h);
    const auto after = steady::now();
    BOOST_TEST(!hour.is_one_attempt());
    BOOST_TEST(!hour.is_forever());
    BOOST_TEST(!hour.passed());
    BOOST_TEST((hour.when() >= before + 1h && hour.when() <= after + 1h));

    // Time points: past ones (however far, on any clock) make one attempt; far ones wait for ever.
    BOOST_TEST(deadline::at(steady::now() - 1h).is_one_attempt());
    BOOST_TEST(deadline::at(steady::time_point::min()).is_one_attempt());
    BOOST_TEST(deadline::at(system::now() - 1h).is_one_attempt());
    BOOST_TEST(deadline::at(system::time_point::min()).is_one_attempt());
    BOOST_TEST(deadline::at(std::chrono::time_point<system, std::chrono::hours>::min()).is_one_attempt());
    BOOST_TEST(deadline::at(steady::time_point::max()).is_forever());
    BOOST_TEST(deadline::at(system::time_point::max()).is_forever());
    // Coarser units: in nanoseconds, the unit when and now have in common, these overflow (when <=
    // now was undefined behaviour, and in practice hours::max() made one attempt).
    BOOST_TEST(deadline::at(std::chrono::time_point<system, std::chrono::hours>::max()).is_forever());
    BOOST_TEST(deadline::at(std::chrono::time_point<steady, std::chrono::hours>::max()).is_forever());
    BOOST_TEST(deadline::at(std::chrono::time_point<system, std::chrono::seconds>::max()).is_forever());
    BOOST_TEST(deadline::at(std::chrono::time_point<steady, std::chrono::hours>::min()).is_one_attempt());
    BOOST_TEST(deadline::at(std::chrono::time_point<system, std::chrono::seconds>::min()).is_one_attempt());
    using dseconds = std::chrono::duration<double>;
    BOOST_TEST(deadline::at(std::chrono::time_point<system, dseconds>(dseconds(1e300))).is_forever());
    BOOST_TEST(deadline::at(std::chrono::time_point<system, dseconds>(dseconds(-1e300))).is_one_attempt());
    BOOST_TEST(deadline::at(std::chrono::time_point<system, dseconds>(
                                dseconds(std::numeric_limits<double>::quiet_NaN())))
                   .is_one_attempt());
    const deadline hour_in_hours = deadline::at(std::chrono::ceil<std::chrono::hours>(system::now()) + 1h);
    BOOST_TEST(!hour_in_hours.is_one_attempt());
    BOOST_TEST(!hour_in_hours.is_forever());
    // Another clock's time point becomes a steady-clock one, once.
    const auto s0 = steady::now();
    const deadline by_system = deadline::at(system::now() + 1h);
    const auto s1 = steady::now();
    BOOST_TEST(!by_system.is_one_attempt());
    BOOST_TEST(!by_system.is_forever());
    BOOST_TEST((by_system.when() > s0 + 1h - 1s && by_system.when() <= s1 + 1h + 1s));
    // A steady time point is kept as it is.
    const auto t = steady::now() + 1h;
    BOOST_TEST((deadline::at(t).when() == t));
    BOOST_TEST(deadline::until(steady::now() - 1ns).passed());
}
