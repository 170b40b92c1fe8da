// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Faults survived: in each round two child processes loop incrementing a counter under the lock
// (waiting for ever for it), and both are killed with SIGKILL at a random moment, so that deaths
// land before, during and after the record is written, while waiting, and between the lock
// layers. After each round, this process must get the lock at its first attempt; when a record
// survived, exactly one stale warning must name its dead writer; and the counter must never have
// lost an update (every value written appears once in the journal, in order).
//
//   kill_loop [--kills N] [--seed S]        (N rounds, 2 kills each)

#include <zc/lockfile.hpp>

#include "../support/log_capture.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

namespace {

long long read_counter(int fd)
{
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) < 0) std::abort();
    return std::atoll(buf);
}

// One increment under the lock: counter := counter + 1, then the new value appended to the journal.
void increment(const std::string& dir)
{
    const int counter = ::open((dir + "/counter").c_str(), O_RDWR | O_CLOEXEC);
    const int journal = ::open((dir + "/journal").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (counter < 0 || journal < 0) std::abort();
    const long long v = read_counter(counter) + 1;
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%020lld\n", v);
    if (::pwrite(counter, buf, static_cast<std::size_t>(n), 0) != n) std::abort();
    if (::write(journal, buf, static_cast<std::size_t>(n)) != n) std::abort();
    ::close(counter);
    ::close(journal);
}

[[noreturn]] void child_loop(const std::string& dir)
{
    zl::options forever;
    forever.wait = zl::wait_forever;
    for (;;) {
        zl::LockFile lock(dir + "/lock", "{pid}", forever);
        increment(dir);
    }
}

std::string slurp(const std::string& path)
{
    std::string out;
    if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
        for (int c; (c = std::fgetc(f)) != EOF;) out += static_cast<char>(c);
        std::fclose(f);
    }
    return out;
}

} // namespace

int main(int argc, char** argv)
{
    int rounds = 100;
    unsigned seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--kills") rounds = std::atoi(argv[i + 1]);
        else if (a == "--seed") seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
    }
    std::string dir = (std::filesystem::temp_directory_path() / "zc_kill.XXXXXX").string();
    if (::mkdtemp(&dir[0]) == nullptr) return 70;
    { std::FILE* f = std::fopen((dir + "/counter").c_str(), "w"); std::fprintf(f, "%020d\n", 0); std::fclose(f); }
    { std::FILE* f = std::fopen((dir + "/journal").c_str(), "w"); std::fclose(f); }
    const std::string path = dir + "/lock";

    zc_test::log_capture log;
    std::mt19937 rng(seed);
    int failures = 0, with_record = 0, stale_reports = 0, parent_increments = 0;
    for (int round = 0; round < rounds; ++round) {
        pid_t kids[2];
        for (pid_t& k : kids) {
            k = ::fork();
            if (k == 0) child_loop(dir);
        }
        // A random moment, not a synchronisation: where the children are when it comes is the point.
        std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 3000));
        for (pid_t k : kids) ::kill(k, SIGKILL);
        for (pid_t k : kids) ::waitpid(k, nullptr, 0);

        // What the dead left behind: a record names a writer that died holding the lock.
        const std::string before = slurp(path);
        long long recorded = 0;
        if (before.size() > 1) recorded = std::atoll(before.c_str() + 1);
        if (recorded != 0) ++with_record;

        log.clear();
        boost::system::error_code ec;
        zl::LockFile lock(path, ec);  // one attempt: the kernel freed the lock with the processes
        if (ec) {
            std::printf("round %d: the next acquirer did not get the lock at once: %s\n", round, ec.message().c_str());
            ++failures;
            continue;
        }
        int stale = 0;
        for (const auto& r : log.records()) {
            if (r.message.rfind("Stale record in lock file", 0) == 0) {
                ++stale;
                if (r.message.find("pid=" + std::to_string(recorded) + " ") == std::string::npos) {
                    std::printf("round %d: stale report names the wrong pid: %s\n", round, r.message.c_str());
                    ++failures;
                }
            }
        }
        stale_reports += stale;
        if (stale != (recorded != 0 ? 1 : 0)) {
            std::printf("round %d: %d stale reports for record \"%s\"\n", round, stale, before.c_str());
            ++failures;
        }
        increment(dir);
        ++parent_increments;
    }

    // No lost update: the journal's values are 1, 2, 3, ... with gaps only where a writer died
    // between writing the counter and appending to the journal, never a repeat or a step back.
    const std::string journal = slurp(dir + "/journal");
    long long last = 0, entries = 0, repeats = 0, gaps = 0;
    for (std::size_t at = 0; at + 21 <= journal.size(); at += 21) {
        const long long v = std::atoll(journal.c_str() + at);
        if (v <= last) ++repeats;
        else if (v != last + 1) gaps += v - last - 1;
        last = v;
        ++entries;
    }
    const int counter_fd = ::open((dir + "/counter").c_str(), O_RDONLY);
    const long long final_value = read_counter(counter_fd);
    ::close(counter_fd);
    std::filesystem::remove_all(dir);
    if (repeats != 0 || final_value != last) ++failures;
    std::printf("%d rounds, %d processes killed with SIGKILL; %d left a record, %d stale reports; next acquirer got the "
                "lock at once every round: %s; %lld increments, %lld repeated values (lost updates), %lld writers "
                "killed between counter and journal, final counter %lld (journal %lld); failures: %d\n",
                rounds, 2 * rounds, with_record, stale_reports, failures == 0 ? "yes" : "no", entries, repeats, gaps,
                final_value, last, failures);
    return failures == 0 ? 0 : 1;
}
