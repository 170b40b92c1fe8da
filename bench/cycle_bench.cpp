// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// One uncontended acquire/release cycle, against a raw C loop doing the same visible work, in the
// same process and run. Rounds of each kind alternate and the ratio reported is the median of
// the per-round ratios, so drift on a shared machine cancels out.
//
//   cycle_bench [--rounds N] [--cycles N] [--dir DIR]

#include <zc/lockfile.hpp>

#include <boost/interprocess/sync/file_lock.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;

// The floor: open, lock, write " <pid>\n", truncate after it, unlock, close.
void raw_cycle(const char* path, const std::string& record)
{
    const int fd = ::open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) std::abort();
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &fl) != 0) std::abort();
    if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) std::abort();
    if (::ftruncate(fd, static_cast<off_t>(record.size())) != 0) std::abort();
    fl.l_type = F_UNLCK;
    ::fcntl(fd, F_SETLK, &fl);
    ::close(fd);
}

double seconds_for(int cycles, const std::function<void()>& cycle)
{
    const auto start = clock_type::now();
    for (int i = 0; i < cycles; ++i) cycle();
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

} // namespace

int main(int argc, char** argv)
{
    int rounds = 15, cycles = 20000;
    std::string dir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string opt = argv[i];
        if (opt == "--rounds") rounds = std::atoi(argv[i + 1]);
        else if (opt == "--cycles") cycles = std::atoi(argv[i + 1]);
        else if (opt == "--dir") dir = argv[i + 1];
    }
    const std::string record = " " + std::to_string(::getpid()) + "\n";
    const std::string raw_path = dir + "/zc_bench_raw.lock";
    const std::string lock_path = dir + "/zc_bench_lockfile.lock";
    const std::string simple_path = dir + "/zc_bench_simple.lock";
    const std::string boost_path = dir + "/zc_bench_boost.lock";
    raw_cycle(boost_path.c_str(), record);  // file_lock needs an existing file

    struct entry {
        const char* name;
        std::function<void()> cycle;
        std::vector<double> ratios;
        std::vector<double> us;
    };
    std::vector<entry> entries = {
        {"raw C: open, fcntl lock, pwrite, ftruncate, unlock, close", [&] { raw_cycle(raw_path.c_str(), record); }, {}, {}},
        {"LockFile(path) + close()", [&] { zc::lockfile::LockFile l(lock_path); }, {}, {}},
        {"SimpleLockFile(path) + close()", [&] { zc::lockfile::SimpleLockFile l(simple_path); }, {}, {}},
        {"boost file_lock: construct, try_lock, unlock, destroy",
         [&] {
             boost::interprocess::file_lock l(boost_path.c_str());
             if (!l.try_lock()) std::abort();
             l.unlock();
         },
         {}, {}},
    };
    for (auto& e : entries) seconds_for(cycles / 10, e.cycle);  // warm up
    for (int r = 0; r < rounds; ++r) {
        std::vector<double> t;
        for (auto& e : entries) t.push_back(seconds_for(cycles, e.cycle));
        for (std::size_t k = 0; k < entries.size(); ++k) {
            entries[k].ratios.push_back(t[k] / t[0]);
            entries[k].us.push_back(t[k] / cycles * 1e6);
        }
    }
    std::printf("%d rounds of %d cycles each; medians; ratio = per-round time / raw C time\n", rounds, cycles);
    std::printf("%-58s %10s %8s\n", "cycle", "us/cycle", "x raw");
    for (auto& e : entries) std::printf("%-58s %10.2f %8.2f\n", e.name, median(e.us), median(e.ratios));
    for (const auto& p : {raw_path, lock_path, simple_path, boost_path}) ::unlink(p.c_str());
    return 0;
}
