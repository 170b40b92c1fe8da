// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The main job in one run: two processes contend for one lock file, the loser's error record,
// what inspect() tells about the holder, stale detection after the holder is killed, and the
// file left behind.
//
//   demo [PATH]        (default: ./demo.lock)

#include <zc/lockfile.hpp>

#include <boost/log/expressions.hpp>
#include <boost/log/trivial.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace zl = zc::lockfile;
namespace expr = boost::log::expressions;

namespace {

void show_file(const std::string& path)
{
    std::FILE* f = std::fopen(path.c_str(), "rb");
    std::string bytes;
    for (int c; f != nullptr && (c = std::fgetc(f)) != EOF;) bytes += static_cast<char>(c);
    if (f != nullptr) std::fclose(f);
    std::string shown;
    for (char c : bytes) shown += c == '\n' ? std::string("\\n") : std::string(1, c);
    std::cout << "   file now holds \"" << shown << "\" (" << bytes.size() << " bytes)\n";
}

void show_inspect(const std::string& path)
{
    const zl::lock_info info = zl::inspect(path);
    std::cout << "   inspect: locked=" << info.locked << " holder_pid=" << info.holder_pid
              << " recorded_pid=" << info.recorded_pid << " stale=" << info.stale << "\n";
}

} // namespace

int main(int argc, char** argv)
{
    const std::string path = argc > 1 ? argv[1] : "demo.lock";
    // The application's sink: the library only emits records on channel zc.lockfile.
    boost::log::add_console_log(std::cout, boost::log::keywords::format =
                                               (expr::stream << "   LOG [" << boost::log::trivial::severity << "] "
                                                             << expr::attr<std::string>("Channel") << ": "
                                                             << expr::smessage),
                                boost::log::keywords::auto_flush = true);

    int ready[2], done[2];
    if (::pipe(ready) != 0 || ::pipe(done) != 0) return 1;
    std::cout << "1. process " << ::getpid() << " starts a holder process\n" << std::flush;
    const pid_t holder = ::fork();
    if (holder == 0) {
        zl::LockFile lock(path);
        char c = 'y';
        (void)!::write(ready[1], &c, 1);
        (void)!::read(done[0], &c, 1);  // hold until killed
        return 0;
    }
    char c;
    if (::read(ready[0], &c, 1) != 1) return 1;
    std::cout << "   holder " << holder << " has the lock\n";
    show_file(path);

    std::cout << "2. process " << ::getpid() << " tries the same lock file\n" << std::flush;
    try {
        zl::LockFile lock(path);
        std::cout << "   unexpectedly got the lock\n";
        return 1;
    } catch (const zl::LockError& e) {
        std::cout << "   LockError: " << e.what() << "\n";
    }
    show_inspect(path);

    std::cout << "3. the holder is killed with SIGKILL: it never releases, its record survives\n" << std::flush;
    ::kill(holder, SIGKILL);
    ::waitpid(holder, nullptr, 0);
    show_file(path);
    show_inspect(path);

    std::cout << "4. process " << ::getpid() << " locks again: the kernel freed the lock; the stale record is reported\n"
              << std::flush;
    {
        zl::LockFile lock(path);
        show_file(path);
        std::cout << "5. close(): the record is blanked while still locked, and the file is left behind\n";
    }
    show_file(path);
    show_inspect(path);
    return 0;
}
