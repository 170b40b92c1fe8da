// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The tutorial (doc/tutorial.adoc includes its parts): the seed's story, then waiting, shared
// locks and std::unique_lock.
//
//   tutorial [DIR]     (default: the current directory)

// tag::includes[]
#include <zc/lockfile.hpp>

#include <boost/log/expressions.hpp>
#include <boost/log/trivial.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
// end::includes[]

int main(int argc, char** argv)
{
    const std::string dir = argc > 1 ? argv[1] : ".";
    const std::string path = dir + "/tutorial.lock";

    // tag::sink[]
    // The library only emits records (channel "zc.lockfile"); the application chooses the sink.
    boost::log::add_console_log(std::cout, boost::log::keywords::format = boost::log::expressions::stream
                                               << "LOG " << boost::log::trivial::severity << ": "
                                               << boost::log::expressions::smessage);
    // end::sink[]

    // tag::lock[]
    zc::lockfile::LockFile lock(path);  // creates the file if needed, locks it, writes " <pid>\n"
    std::cout << "locked " << lock.path() << "; it holds: " << lock.read_contents();
    // end::lock[]

    // tag::fail[]
    try {
        zc::lockfile::LockFile again(path);  // the same file, in this process or another one
    } catch (const zc::lockfile::LockError& e) {
        std::cout << "second attempt: " << e.what() << "\n";  // after one LOG error record
    }
    // end::fail[]

    // tag::inspect[]
    const zc::lockfile::lock_info info = zc::lockfile::inspect(path);  // never takes the lock
    std::cout << "locked=" << info.locked << " holder_pid=" << info.holder_pid
              << " recorded_pid=" << info.recorded_pid << "\n";
    // end::inspect[]

    // tag::close[]
    lock.close();  // blanks the record, releases the lock; the file stays
    std::ifstream left_behind(path);
    std::cout << "after close the file " << (left_behind ? "is still there" : "is gone") << "\n";
    // end::close[]
    if (!left_behind || info.recorded_pid == 0 || !info.locked) return 1;

    // tag::wait[]
    zc::lockfile::options wait_up_to_2s;
    wait_up_to_2s.wait = std::chrono::seconds(2);  // or zc::lockfile::wait_forever
    zc::lockfile::LockFile patient(path, "{pid}/{hostname}", wait_up_to_2s);
    patient.unlock();

    zc::lockfile::SimpleLockFile file(path, std::defer_lock);  // TimedLockable
    if (std::unique_lock<zc::lockfile::SimpleLockFile> guard{file, std::chrono::milliseconds(100)})
        std::cout << "locked through std::unique_lock\n";
    // end::wait[]

    // tag::shared[]
    zc::lockfile::options shared;
    shared.shared = true;
    zc::lockfile::SimpleLockFile reader1(path, shared), reader2(path, shared);  // both hold it
    std::cout << "two shared holders: " << reader1.is_shared() << reader2.is_shared() << "\n";
    // end::shared[]
    return 0;
}
