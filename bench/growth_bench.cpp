// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Growth: how the cost grows with the number of processes and with the number of files one
// process holds, each figure against the raw C floor measured in the same run.
//
// 1. Uncontended, in parallel: P processes, each cycling its own lock file K times.
// 2. Contended: P processes on one lock file, about T cycles in all (lock / increment a counter /
//    unlock, blocking), against raw C with F_SETLKW; the counter is checked exact.
// 3. Held files: with H other files held by this process, the cycle on one more file and the
//    acquisition of the H files themselves, per operation (the in-process registry is a hash table:
//    each operation should cost the same for every H).
//
//   growth_bench [--procs 1,2,4,8,16,32,64] [--cycles K] [--total T] [--held 0,1,10,100,1000]
//                [--rounds N] [--dir DIR] [--csv FILE]

#include "common.hpp"

#include <zc/lockfile.hpp>

#include <boost/log/core.hpp>

#include <memory>

#include <sys/resource.h>

namespace zl = zc::lockfile;

namespace {


// Runs body(i) in P processes let go at once; the wall time from the start to the last exit.
double run_processes(int p, const std::function<int(int)>& body)
{
    bench::start_gate gate;
    for (int i = 0; i < p; ++i) gate.fork_child([&body, i] { return body(i); });
    const auto start = gate.open();
    if (!gate.finish()) bench::fail("a process failed");
    return bench::seconds_since(start);
}

void reset_counter(const std::string& path)
{
    const int fd = bench::open_or_fail(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC);
    bench::write_counter(fd, 0);
    ::close(fd);
}

void check_counter(const std::string& path, long long expected, const std::string& what)
{
    const int fd = bench::open_or_fail(path, O_RDONLY | O_CLOEXEC);
    const long long count = bench::read_counter(fd);
    ::close(fd);
    if (count != expected) bench::fail(what + ": the counter is " + std::to_string(count) + ", not " + std::to_string(expected));
}

} // namespace

