// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Contention: P processes each run C cycles of lock / read the counter / increment / write /
// unlock with blocking acquisition, all let go at once. The total wall time is compared with the
// same loop in raw C (F_SETLKW on a descriptor kept open), run in the same round; the counter must
// end at exactly P * C or the program fails. The Python original, which cannot wait, is run the
// only way its users can: retrying until LockFile succeeds.
//
//   contention_bench [--procs 4,16] [--cycles 2000] [--rounds 3] [--dir DIR] [--csv FILE]
//                    [--python PYTHON --python-peer SCRIPT]
// PYTHON: by default, the first python3 on PATH that imports zc.lockfile, as for the tests
// (test/support/process.hpp).

#include "common.hpp"

#include <zc/lockfile.hpp>

#include <boost/log/core.hpp>


namespace zl = zc::lockfile;

namespace {

struct setup {
    std::string lock_path, counter_path;
    int cycles;
};

// The kinds of contender; each is the body of one process.
int raw_kept(const setup& s)
{
    const int fd = bench::open_or_fail(s.lock_path);
    const int counter = bench::open_or_fail(s.counter_path, O_RDWR | O_CLOEXEC);
    for (int i = 0; i < s.cycles; ++i) {
        bench::record_lock(fd, F_WRLCK, F_SETLKW);
        bench::increment_counter(counter);
        bench::record_lock(fd, F_UNLCK, F_SETLK);
    }
    return 0;
}

int raw_open_each_cycle(const setup& s)
{
    const int counter = bench::open_or_fail(s.counter_path, O_RDWR | O_CLOEXEC);
    for (int i = 0; i < s.cycles; ++i) {
        const int fd = bench::open_or_fail(s.lock_path);
        bench::record_lock(fd, F_WRLCK, F_SETLKW);
        bench::increment_counter(counter);
        ::close(fd);  // releases the record lock
    }
    return 0;
}

// The floor plus what LockFile writes: its record after locking, blanks before unlocking.
int raw_kept_with_record(const setup& s)
{
    const int fd = bench::open_or_fail(s.lock_path);
    const int counter = bench::open_or_fail(s.counter_path, O_RDWR | O_CLOEXEC);
    const std::string record = " " + std::to_string(::getpid()) + "\n";
    const std::string blanks = std::string(record.size() - 1, ' ') + "\n";
    for (int i = 0; i < s.cycles; ++i) {
        bench::record_lock(fd, F_WRLCK, F_SETLKW);
        if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) bench::fail("pwrite");
        bench::increment_counter(counter);
        if (::pwrite(fd, blanks.data(), blanks.size(), 0) != static_cast<ssize_t>(blanks.size())) bench::fail("pwrite");
        bench::record_lock(fd, F_UNLCK, F_SETLK);
    }
    return 0;
}

int simple_relock(const setup& s)
{
    const int counter = bench::open_or_fail(s.counter_path, O_RDWR | O_CLOEXEC);
    zl::SimpleLockFile lock(s.lock_path, std::defer_lock);
    for (int i = 0; i < s.cycles; ++i) {
        lock.lock();
        bench::increment_counter(counter);
        lock.unlock();
    }
    return 0;
}

int lockfile_relock(const setup& s)
{
    const int counter = bench::open_or_fail(s.counter_path, O_RDWR | O_CLOEXEC);
    zl::LockFile lock(s.lock_path, std::defer_lock);
    for (int i = 0; i < s.cycles; ++i) {
        lock.lock();
        bench::increment_counter(counter);
        lock.unlock();
    }
    return 0;
}

int lockfile_each_cycle(const setup& s)
{
    const int counter = bench::open_or_fail(s.counter_path, O_RDWR | O_CLOEXEC);
    zl::options wait;
    wait.wait = zl::wait_forever;
    for (int i = 0; i < s.cycles; ++i) {
        zl::LockFile lock(s.lock_path, "{pid}", wait);
        bench::increment_counter(counter);
    }
    return 0;
}

struct kind {
    std::string key, name;
    std::function<int(const setup&)> body;  // empty: the Python peer
    std::vector<double> seconds, ratios;
};


} // namespace

