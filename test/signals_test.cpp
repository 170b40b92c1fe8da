// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// zc-lockfile run as a supervisor (issue 13): what reaches COMMAND, and the status it reports,
// under the real things: a parent that ignores SIGCHLD, nohup, setsid, a pseudo-terminal that
// hangs up or sends Ctrl-C. The cases run in test/helper/signal_cases.py, which doc/cli.adoc's
// comparison with flock(1) and timeout(1) was made with; the races are made to happen every time
// by test/helper/signal_shim.c.
#define BOOST_TEST_MODULE signals
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include <map>
#include <sstream>

using namespace zc_test;

namespace {

// Runs a case of signal_cases.py against `zc-lockfile run PATH --`: its "key=value" results.
std::map<std::string, std::string> run_case(const std::string& name, const std::string& path)
{
    child_process p({python3(), helper_arg("signal_cases.py"), name, zc_lockfile_command(), "run", path, "--"}, true);
    const std::vector<std::string> lines = p.read_all_lines();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    BOOST_TEST_REQUIRE(p.exit_code() == 0, all);
    BOOST_TEST_REQUIRE(!lines.empty());
    std::map<std::string, std::string> results;
    std::istringstream words(lines.back());
    for (std::string word; words >> word;) {
        const auto eq = word.find('=');
        if (eq != std::string::npos) results[word.substr(0, eq)] = word.substr(eq + 1);
    }
    BOOST_TEST_MESSAGE(name << ": " << lines.back());
    return results;
}

// zc-lockfile run PATH -- COMMAND... under signal_shim.c with the given settings: its exit code
// and output.
std::pair<int, std::string> run_shimmed(const std::vector<std::string>& settings, const std::vector<std::string>& run_args)
{
    std::vector<std::string> argv{"env", "LD_PRELOAD=" + preloadable("libsignal_shim.so")};
    argv.insert(argv.end(), settings.begin(), settings.end());
    argv.push_back(zc_lockfile_command());
    argv.insert(argv.end(), run_args.begin(), run_args.end());
    child_process p(argv, true);
    std::string out;
    for (const auto& l : p.read_all_lines()) out += l + "\n";
    return {p.exit_code(), out};
}

} // namespace

// Item 1: an ignored SIGCHLD is inherited across exec; the kernel would then reap COMMAND by
// itself, and its status would be lost.
BOOST_AUTO_TEST_CASE(a_parent_that_ignores_sigchld_still_gets_the_commands_status)
{
    temp_dir dir;
    BOOST_TEST(run_case("sigchld-ignored", dir / "lock")["status"] == "3");
}

BOOST_AUTO_TEST_CASE(a_status_that_cannot_be_learnt_is_70_never_0)
{
    temp_dir dir;
    const auto r = run_shimmed({"ZC_SIGNAL_SHIM_ECHILD=1"}, {"run", dir / "lock", "--", "sh", "-c", "exit 3"});
    BOOST_TEST(r.first == 70, r.second);
    BOOST_TEST(r.second.find("zc-lockfile: cannot learn how sh ended: No child processes") != std::string::npos, r.second);
}

// Item 2: a signal ignored when zc-lockfile starts stays ignored, for it and for COMMAND.
BOOST_AUTO_TEST_CASE(under_nohup_the_command_survives_the_terminals_hangup)
{
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    auto r = run_case("nohup-hangup", dir / "lock");
    BOOST_TEST(r["survived"] == "1");
    BOOST_TEST(r["status"] == "0");
}

// Without nohup, zc-lockfile leads the session on the terminal, and the kernel sends the hangup's
// SIGHUP to it alone: it is forwarded.
BOOST_AUTO_TEST_CASE(the_terminals_hangup_reaches_the_command_when_zc_lockfile_leads_the_session)
{
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    auto r = run_case("hangup", dir / "lock");
    BOOST_TEST(r["survived"] == "0");
    BOOST_TEST(r["status"] == "129");
}

