// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// One uncontended acquire/release cycle: this library, its peers (raw boost::interprocess
// file_lock, Python's zc.lockfile and filelock, Qt's QLockFile), against a raw C loop doing the
// visible work, all in the same run. Each round times the raw loop and then every entry; the
// ratio reported is the median of the per-round ratios, so drift on a shared machine cancels out.
// Peers in other languages run in their own processes (bench/peers/) and time their own loops.
//
//   cycle_bench [--rounds N] [--cycles N] [--dir DIR] [--csv FILE]
//               [--python PYTHON --python-peer SCRIPT] [--qt-peer EXE]
//   cycle_bench --only KEY [--cycles N] [--dir DIR]     runs one entry, for bench/syscalls.sh
// PYTHON: by default, the first python3 on PATH that imports zc.lockfile, as for the tests
// (test/support/process.hpp).

#include "common.hpp"

#include <zc/lockfile.hpp>

#include <boost/interprocess/sync/file_lock.hpp>
#include <boost/log/core.hpp>

#include <memory>

#include <sys/stat.h>

namespace zl = zc::lockfile;

namespace {

struct entry {
    std::string key;
    std::string name;
    int divisor;  // runs cycles / divisor cycles per round (the slow peers)
    std::function<double(int)> seconds_for;
    std::vector<double> ratios, us;
};

std::function<double(int)> in_process(std::function<void()> cycle)
{
    return [cycle](int n) { return bench::seconds_for(n, cycle); };
}

std::function<double(int)> in_peer(const std::vector<std::string>& argv)
{
    auto peer = std::make_shared<bench::cycle_peer>(argv);
    return [peer](int n) { return peer->seconds_for(n); };
}

} // namespace

int main(int argc, char** argv)
{
    const bench::arguments args(argc, argv);
    const int rounds = args.number("--rounds", 15);
    const int cycles = args.number("--cycles", 20000);
    const std::string dir = args.text("--dir", "/tmp");
    const std::string only = args.text("--only", "");
    bench::csv_output csv(args.text("--csv", ""));
    boost::log::core::get()->set_logging_enabled(false);  // nothing is logged on success anyway

    const std::string record = " " + std::to_string(::getpid()) + "\n";
    const auto path = [&](const char* name) { return dir + "/zc_cycle_bench_" + name + ".lock"; };
    bench::raw_cycle(path("boost"), record);  // file_lock needs an existing file
    bench::raw_cycle(path("boost_kept"), record);
    const int kept_fd = bench::open_or_fail(path("raw_kept"));
    zl::LockFile relocked(path("lockfile_kept"), std::defer_lock);
    zl::SimpleLockFile simple_relocked(path("simple_kept"), std::defer_lock);
    boost::interprocess::file_lock boost_kept(path("boost_kept").c_str());

    std::vector<entry> entries;
    const auto add = [&](std::string key, std::string name, int divisor, std::function<double(int)> f) {
        entries.push_back(entry{std::move(key), std::move(name), divisor, std::move(f), {}, {}});
    };
    add("raw", "raw C: open, fcntl lock, pwrite, ftruncate, unlock, close (the floor)", 1,
        in_process([&] { bench::raw_cycle(path("raw"), record); }));
    add("raw_kept", "raw C, descriptor kept open: fcntl lock, pwrite, ftruncate, unlock", 1,
        in_process([&] { bench::raw_relock_cycle(kept_fd, record); }));
    add("lockfile", "LockFile(path) + close()", 1, in_process([&] { zl::LockFile l(path("lockfile")); }));
    add("lockfile_relock", "LockFile: lock() + unlock() on one object", 1, in_process([&] {
            relocked.lock();
            relocked.unlock();
        }));
    add("simple", "SimpleLockFile(path) + close()", 1, in_process([&] { zl::SimpleLockFile l(path("simple")); }));
    add("simple_relock", "SimpleLockFile: lock() + unlock() on one object", 1, in_process([&] {
            simple_relocked.lock();
            simple_relocked.unlock();
        }));
    add("boost", "boost file_lock: construct, try_lock, unlock, destroy", 1, in_process([&] {
            boost::interprocess::file_lock l(path("boost").c_str());
            if (!l.try_lock()) bench::fail("file_lock busy");
            l.unlock();
        }));
    add("boost_relock", "boost file_lock: try_lock + unlock on one object", 1, in_process([&] {
            if (!boost_kept.try_lock()) bench::fail("file_lock busy");
            boost_kept.unlock();
        }));

    if (!only.empty()) {
        for (auto& e : entries) {
            if (e.key != only) continue;
            e.seconds_for(cycles);
            return 0;
        }
        bench::fail("no entry " + only);
    }

    const std::string python_peer = args.text("--python-peer", "");
    std::string python = args.text("--python", "");
    if (python.empty() && !python_peer.empty()) python = zc_test::python3_on_path();
    if (!python_peer.empty()) {
        add("python_zc_lockfile", "Python zc.lockfile: LockFile(path).close()", 10,
            in_peer({python, python_peer, "cycle", "zc.lockfile", path("python_zc")}));
        add("python_filelock", "Python filelock: acquire() + release()", 10,
            in_peer({python, python_peer, "cycle", "filelock", path("python_filelock")}));
    }
    const std::string qt_peer = args.text("--qt-peer", "");
    if (!qt_peer.empty()) add("qlockfile", "Qt 5 QLockFile: construct, tryLock(0), unlock", 50, in_peer({qt_peer, path("qt")}));

    for (auto& e : entries) e.seconds_for(std::max(1, cycles / e.divisor / 10));  // warm up
    for (int r = 0; r < rounds; ++r) {
        const double floor_us = entries[0].seconds_for(cycles) / cycles * 1e6;
        for (auto& e : entries) {
            const int n = std::max(1, cycles / e.divisor);
            const double us = (&e == &entries[0]) ? floor_us : e.seconds_for(n) / n * 1e6;
            e.us.push_back(us);
            e.ratios.push_back(us / floor_us);
        }
    }
    std::printf("Uncontended cycle: %d rounds of %d cycles (fewer for the slow peers); medians; x floor = per-round "
                "ratio to the raw C loop\n", rounds, cycles);
    std::printf("%-72s %10s %9s\n", "cycle", "us/cycle", "x floor");
    for (auto& e : entries) {
        const double us = bench::median(e.us), ratio = bench::median(e.ratios);
        std::printf("%-72s %10.2f %9.2f\n", e.name.c_str(), us, ratio);
        csv.row("cycle", e.name, e.key, us, "us", ratio);
    }
    ::close(kept_fd);
    for (const char* name : {"raw", "raw_kept", "lockfile", "lockfile_kept", "simple", "simple_kept", "boost", "boost_kept",
                             "python_zc", "python_filelock", "qt"})
        ::unlink(path(name).c_str());
    return 0;
}