int main(int argc, char** argv)
{
    const bench::arguments args(argc, argv);
    const std::vector<int> procs = bench::numbers(args.text("--procs", "4,16"));
    const int cycles = args.number("--cycles", 2000);
    const int rounds = args.number("--rounds", 3);
    const std::string dir = args.text("--dir", "/tmp");
    const std::string python_peer = args.text("--python-peer", "");
    std::string python = args.text("--python", "");
    if (python.empty() && !python_peer.empty()) python = zc_test::python3_on_path();
    bench::csv_output csv(args.text("--csv", ""));
    boost::log::core::get()->set_logging_enabled(false);

    const setup s{dir + "/zc_contention_bench.lock", dir + "/zc_contention_bench.counter", cycles};
    std::printf("Contention: P processes x %d cycles of lock / read counter / increment / write / unlock, blocking; "
                "%d rounds, medians;\nx floor = per-round ratio of total wall time to the raw C loop with F_SETLKW; "
                "every run's counter checked exact\n", cycles, rounds);
    for (int p : procs) {
        std::vector<kind> kinds = {
            {"raw_kept", "raw C: F_SETLKW on a descriptor kept open (the floor)", raw_kept, {}, {}},
            {"raw_open", "raw C: open, F_SETLKW, close each cycle", raw_open_each_cycle, {}, {}},
            {"raw_record", "raw C: F_SETLKW, kept open, writing and blanking a record", raw_kept_with_record, {}, {}},
            {"simple_relock", "SimpleLockFile: lock() + unlock() on one object", simple_relock, {}, {}},
            {"lockfile_relock", "LockFile: lock() + unlock() on one object", lockfile_relock, {}, {}},
            {"lockfile", "LockFile(path, wait_forever) + close() each cycle", lockfile_each_cycle, {}, {}},
        };
        if (!python_peer.empty())
            kinds.push_back({"python_busy_retry", "Python zc.lockfile: retry LockFile(path) until it succeeds", {}, {}, {}});
        for (int r = 0; r < rounds; ++r) {
            for (auto& k : kinds) {
                {
                    const int fd = bench::open_or_fail(s.counter_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC);
                    bench::write_counter(fd, 0);
                    ::close(fd);
                }
                bench::start_gate gate;
                for (int i = 0; i < p; ++i) {
                    if (k.body)
                        gate.fork_child([&] { return k.body(s); });
                    else
                        gate.spawn({python, python_peer, "contend", "zc.lockfile", s.lock_path, s.counter_path,
                                    std::to_string(cycles)});
                }
                const auto start = gate.open();
                const bool ok = gate.finish();
                const double t = bench::seconds_since(start);
                const int fd = bench::open_or_fail(s.counter_path, O_RDONLY | O_CLOEXEC);
                const long long count = bench::read_counter(fd);
                ::close(fd);
                if (!ok) bench::fail(k.name + ": a process failed");
                if (count != static_cast<long long>(p) * cycles)
                    bench::fail(k.name + ": the counter is " + std::to_string(count) + ", not " +
                                std::to_string(static_cast<long long>(p) * cycles));
                k.seconds.push_back(t);
                k.ratios.push_back(t / kinds[0].seconds.back());
            }
        }
        std::printf("\n%d processes, %lld increments (exact in every run)\n", p, static_cast<long long>(p) * cycles);
        std::printf("%-62s %10s %12s %9s\n", "contender", "total s", "us/cycle", "x floor");
        for (auto& k : kinds) {
            const double t = bench::median(k.seconds), ratio = bench::median(k.ratios);
            const double us = t / (static_cast<double>(p) * cycles) * 1e6;
            std::printf("%-62s %10.3f %12.2f %9.2f\n", k.name.c_str(), t, us, ratio);
            csv.row("contention", k.key, std::to_string(p), us, "us", ratio);  // the key: a short label for the plot
        }
    }
    ::unlink(s.lock_path.c_str());
    ::unlink(s.counter_path.c_str());
    return 0;
}