// Item 3: the terminal sends Ctrl-C's SIGINT to the foreground process group, COMMAND included;
// zc-lockfile does not send a second one.
BOOST_AUTO_TEST_CASE(ctrl_c_on_a_terminal_reaches_the_command_once)
{
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    auto r = run_case("ctrl-c", dir / "lock");
    BOOST_TEST(r["ints"] == "1");
    BOOST_TEST(r["codes"] == "128");  // SI_KERNEL: the terminal's, not a forwarded copy (SI_USER, 0)
    BOOST_TEST(r["status"] == "0");   // then SIGTERM, sent to zc-lockfile alone, was forwarded
}

// Found by the attack on issue 13: COMMAND dying of Ctrl-C's SIGINT must end the script that ran
// zc-lockfile, as it does without the wrapper: bash goes on after a child that exited 130, and
// stops only when its child died of SIGINT, so zc-lockfile ends by the signal that ended COMMAND.
BOOST_AUTO_TEST_CASE(ctrl_c_stops_the_script_that_runs_zc_lockfile)
{
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    auto r = run_case("ctrl-c-script", dir / "lock");
    BOOST_TEST(r["step2"] == "0");
    BOOST_TEST(r["status"] == "130");
    BOOST_TEST(probe_fcntl(dir / "lock") == probe_acquired);
}

// Found by the attack: a signal the parent blocked (and had pending) is the parent's: COMMAND is
// started with the mask it inherited, as under env(1) or flock(1).
BOOST_AUTO_TEST_CASE(a_signal_the_parent_blocked_does_not_stop_the_command)
{
    temp_dir dir;
    auto r = run_case("blocked-pending", dir / "lock");
    BOOST_TEST(r["ran"] == "1");
    BOOST_TEST(r["status"] == "0");
}

// Found by the attack: SIGTERM forwarded to a stopped COMMAND is followed by SIGCONT (as
// timeout(1) does), or zc-lockfile would wait for ever.
BOOST_AUTO_TEST_CASE(sigterm_ends_a_stopped_command)
{
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    auto r = run_case("stopped-term", dir / "lock");
    BOOST_TEST(r["status"] == "143");
}

// Found by the attack: SIGUSR1 (and SIGUSR2) are forwarded, not left to end zc-lockfile.
BOOST_AUTO_TEST_CASE(sigusr1_is_forwarded_to_the_command)
{
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    auto r = run_case("usr1", dir / "lock");
    BOOST_TEST(r["got"] == "1");
    BOOST_TEST(r["status"] == "0");
}

// Item 4: a signal that comes once the lock is held but before COMMAND starts: COMMAND is not
// started, the lock and its record are released, and the status is 128+N.
BOOST_AUTO_TEST_CASE(a_signal_between_the_lock_and_the_command_leaves_no_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    const auto r = run_shimmed({"ZC_SIGNAL_SHIM_RECORD=" + path}, {"run", path, "--", "echo", "ran"});
    BOOST_TEST(r.first == 128 + SIGTERM, r.second);
    BOOST_TEST(r.second.find("ran") == std::string::npos, r.second);
    const std::string record = read_file(path);
    BOOST_TEST((record.find_first_not_of(' ') == record.size() - 1 && record.back() == '\n'), "record left: '" << record << "'");
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}

// Item 4: a signal that comes as COMMAND is reaped must not be sent to its pid, which may belong
// to another process by then. zc-lockfile exits with COMMAND's status.
BOOST_AUTO_TEST_CASE(a_signal_as_the_command_is_reaped_is_not_sent_to_its_pid)
{
    temp_dir dir;
    const std::string log = dir / "kills";
    const auto r = run_shimmed({"ZC_SIGNAL_SHIM_REAP=1", "ZC_SIGNAL_SHIM_LOG=" + log}, {"run", dir / "lock", "--", "sh", "-c", "exit 5"});
    BOOST_TEST(r.first == 5, r.second);
    BOOST_TEST(read_file(log) == "");
}
