// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// What the benchmark programs share: options, statistics, CSV output, the raw C loops that serve
// as the floor, peer processes driven through pipes, and a start gate for many processes.
#ifndef ZC_LOCKFILE_BENCH_COMMON_HPP
#define ZC_LOCKFILE_BENCH_COMMON_HPP

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test/support/process.hpp"

namespace bench {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point start)
{
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

inline double seconds_for(int cycles, const std::function<void()>& cycle)
{
    const auto start = clock_type::now();
    for (int i = 0; i < cycles; ++i) cycle();
    return seconds_since(start);
}

inline double percentile(std::vector<double> v, double p)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
    return v[k];
}

inline double median(std::vector<double> v)
{
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// "4,16" -> {4, 16}
inline std::vector<int> numbers(const std::string& list)
{
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const std::size_t end = std::min(list.find(',', start), list.size());
        if (end > start) out.push_back(std::atoi(list.substr(start, end - start).c_str()));
        start = end + 1;
    }
    return out;
}

[[noreturn]] inline void fail(const std::string& what)
{
    std::fprintf(stderr, "benchmark failed: %s\n", what.c_str());
    std::exit(1);
}

// "--name value" pairs and "--flag"s.
class arguments {
public:
    arguments(int argc, char** argv)
    {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a.rfind("--", 0) != 0) fail("unexpected argument " + a);
            if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
                values_[a] = argv[++i];
            else
                values_[a] = "";
        }
    }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    std::string text(const std::string& name, const std::string& fallback) const
    {
        auto found = values_.find(name);
        return found == values_.end() ? fallback : found->second;
    }
    int number(const std::string& name, int fallback) const
    {
        auto found = values_.find(name);
        return found == values_.end() ? fallback : std::atoi(found->second.c_str());
    }

private:
    std::map<std::string, std::string> values_;
};

// One CSV file per program: "table,case,x,value,unit,ratio" (x: a parameter such as a process
// count; empty when there is none).
class csv_output {
public:
    explicit csv_output(const std::string& path)
    {
        if (path.empty()) return;
        out_ = std::fopen(path.c_str(), "w");
        if (out_ == nullptr) fail("cannot write " + path);
        std::fprintf(out_, "table,case,x,value,unit,ratio\n");
    }
    ~csv_output()
    {
        if (out_ != nullptr) std::fclose(out_);
    }
    csv_output(const csv_output&) = delete;
    csv_output& operator=(const csv_output&) = delete;
    void row(const std::string& table, const std::string& name, const std::string& x, double value, const char* unit,
             double ratio)
    {
        if (out_ == nullptr) return;
        std::fprintf(out_, "%s,\"%s\",%s,%.4f,%s,%.4f\n", table.c_str(), name.c_str(), x.c_str(), value, unit, ratio);
        std::fflush(out_);
    }

private:
    std::FILE* out_ = nullptr;
};

// --- The floor: what a careful C programmer would write, and nothing more ---

inline int open_or_fail(const std::string& path, int flags = O_RDWR | O_CREAT | O_CLOEXEC)
{
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) fail("cannot open " + path);
    return fd;
}

inline void record_lock(int fd, short type, int cmd)
{
    struct flock fl;
    std::memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    while (::fcntl(fd, cmd, &fl) != 0) {
        if (errno != EINTR) fail("fcntl lock failed");
    }
}

// open, lock, write " <pid>\n", truncate after it, unlock, close.
inline void raw_cycle(const std::string& path, const std::string& record)
{
    const int fd = open_or_fail(path);
    record_lock(fd, F_WRLCK, F_SETLK);
    if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) fail("pwrite");
    if (::ftruncate(fd, static_cast<off_t>(record.size())) != 0) fail("ftruncate");
    record_lock(fd, F_UNLCK, F_SETLK);
    ::close(fd);
}

// The same on a descriptor kept open: lock, write, truncate, unlock.
inline void raw_relock_cycle(int fd, const std::string& record)
{
    record_lock(fd, F_WRLCK, F_SETLK);
    if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) fail("pwrite");
    if (::ftruncate(fd, static_cast<off_t>(record.size())) != 0) fail("ftruncate");
    record_lock(fd, F_UNLCK, F_SETLK);
}

