// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile: run a command while holding a lock file, or report on one. What flock(1) does,
// plus the record and stale detection that flock(1) lacks.
//
// The arguments are parsed by hand: the grammar is fixed and small, and its exit statuses and
// one-line hints must be exact; a general parser would add a library for a few dozen lines.

#include "cli.hpp"

#include <zc/lockfile.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

const char* const help_text =
    "usage: zc-lockfile run [--wait SECONDS|inf] [--shared] [--template TEMPLATE]\n"
    "                       [--conflict-exit-code N] PATH -- COMMAND [ARG...]\n"
    "       zc-lockfile status [--json] PATH\n"
    "       zc-lockfile --help | --version\n"
    "\n"
    "run     Lock PATH (creating it if needed), run COMMAND with the lock held, release it when\n"
    "        COMMAND ends, and exit with COMMAND's status (if signal N killed it, end by N too,\n"
    "        which shells report as 128+N; 127 if COMMAND cannot be found, 126 if it cannot run).\n"
    "        The lock file holds \" <pid>\\n\" (the TEMPLATE's expansion) while it is held.\n"
    "        --wait SECONDS   wait up to SECONDS (fractions allowed) for a busy lock, or for\n"
    "                         ever with 'inf'; the default is a single attempt\n"
    "        --shared         take a shared (reader) lock; it writes no record\n"
    "        --template T     the record: {pid}, {hostname}, {{ and }}; default {pid}\n"
    "        --conflict-exit-code N   exit status when the lock is busy (default 75)\n"
    "status  Report on PATH without taking the lock: who holds it (the kernel's word), the\n"
    "        record, whether its writer is alive, whether it is stale. Exit 0 when the lock is\n"
    "        free or PATH does not exist, 75 when it is held.\n"
    "        --json           one JSON object: path, exists, locked, holder_pid, recorded_pid,\n"
    "                         recorded_hostname, recorded_alive, stale\n"
    "-q      log errors only; -v log debug records too (logs go to stderr)\n"
    "\n"
    "Exit statuses: 64 usage error, 70 internal failure (run: fork failed, or how COMMAND\n"
    "ended cannot be learnt; never 0), 74 the lock file cannot be opened or created, 75 busy.\n"
    "Signals: doc/cli.adoc, \"Signals and exit status\".\n"
    "If zc-lockfile is killed, COMMAND is killed too (Linux: PR_SET_PDEATHSIG; Windows: a job\n"
    "object).\n";

bool parse_seconds(const std::string& text, std::chrono::nanoseconds& out)
{
    if (text == "inf" || text == "infinity") {
        out = zc::lockfile::wait_forever;
        return true;
    }
    if (text.empty() || text[0] == '-' || text[0] == '+' || std::isspace(static_cast<unsigned char>(text[0]))) return false;
    char* end = nullptr;
    errno = 0;
    const double seconds = std::strtod(text.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(seconds) || seconds < 0) return false;
    out = zc::lockfile::to_wait(std::chrono::duration<double>(seconds));
    return true;
}

bool parse_exit_code(const std::string& text, int& out)
{
    if (text.empty() || text.size() > 3) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    out = std::atoi(text.c_str());
    return out <= 255;
}

} // namespace

int main(int argc, char** argv)
{
    using namespace zc_cli;
    try {
        const std::vector<std::string> args = arguments(argc, argv);
        verbosity v = verbosity::normal;
        std::size_t i = 0;
        const auto take_verbosity = [&](const std::string& a) {
            if (a == "-q") v = verbosity::quiet;
            else if (a == "-v") v = verbosity::verbose;
            else return false;
            return true;
        };
        while (i < args.size() && take_verbosity(args[i])) ++i;
        if (i == args.size()) return usage_error("no command given");
        const std::string command = args[i++];
        if (command == "--help" || command == "-h") {
            std::cout << help_text;
            return exit_ok;
        }
        if (command == "--version") {
            std::cout << "zc-lockfile " << ZC_LOCKFILE_VERSION_STRING << "\n";
            return exit_ok;
        }
        if (command == "run") {
            run_args r;
            bool have_path = false;
            for (; i < args.size(); ++i) {
                const std::string& a = args[i];
                const auto value = [&](const char* what) -> const std::string* {
                    if (i + 1 >= args.size()) return nullptr;
                    (void)what;
                    return &args[++i];
                };
                if (take_verbosity(a)) continue;
                if (a == "--") {
                    r.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
                    break;
                }
                if (a == "--wait") {
                    const std::string* s = value("--wait");
                    if (s == nullptr || !parse_seconds(*s, r.wait))
                        return usage_error("--wait takes a number of seconds (fractions allowed) or 'inf'");
                } else if (a == "--shared") {
                    r.shared = true;
                } else if (a == "--template") {
                    const std::string* s = value("--template");
                    if (s == nullptr) return usage_error("--template takes a template such as '{pid}/{hostname}'");
                    r.content_template = *s;
                } else if (a == "--conflict-exit-code") {
                    const std::string* s = value("--conflict-exit-code");
                    if (s == nullptr || !parse_exit_code(*s, r.conflict_exit_code))
                        return usage_error("--conflict-exit-code takes a number from 0 to 255");
                } else if (a.size() > 1 && a[0] == '-') {
                    return usage_error("unknown option '" + a + "' for run");
                } else if (!have_path) {
                    r.path = a;
                    have_path = true;
                } else {
                    return usage_error("run takes one PATH, then '--' and the command");
                }
            }
            if (!have_path) return usage_error("run needs a PATH");
            if (r.command.empty()) return usage_error("run needs '--' and a command after PATH");
            setup_logging(v);
            return run(r);
        }
        if (command == "status") {
            status_args s;
            bool have_path = false;
            for (; i < args.size(); ++i) {
                const std::string& a = args[i];
                if (take_verbosity(a)) continue;
                if (a == "--json") s.json = true;
                else if (a.size() > 1 && a[0] == '-') return usage_error("unknown option '" + a + "' for status");
                else if (!have_path) {
                    s.path = a;
                    have_path = true;
                } else return usage_error("status takes one PATH");
            }
            if (!have_path) return usage_error("status needs a PATH");
            setup_logging(v);
            return status(s);
        }
        return usage_error("unknown command '" + command + "'");
    } catch (const std::exception& e) {
        std::cerr << "zc-lockfile: " << e.what() << "\n";
        return exit_software;
    }
}
