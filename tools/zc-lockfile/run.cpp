// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile run: lock, run COMMAND with the lock held, release, exit with COMMAND's status.
// Starting and waiting for COMMAND is platform code: command_posix.cpp, command_windows.cpp.

#include "cli.hpp"

#include <zc/lockfile.hpp>

#include <iostream>
#include <memory>

namespace zc_cli {

int run(const run_args& args)
{
    prepare_signals();
    zc::lockfile::options opts;
    opts.wait = args.wait;
    opts.shared = args.shared;
    // A single attempt does not block: a signal during it waits until the lock is taken or
    // refused, and no record can be left behind. A wait must stay interruptible: a signal during
    // it ends zc-lockfile at once; only one that comes between the kernel's grant and the
    // constructor's return (the record's write) can leave a record behind.
    if (args.wait == std::chrono::nanoseconds::zero()) hold_signals();
    std::unique_ptr<zc::lockfile::SimpleLockFile> lock;
    try {
        lock = std::make_unique<zc::lockfile::LockFile>(args.path, args.content_template, opts);
    } catch (const zc::lockfile::LockError&) {
        return args.conflict_exit_code;  // the library logged the error record
    } catch (const boost::system::system_error& e) {
        std::cerr << "zc-lockfile: " << e.what() << "\n";
        return e.code() == zc::lockfile::error::invalid_template ? exit_usage : exit_io;
    }
    const int status = run_command(args.command);
    lock->close();
    end_as_command();
    return status;
}

} // namespace zc_cli
