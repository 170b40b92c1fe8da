// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Waiting for a held lock: the CPU a waiter burns during a 1 s wait, and the delay between the
// holder's release and the waiter's acquisition; against a busy retry, Boost's timed_lock and
// flock -w, measured in the same run.
//
// Ratios are to Boost's timed_lock, measured in the same run.
//
//   wait_bench [--samples N] [--hold-ms MS] [--dir DIR] [--csv FILE]

#include "common.hpp"

#include <zc/lockfile.hpp>

#include <boost/interprocess/sync/file_lock.hpp>
#include <boost/log/core.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace zl = zc::lockfile;
using namespace std::chrono_literals;

namespace {

long long now_ns()
{
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);  // one clock for every process on the machine
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double thread_cpu_ms()
{
    timespec ts;
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void write_all(int fd, const void* p, std::size_t n)
{
    if (::write(fd, p, n) != static_cast<ssize_t>(n)) std::abort();
}
void read_all(int fd, void* p, std::size_t n)
{
    if (::read(fd, p, n) != static_cast<ssize_t>(n)) std::abort();
}

// A holder process that locks `path` (both families, through the library), then for each of
// `rounds`: says 'L', waits for 'W', holds for `hold` (or a random 0.5-10 ms when hold is zero),
// releases, sends the release time, and waits for 'D' (the waiter has had its turn).
struct holder_process {
    pid_t pid = -1;
    int to_holder = -1, from_holder = -1;

    holder_process(const std::string& path, int rounds, std::chrono::milliseconds hold)
    {
        int a[2], b[2];
        if (::pipe(a) != 0 || ::pipe(b) != 0) std::abort();
        pid = ::fork();
        if (pid == 0) {
            ::close(a[1]);
            ::close(b[0]);
            std::mt19937 rng(42);
            std::uniform_int_distribution<int> us(500, 10000);
            zl::LockFile lock(path, std::defer_lock);
            for (int r = 0; r < rounds; ++r) {
                lock.lock();
                char c = 'L';
                write_all(b[1], &c, 1);
                read_all(a[0], &c, 1);
                std::this_thread::sleep_for(hold.count() > 0 ? std::chrono::microseconds(hold) : std::chrono::microseconds(us(rng)));
                const long long t0 = now_ns();
                lock.unlock();
                write_all(b[1], &t0, sizeof t0);
                read_all(a[0], &c, 1);  // the waiter has had its turn: only then lock again
            }
            ::_exit(0);
        }
        ::close(a[0]);
        ::close(b[1]);
        to_holder = a[1];
        from_holder = b[0];
    }
    void await_locked()
    {
        char c;
        read_all(from_holder, &c, 1);
    }
    void go()
    {
        char c = 'W';
        write_all(to_holder, &c, 1);
    }
    // The release time; the waiter calls it once it has had the lock and let it go.
    long long released_at()
    {
        long long t0;
        read_all(from_holder, &t0, sizeof t0);
        char c = 'D';
        write_all(to_holder, &c, 1);
        return t0;
    }
    ~holder_process()
    {
        ::close(to_holder);
        ::close(from_holder);
        ::waitpid(pid, nullptr, 0);
    }
};

// The waiter's ways to wait; each returns true when it got the lock, and releases it.
using waiter = std::function<bool(const std::string&)>;

bool timed(const std::string& path)
{
    zl::LockFile l(path, std::defer_lock);
    return l.try_lock_for(5s);
}
bool forever(const std::string& path)
{
    zl::LockFile l(path, std::defer_lock);
    l.lock();
    return true;
}
bool busy_retry(const std::string& path)
{
    for (;;) {
        boost::system::error_code ec;
        zl::LockFile l(path, ec);
        if (!ec) return true;
    }
}
bool boost_timed(const std::string& path)
{
    boost::interprocess::file_lock l(path.c_str());
    return l.try_lock_for(std::chrono::seconds(5));
}

} // namespace

int main(int argc, char** argv)
{
    const bench::arguments args(argc, argv);
    const int samples = args.number("--samples", 200);
    const auto hold = std::chrono::milliseconds(args.number("--hold-ms", 1000));
    const std::string dir = args.text("--dir", "/tmp");
    bench::csv_output csv(args.text("--csv", ""));
    // The library logs nothing above debug on these paths, and the bench adds no sink; without
    // one Boost.Log would print the debug records of waits, so switch the core off.
    boost::log::core::get()->set_logging_enabled(false);
    const std::string path = dir + "/zc_wait_bench.lock";
    { zl::LockFile create(path); }

    struct mode {
        const char* name;
        waiter wait;
    };
    const std::vector<mode> modes = {
        {"LockFile::try_lock_for (timed: polls, back-off to 3 ms)", timed},
        {"LockFile::lock (for ever: blocks in the kernel)", forever},
        {"busy retry of one-attempt LockFile (the Python way)", busy_retry},
        {"boost file_lock::try_lock_for (timed_lock)", boost_timed},
    };

    std::printf("CPU used by a waiter while the lock is held for %lld ms (goal: under 20 ms for 1 s); "
                "x boost = ratio to Boost's timed_lock\n", static_cast<long long>(hold.count()));
    std::printf("%-62s %10s %9s\n", "waiter", "CPU ms", "x boost");
    std::vector<std::pair<std::string, double>> cpu;
    for (const auto& m : modes) {
        holder_process h(path, 1, hold);
        h.await_locked();
        h.go();
        const double start = thread_cpu_ms();
        if (!m.wait(path)) bench::fail(std::string(m.name) + " did not get the lock");
        cpu.emplace_back(m.name, thread_cpu_ms() - start);
        h.released_at();
    }
    {
        // flock(1) -w: a whole process; its CPU from wait4's rusage, start-up included.
        holder_process h(path, 1, hold);
        h.await_locked();
        h.go();
        const pid_t p = ::fork();
        if (p == 0) {
            ::execlp("flock", "flock", "-w", "5", path.c_str(), "true", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        int status = 0;
        rusage ru{};
        ::wait4(p, &status, 0, &ru);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bench::fail("flock -w failed");
        const double ms = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
        cpu.emplace_back("flock -w (util-linux; process start-up included)", ms);
        h.released_at();
    }
    const double boost_cpu = cpu[3].second;
    for (const auto& c : cpu) {
        std::printf("%-62s %10.2f %9.2f\n", c.first.c_str(), c.second, c.second / boost_cpu);
        csv.row("wait_cpu", c.first, "", c.second, "ms", c.second / boost_cpu);
    }

    std::printf("\nrelease-to-acquire delay, %d releases at random 0.5-10 ms into the wait (goal: median under 2 ms, "
                "p99 under 20 ms)\n", samples);
    std::printf("%-62s %10s %10s %10s %9s\n", "waiter", "median ms", "p99 ms", "max ms", "p99 x boost");
    std::vector<std::pair<std::string, std::vector<double>>> delays_of;
    for (const auto& m : modes) {
        if (std::string(m.name).rfind("busy", 0) == 0) continue;  // its CPU cost rules it out already
        std::vector<double> delays;
        holder_process h(path, samples, 0ms);
        for (int s = 0; s < samples; ++s) {
            h.await_locked();
            h.go();
            if (!m.wait(path)) bench::fail(std::string(m.name) + " did not get the lock");
            const long long t1 = now_ns();
            delays.push_back(static_cast<double>(t1 - h.released_at()) / 1e6);
        }
        delays_of.emplace_back(m.name, delays);
    }
    const double boost_p99 = bench::percentile(delays_of.back().second, 0.99);
    for (const auto& d : delays_of) {
        const double med = bench::percentile(d.second, 0.5), p99 = bench::percentile(d.second, 0.99);
        std::printf("%-62s %10.3f %10.3f %10.3f %9.2f\n", d.first.c_str(), med, p99,
                    *std::max_element(d.second.begin(), d.second.end()), p99 / boost_p99);
        csv.row("wait_delay_median", d.first, "", med, "ms", med / bench::percentile(delays_of.back().second, 0.5));
        csv.row("wait_delay_p99", d.first, "", p99, "ms", p99 / boost_p99);
    }
    ::unlink(path.c_str());
    return 0;
}