int main(int argc, char** argv)
{
    const bench::arguments args(argc, argv);
    const std::vector<int> procs = bench::numbers(args.text("--procs", "1,2,4,8,16,32,64"));
    const std::vector<int> held = bench::numbers(args.text("--held", "0,1,10,100,1000"));
    const int cycles = args.number("--cycles", 2000);
    const int total = args.number("--total", 8000);
    const int rounds = args.number("--rounds", 3);
    const std::string dir = args.text("--dir", "/tmp");
    bench::csv_output csv(args.text("--csv", ""));
    boost::log::core::get()->set_logging_enabled(false);
    const std::string base = dir + "/zc_growth_bench";

    // 1. Uncontended, in parallel.
    std::printf("Uncontended cycle in parallel: P processes, each cycling its own lock file %d times; %d rounds, "
                "medians\n", cycles, rounds);
    std::printf("%10s %14s %14s %9s\n", "processes", "raw C us", "LockFile us", "x floor");
    for (int p : procs) {
        std::vector<double> raw, ours, ratios;
        for (int r = 0; r < rounds; ++r) {
            const double t_raw = run_processes(p, [&](int i) {
                const std::string path = base + "_own" + std::to_string(i) + ".lock";
                const std::string record = " " + std::to_string(::getpid()) + "\n";
                for (int k = 0; k < cycles; ++k) bench::raw_cycle(path, record);
                return 0;
            });
            const double t_ours = run_processes(p, [&](int i) {
                const std::string path = base + "_own" + std::to_string(i) + ".lock";
                for (int k = 0; k < cycles; ++k) zl::LockFile lock(path);
                return 0;
            });
            raw.push_back(t_raw / cycles * 1e6);
            ours.push_back(t_ours / cycles * 1e6);
            ratios.push_back(t_ours / t_raw);
        }
        // us: wall time per cycle of one process (with P processes on 2 cores, it grows with P)
        std::printf("%10d %14.2f %14.2f %9.2f\n", p, bench::median(raw), bench::median(ours), bench::median(ratios));
        csv.row("growth_uncontended", "raw C", std::to_string(p), bench::median(raw), "us", 1.0);
        csv.row("growth_uncontended", "LockFile", std::to_string(p), bench::median(ours), "us", bench::median(ratios));
    }
    for (int i = 0; i < procs.back(); ++i) ::unlink((base + "_own" + std::to_string(i) + ".lock").c_str());

    // 2. Contended.
    const std::string lock_path = base + ".lock", counter_path = base + ".counter";
    std::printf("\nContended: P processes on one lock file, %d cycles in all (lock / increment / unlock, blocking); "
                "%d rounds, medians; us per cycle of the whole\n", total, rounds);
    std::printf("%10s %14s %14s %9s\n", "processes", "raw C us", "LockFile us", "x floor");
    for (int p : procs) {
        const int each = std::max(1, total / p);
        const long long expected = static_cast<long long>(each) * p;
        std::vector<double> raw, ours, ratios;
        for (int r = 0; r < rounds; ++r) {
            reset_counter(counter_path);
            const double t_raw = run_processes(p, [&](int) {
                const int fd = bench::open_or_fail(lock_path);
                const int counter = bench::open_or_fail(counter_path, O_RDWR | O_CLOEXEC);
                for (int k = 0; k < each; ++k) {
                    bench::record_lock(fd, F_WRLCK, F_SETLKW);
                    bench::increment_counter(counter);
                    bench::record_lock(fd, F_UNLCK, F_SETLK);
                }
                return 0;
            });
            check_counter(counter_path, expected, "raw C");
            reset_counter(counter_path);
            const double t_ours = run_processes(p, [&](int) {
                const int counter = bench::open_or_fail(counter_path, O_RDWR | O_CLOEXEC);
                zl::LockFile lock(lock_path, std::defer_lock);
                for (int k = 0; k < each; ++k) {
                    lock.lock();
                    bench::increment_counter(counter);
                    lock.unlock();
                }
                return 0;
            });
            check_counter(counter_path, expected, "LockFile");
            raw.push_back(t_raw / static_cast<double>(expected) * 1e6);
            ours.push_back(t_ours / static_cast<double>(expected) * 1e6);
            ratios.push_back(t_ours / t_raw);
        }
        std::printf("%10d %14.2f %14.2f %9.2f\n", p, bench::median(raw), bench::median(ours), bench::median(ratios));
        csv.row("growth_contended", "raw C", std::to_string(p), bench::median(raw), "us", 1.0);
        csv.row("growth_contended", "LockFile", std::to_string(p), bench::median(ours), "us", bench::median(ratios));
    }
    ::unlink(lock_path.c_str());
    ::unlink(counter_path.c_str());

    // 3. Held files.
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
    const int max_held = *std::max_element(held.begin(), held.end());
    if (static_cast<rlim_t>(max_held) + 64 > files.rlim_cur) bench::fail("the descriptor limit is below --held");
    std::printf("\nWith H files held by this process: one more file's cycle, and acquiring the H files (%d rounds, "
                "medians)\n", rounds);
    std::printf("%10s %12s %14s %9s %14s %9s %14s\n", "held", "raw C us", "LockFile us", "x floor", "relock us", "x floor",
                "acquire us");
    const std::string record = " " + std::to_string(::getpid()) + "\n";
    const std::string one_more = base + "_one_more.lock";
    const int n = std::max(1, cycles * 5);
    for (int h : held) {
        std::vector<double> raw, ours, ratios, re, re_ratios, acquire;
        for (int r = 0; r < rounds; ++r) {
            std::vector<zl::LockFile> holding;
            holding.reserve(static_cast<std::size_t>(h));
            const auto start = bench::clock_type::now();
            for (int i = 0; i < h; ++i) holding.emplace_back(base + "_held" + std::to_string(i) + ".lock");
            if (h > 0) acquire.push_back(bench::seconds_since(start) / h * 1e6);
            const double t_raw = bench::seconds_for(n, [&] { bench::raw_cycle(one_more, record); });
            const double t_ours = bench::seconds_for(n, [&] { zl::LockFile lock(one_more); });
            zl::LockFile kept(one_more, std::defer_lock);
            const double t_re = bench::seconds_for(n, [&] {
                kept.lock();
                kept.unlock();
            });
            raw.push_back(t_raw / n * 1e6);
            ours.push_back(t_ours / n * 1e6);
            re.push_back(t_re / n * 1e6);
            ratios.push_back(t_ours / t_raw);
            re_ratios.push_back(t_re / t_raw);
        }
        std::printf("%10d %12.2f %14.2f %9.2f %14.2f %9.2f %14.2f\n", h, bench::median(raw), bench::median(ours),
                    bench::median(ratios), bench::median(re), bench::median(re_ratios), bench::median(acquire));
        csv.row("growth_held", "LockFile cycle", std::to_string(h), bench::median(ours), "us", bench::median(ratios));
        csv.row("growth_held", "LockFile relock", std::to_string(h), bench::median(re), "us", bench::median(re_ratios));
        csv.row("growth_held", "acquire one of the held", std::to_string(h), bench::median(acquire), "us", 0);
    }
    for (int i = 0; i < max_held; ++i) ::unlink((base + "_held" + std::to_string(i) + ".lock").c_str());
    ::unlink(one_more.c_str());
    return 0;
}
