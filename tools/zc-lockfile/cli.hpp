// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The zc-lockfile command: what its parts share.
#ifndef ZC_LOCKFILE_TOOLS_CLI_HPP
#define ZC_LOCKFILE_TOOLS_CLI_HPP

#include <chrono>
#include <string>
#include <vector>

namespace zc_cli {

// Exit statuses, from sysexits.h where one fits.
constexpr int exit_ok = 0;
constexpr int exit_usage = 64;     // EX_USAGE
constexpr int exit_io = 74;        // EX_IOERR: the lock file cannot be opened or created
constexpr int exit_busy = 75;      // EX_TEMPFAIL: the lock is held
constexpr int exit_software = 70;  // EX_SOFTWARE: an unexpected internal failure

struct run_args {
    std::string path;
    std::vector<std::string> command;
    std::chrono::nanoseconds wait{0};
    bool shared = false;
    std::string content_template = "{pid}";
    int conflict_exit_code = exit_busy;
};

struct status_args {
    std::string path;
    bool json = false;
};

enum class verbosity { quiet, normal, verbose };

// Installs the command's Boost.Log console sink on stderr: "zc-lockfile: SEVERITY message".
void setup_logging(verbosity v);

int run(const run_args& args);
// Platform code (command_posix.cpp, command_windows.cpp); doc/cli.adoc, "Signals and exit status",
// has the rules. prepare_signals: what an interrupt does before COMMAND starts (zc-lockfile ends,
// as killed by it) and while it runs (COMMAND decides); signals ignored when zc-lockfile started
// stay ignored. hold_signals: from now on a signal waits (POSIX: it is blocked) until run_command
// knows what to do with it. run_command: runs COMMAND, which dies if zc-lockfile does, and returns
// its exit status (128 + N for a POSIX signal N; 127 when it cannot be found, 126 when it cannot
// be run; 70 when how it ended cannot be learnt, never 0); or 128 + N without starting COMMAND
// when signal N came while the lock was held and COMMAND had not started.
void prepare_signals();
void hold_signals();
// After the lock is released: when a signal N ended COMMAND (or came before it started), ends
// zc-lockfile by the same signal, with no core dump, so that its parent sees a death by N (a shell
// stops a script at a Ctrl-C only then); otherwise returns. POSIX only: a no-op on Windows.
void end_as_command();
// The arguments after the program's name, as UTF-8 on Windows too: there, from the wide command
// line (argv holds them in the ANSI code page, which cannot hold every path); see narrow() in
// command_line.hpp.
std::vector<std::string> arguments(int argc, char** argv);
int run_command(const std::vector<std::string>& command);
int status(const status_args& args);

// Prints "zc-lockfile: <problem>; try 'zc-lockfile --help'" and returns exit_usage.
int usage_error(const std::string& problem);

} // namespace zc_cli

#endif
