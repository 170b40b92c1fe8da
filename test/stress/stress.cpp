// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Load with nothing lost: N processes of T threads increment a counter file under the lock, with
// a random mix of blocking, timed and one-attempt acquisitions, exclusive and shared; shared
// holders check that the value never changes while they hold the lock. The final count must be
// exact. With --no-lock the same loop runs unlocked, and must lose updates: that shows the
// harness would catch a race.
//
//   stress [--processes N] [--threads T] [--seconds S] [--no-lock]
// Exit status 0 when the run proves what it should (exact with the lock, losses without).

#include <zc/lockfile.hpp>

#include <boost/log/core.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <csignal>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zl = zc::lockfile;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct tally {
    long long increments = 0;
    long long shared_reads = 0;
    long long reader_violations = 0;  // the value changed while a shared holder held the lock
    long long blocking = 0, timed = 0, timed_out = 0, one_attempt = 0, one_attempt_busy = 0;
};

long long read_counter(int fd)
{
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) < 0) std::abort();
    return std::atoll(buf);
}

void write_counter(int fd, long long value)
{
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%020lld\n", value);
    if (::pwrite(fd, buf, static_cast<std::size_t>(n), 0) != n) std::abort();
}

// Acquires `lock` one of three ways, chosen at random; false when the attempt gave up.
bool acquire(zl::SimpleLockFile& lock, std::mt19937& rng, tally& t)
{
    switch (rng() % 3) {
    case 0:
        lock.lock();
        ++t.blocking;
        return true;
    case 1:
        ++t.timed;
        if (lock.try_lock_for(std::chrono::microseconds(rng() % 5000))) return true;
        ++t.timed_out;
        return false;
    default:
        ++t.one_attempt;
        if (lock.try_lock()) return true;
        ++t.one_attempt_busy;
        return false;
    }
}

void worker(const std::string& dir, bool use_lock, steady::time_point until, unsigned seed, tally& t)
{
    std::mt19937 rng(seed);
    const int counter = ::open((dir + "/counter").c_str(), O_RDWR | O_CLOEXEC);
    if (counter < 0) std::abort();
    zl::options shared_mode;
    shared_mode.shared = true;
    zl::LockFile writer(dir + "/lock", std::defer_lock);
    zl::SimpleLockFile reader(dir + "/lock", std::defer_lock, shared_mode);
    while (steady::now() < until) {
        if (rng() % 10 < 6) {
            if (use_lock && !acquire(writer, rng, t)) continue;
            const long long v = read_counter(counter);
            std::this_thread::yield();  // widen the window a lost update needs
            write_counter(counter, v + 1);
            ++t.increments;
            if (use_lock) writer.unlock();
        } else {
            if (use_lock && !acquire(reader, rng, t)) continue;
            const long long before = read_counter(counter);
            std::this_thread::yield();
            if (read_counter(counter) != before) ++t.reader_violations;
            ++t.shared_reads;
            if (use_lock) reader.unlock();
        }
    }
    ::close(counter);
}

} // namespace

int main(int argc, char** argv)
{
    int processes = 8, threads = 4;
    double seconds = 5;
    bool use_lock = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--no-lock") use_lock = false;
        else if (a == "--processes" && i + 1 < argc) processes = std::atoi(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
        else {
            std::fprintf(stderr, "usage: stress [--processes N] [--threads T] [--seconds S] [--no-lock]\n");
            return 64;
        }
    }
    boost::log::core::get()->set_logging_enabled(false);  // busy polls log at debug only; keep quiet
    std::string dir = (std::filesystem::temp_directory_path() / "zc_stress.XXXXXX").string();
    if (::mkdtemp(&dir[0]) == nullptr) return 70;
    { std::FILE* f = std::fopen((dir + "/counter").c_str(), "w"); std::fprintf(f, "%020d\n", 0); std::fclose(f); }

    const auto until = steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
    std::vector<std::pair<pid_t, int>> children;
    for (int p = 0; p < processes; ++p) {
        int fds[2];
        if (::pipe(fds) != 0) return 70;
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::close(fds[0]);
            std::vector<tally> tallies(static_cast<std::size_t>(threads));
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; ++t)
                pool.emplace_back(worker, dir, use_lock, until, static_cast<unsigned>(p * 1000 + t), std::ref(tallies[static_cast<std::size_t>(t)]));
            for (auto& th : pool) th.join();
            for (const auto& t : tallies)
                if (::write(fds[1], &t, sizeof t) != sizeof t) ::_exit(70);
            ::_exit(0);
        }
        ::close(fds[1]);
        children.emplace_back(pid, fds[0]);
    }
    // A watchdog: a deadlock must fail the run, not hang it.
    const auto give_up = until + 60s;
    for (auto& child : children) {
        for (;;) {
            int status = 0;
            const pid_t r = ::waitpid(child.first, &status, WNOHANG);
            if (r == child.first) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    std::printf("a worker process failed (status %d)\n", status);
                    return 1;
                }
                break;
            }
            if (steady::now() > give_up) {
                std::printf("no progress 60 s after the deadline: a deadlock; killing the workers\n");
                for (auto& c : children) ::kill(c.first, SIGKILL);
                return 1;
            }
            std::this_thread::sleep_for(10ms);
        }
    }
    tally total;
    for (auto& [pid, fd] : children) {
        tally t;
        while (::read(fd, &t, sizeof t) == sizeof t) {
            total.increments += t.increments;
            total.shared_reads += t.shared_reads;
            total.reader_violations += t.reader_violations;
            total.blocking += t.blocking;
            total.timed += t.timed;
            total.timed_out += t.timed_out;
            total.one_attempt += t.one_attempt;
            total.one_attempt_busy += t.one_attempt_busy;
        }
        ::close(fd);
        (void)pid;
    }
    const int counter = ::open((dir + "/counter").c_str(), O_RDONLY);
    const long long final_value = read_counter(counter);
    ::close(counter);
    std::filesystem::remove_all(dir);

    const long long lost = total.increments - final_value;
    std::printf("%s: %d processes x %d threads, %.1f s: %lld increments, counter %lld, lost %lld; "
                "%lld shared reads, %lld saw a change; acquisitions: %lld blocking, %lld timed (%lld timed out), "
                "%lld one-attempt (%lld busy)\n",
                use_lock ? "locked" : "control (no lock)", processes, threads, seconds, total.increments, final_value, lost,
                total.shared_reads, total.reader_violations, total.blocking, total.timed, total.timed_out, total.one_attempt,
                total.one_attempt_busy);
    if (use_lock) return lost == 0 && total.reader_violations == 0 && total.increments > 0 ? 0 : 1;
    if (lost > 0) return 0;
    std::printf("the control run lost nothing: the harness would not have caught a race\n");
    return 1;
}
