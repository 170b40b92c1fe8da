// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The library in another process, driven by a test through stdin/stdout.
//
//   lock_helper lock|simple|shared PATH [TEMPLATE]
// prints "locked <pid>" (then obeys commands), or "busy" (exit 3), or "error <what>" (exit 4).
// Commands, one per line: "close" (prints "closed"), "spawn" (starts /bin/sleep 600, prints its
// pid), "fork-exit" (a forked child destroys its copy and exits; prints "forked <status>"),
// "unlock" (prints "unlocked"), "relock" (one try_lock(): prints "relocked" or "busy"),
// "fork-relock" (a forked child tries its copy once, prints "child locked <pid>" or "child busy
// <pid>", and keeps what it got until "end-child", which prints "child ended").
// At end of input the lock is released by the destructor.
//
//   lock_helper exit CODE | echo TEXT | echo-wait TEXT
// takes no lock: a COMMAND for zc-lockfile run on every platform (Windows has no sh). exit
// exits with CODE; echo prints TEXT; echo-wait prints TEXT, waits for a line of input or its end,
// and exits 0.

#include <zc/lockfile.hpp>

#include "../support/log_capture.hpp"

#include <iostream>
#include <memory>
#include <string>

#if defined(_WIN32)
#include <process.h>
#define getpid _getpid
#else
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer needs /proc at exit, and ASan reads ASAN_OPTIONS through /proc: in the test that
// runs this helper without /proc, only a built-in default can turn the leak check off.
extern "C" __attribute__((visibility("default"))) const char* __asan_default_options() { return ::access("/proc/self", F_OK) == 0 ? "" : "detect_leaks=0"; }
#endif

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::cerr << "usage: lock_helper lock|simple|shared PATH [TEMPLATE]\n"
                     "       lock_helper exit CODE | echo TEXT | echo-wait TEXT\n";
        return 2;
    }
    const std::string mode = argv[1];
    if (mode == "exit") return std::stoi(argv[2]);
    if (mode == "echo" || mode == "echo-wait") {
        std::cout << argv[2] << std::endl;
        std::string line;
        if (mode == "echo-wait") std::getline(std::cin, line);
        return 0;
    }
    // Boost.Log's default sink would write the library's records to stdout, which is how this
    // helper talks to the test: send them to stderr instead.
    class to_stderr : public boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
    public:
        void consume(const boost::log::record_view& rec)
        {
            if (auto m = boost::log::extract<std::string>("Message", rec)) std::cerr << "lock_helper log: " << *m << std::endl;
        }
    };
    boost::log::core::get()->add_sink(
        boost::make_shared<boost::log::sinks::synchronous_sink<to_stderr>>(boost::make_shared<to_stderr>()));

    std::unique_ptr<zc::lockfile::SimpleLockFile> lock;
    try {
        zc::lockfile::options shared;
        shared.shared = true;
        if (mode == "simple")
            lock = std::make_unique<zc::lockfile::SimpleLockFile>(argv[2]);
        else if (mode == "shared")
            lock = std::make_unique<zc::lockfile::SimpleLockFile>(argv[2], shared);
        else
            lock = std::make_unique<zc::lockfile::LockFile>(argv[2], argc > 3 ? argv[3] : "{pid}");
    } catch (const zc::lockfile::LockError&) {
        std::cout << "busy" << std::endl;
        return 3;
    } catch (const std::exception& e) {
        std::cout << "error " << e.what() << std::endl;
        return 4;
    }
    std::cout << "locked " << getpid() << std::endl;
    std::string command;
#if !defined(_WIN32)
    pid_t relocker = -1;
    int end_relocker = -1;
#endif
    while (std::getline(std::cin, command)) {
        if (command == "close") {
            lock->close();
            std::cout << "closed" << std::endl;
        } else if (command == "unlock") {
            lock->unlock();
            std::cout << "unlocked" << std::endl;
        } else if (command == "relock") {
            std::cout << (lock->try_lock() ? "relocked" : "busy") << std::endl;
#if !defined(_WIN32)
        } else if (command == "spawn") {
            pid_t child = 0;
            char sleep_path[] = "/bin/sleep";
            char seconds[] = "600";
            char* args[] = {sleep_path, seconds, nullptr};
            if (::posix_spawn(&child, sleep_path, nullptr, nullptr, args, environ) != 0) return 5;
            std::cout << child << std::endl;
        } else if (command == "fork-exit") {
            const pid_t child = ::fork();
            if (child == 0) {
                lock.reset();  // the child's copy: closes, must not unlock the parent's lock
                ::_exit(0);
            }
            int status = 0;
            ::waitpid(child, &status, 0);
            std::cout << "forked " << status << std::endl;
        } else if (command == "fork-relock") {
            int said[2], end[2];
            if (::pipe(said) != 0 || ::pipe(end) != 0) return 5;
            relocker = ::fork();
            if (relocker == 0) {
                ::close(end[1]);  // its end of input comes from the parent's copy alone
                const char result = lock->try_lock() ? 'L' : 'B';
                (void)!::write(said[1], &result, 1);
                char c;
                (void)!::read(end[0], &c, 1);
                lock.reset();
                ::_exit(0);
            }
            char result = '?';
            (void)!::read(said[0], &result, 1);
            end_relocker = end[1];
            ::close(said[0]);
            ::close(said[1]);
            ::close(end[0]);
            std::cout << (result == 'L' ? "child locked " : "child busy ") << relocker << std::endl;
        } else if (command == "end-child") {
            ::close(end_relocker);
            int status = 0;
            ::waitpid(relocker, &status, 0);
            std::cout << "child ended" << std::endl;
#endif
        }
    }
    return 0;
}