// The shared counter of the contention benchmarks: a decimal number at offset 0 of its file,
// read, incremented and written back while the lock is held. It only grows, so no truncation.
inline long long read_counter(int fd)
{
    char buf[32];
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) fail("pread counter");
    buf[n] = '\0';
    return std::atoll(buf);
}
inline void write_counter(int fd, long long value)
{
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%lld\n", value);
    if (::pwrite(fd, buf, static_cast<std::size_t>(n), 0) != n) fail("pwrite counter");
}
inline void increment_counter(int fd) { write_counter(fd, read_counter(fd) + 1); }

// --- Other processes ---

// Peers are the tests' child processes (zc_test::child_process, test/support/process.hpp):
// spawned, connected by pipes, every read and wait bounded by its step_limit (20 s), so that a
// peer that hangs fails the benchmark instead of stalling it. Its errors are exceptions, which end
// the program.

// A peer that runs the uncontended cycle of another implementation (bench/peers/*): it says
// "ready", then for each line "N" runs N cycles and answers with the seconds they took. Killed
// when it is no longer needed (child_process's destructor).
class cycle_peer {
public:
    explicit cycle_peer(const std::vector<std::string>& argv) : process_(argv)
    {
        const std::string line = process_.read_line();
        if (line != "ready") fail(argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + " said: " + line);
    }
    double seconds_for(int cycles)
    {
        process_.write_line(std::to_string(cycles));
        const std::string line = process_.read_line();
        if (line.empty()) fail("a peer stopped answering");
        return std::atof(line.c_str());
    }

private:
    zc_test::child_process process_;
};

// Starts processes that each wait at the gate; open() lets them all go at once (by closing the
// pipes they read), and finish() waits for every one and says whether all exited with 0.
class start_gate {
public:
    start_gate()
    {
        if (::pipe2(gate_, O_CLOEXEC) != 0 || ::pipe2(ready_, O_CLOEXEC) != 0) fail("pipe");
    }
    ~start_gate()
    {
        for (int fd : {gate_[0], gate_[1], ready_[0], ready_[1]})
            if (fd >= 0) ::close(fd);
    }
    start_gate(const start_gate&) = delete;
    start_gate& operator=(const start_gate&) = delete;

    // A forked child running body() once it is let through; its exit status is body's result.
    void fork_child(const std::function<int()>& body)
    {
        const pid_t pid = ::fork();
        if (pid < 0) fail("fork");
        if (pid == 0) {
            ::close(gate_[1]);
            char c = 'r';
            if (::write(ready_[1], &c, 1) != 1) ::_exit(90);
            while (::read(gate_[0], &c, 1) < 0 && errno == EINTR) {
            }
            ::_exit(body());
        }
        children_.push_back(pid);
    }
    // A program whose stdin is the gate's (its own pipe, closed when the gate opens); it must print
    // "ready" when it is.
    void spawn(const std::vector<std::string>& argv)
    {
        peers_.push_back(std::make_unique<zc_test::child_process>(argv));
        if (peers_.back()->read_line() != "ready") fail(argv[0] + " did not start");
    }
    // Waits until every forked child is ready, then lets all of them go; returns the time.
    clock_type::time_point open()
    {
        for (std::size_t i = 0; i < children_.size(); ++i) {
            char c;
            if (::read(ready_[0], &c, 1) != 1) fail("a child did not start");
        }
        ::close(gate_[1]);
        gate_[1] = -1;
        for (auto& p : peers_) p->close_stdin();
        return clock_type::now();
    }
    bool finish()
    {
        bool ok = true;
        for (pid_t pid : children_) {
            int status = 0;
            while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        for (auto& p : peers_) ok = p->wait() == 0 && ok;
        return ok;
    }

private:
    int gate_[2];
    int ready_[2];
    std::vector<pid_t> children_;
    std::vector<std::unique_ptr<zc_test::child_process>> peers_;
};

} // namespace bench

#endif
