// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The zc-lockfile command, across real processes.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"
#if !defined(_WIN32)
#include "support/mounts.hpp"
#include "support/times.hpp"
#endif

#include <zc/lockfile.hpp>

#include <algorithm>
#include <csignal>

#if !defined(_WIN32)
#include <sys/prctl.h>
#include <sys/wait.h>
#endif

namespace zl = zc::lockfile;
using namespace zc_test;

namespace {

std::vector<std::string> cli(std::vector<std::string> args)
{
    args.insert(args.begin(), zc_lockfile_command());
    return args;
}

// Runs the command to its end: its exit code and every line of stdout and stderr.
struct outcome {
    int code;
    std::vector<std::string> lines;
    std::size_t count_containing(const std::string& text) const
    {
        return static_cast<std::size_t>(
            std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; }));
    }
    std::string all() const
    {
        std::string s;
        for (const auto& l : lines) s += l + "\n";
        return s;
    }
};

outcome run_to_end(const std::vector<std::string>& args)
{
    child_process p(cli(args), true);
    p.close_stdin();  // no input: a COMMAND that reads gets its end
    outcome o;
    o.lines = p.read_all_lines();
    o.code = p.exit_code();
    return o;
}

// COMMANDs for zc-lockfile run: the shell's on POSIX; on Windows, which has no sh, the suite's
// lock_helper in a mode that takes no lock (test/helper/lock_helper.cpp).
std::vector<std::string> run_then(std::vector<std::string> args, const std::vector<std::string>& command)
{
    args.insert(args.end(), command.begin(), command.end());
    return args;
}
// Exits with 0: true(1).
std::vector<std::string> command_succeeding()
{
    if (on_windows) return {lock_helper(), "exit", "0"};
    return {"true"};
}
// Prints text: echo(1).
std::vector<std::string> command_echoing(const std::string& text)
{
    if (on_windows) return {lock_helper(), "echo", text};
    return {"echo", text};
}
// Prints text, then waits for a line of input.
std::vector<std::string> command_echoing_then_reading(const std::string& text)
{
    if (on_windows) return {lock_helper(), "echo-wait", text};
    return {"sh", "-c", "echo " + text + "; read line"};
}
// A peer that holds the lock with the Python original's protocol on this platform: flock(1) (the
// flock that Python's zc.lockfile takes) on POSIX, msvcrt.locking on byte 0 on Windows.
std::vector<std::string> python_protocol_holder(const std::string& path)
{
#if defined(_WIN32)
    return {msvcrt_peer(), path};
#else
    return {"flock", "-n", path, "-c", "echo locked; read line || true"};
#endif
}

#if !defined(_WIN32)
// Orphaned grandchildren (COMMAND, once its zc-lockfile dies) are reparented to this process,
// so the test can reap them and see how they ended.
struct subreaper {
    subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
};

int wait_for_exit(pid_t pid)
{
    const auto deadline = std::chrono::steady_clock::now() + step_limit;
    for (;;) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("process did not end");
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}
#endif

} // namespace

BOOST_AUTO_TEST_CASE(run_exits_with_the_commands_status, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: its COMMANDs are sh scripts, some killed by signals (windows_test's cli_run_holds_the_lock_while_command_runs_and_passes_its_exit_code checks the exit codes there)"))
{
#if !defined(_WIN32)
    temp_dir dir;
    BOOST_TEST(run_to_end({"run", dir / "lock", "--", "sh", "-c", "exit 7"}).code == 7);
    BOOST_TEST(run_to_end({"run", dir / "lock", "--", "true"}).code == 0);
    BOOST_TEST(run_to_end({"run", dir / "lock", "--", "sh", "-c", "kill -9 $$"}).code == 128 + SIGKILL);
    BOOST_TEST(run_to_end({"run", dir / "lock", "--", "sh", "-c", "kill -TERM $$"}).code == 128 + SIGTERM);
    const outcome missing = run_to_end({"run", dir / "lock", "--", "/no/such/program"});
    BOOST_TEST(missing.code == 127);
    BOOST_TEST(missing.count_containing("cannot run /no/such/program") == 1u);
    BOOST_TEST(probe_fcntl(dir / "lock") == probe_acquired);  // released every time
#endif
}

BOOST_AUTO_TEST_CASE(run_holds_the_lock_and_its_record_while_the_command_runs)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process run(cli(run_then({"run", path, "--"}, command_echoing_then_reading("ready"))));
    BOOST_REQUIRE(run.read_line() == "ready");
    BOOST_TEST(read_held_file(path) == (" " + std::to_string(run.pid()) + "\n").substr(first_readable_byte));
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    run.write_line("done");
    BOOST_TEST(run.exit_code() == 0);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    BOOST_TEST(read_file(path) == std::string(std::to_string(run.pid()).size() + 1, ' ') + "\n");
}

BOOST_AUTO_TEST_CASE(the_command_inherits_no_lock_descriptor, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it lists COMMAND's descriptors in /proc"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    const outcome o = run_to_end({"run", path, "--", "sh", "-c", "for f in /proc/$$/fd/*; do readlink $f; done; true"});
    BOOST_TEST(o.code == 0);
    BOOST_TEST(o.count_containing("pipe:") > 0u);
    BOOST_TEST(o.count_containing(path) == 0u, o.all());
#endif
}

BOOST_AUTO_TEST_CASE(a_busy_lock_prints_one_error_record_and_exits_75_or_the_chosen_code)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    holder h({lock_helper(), "lock", path});
    const std::string record = "ERROR Error locking file " + path + "; pid=" + std::to_string(h.pid());
    outcome o = run_to_end({"run", path, "--", "echo", "ran"});
    BOOST_TEST(o.code == 75);
    BOOST_TEST(o.count_containing(record) == 1u, o.all());
    BOOST_TEST(o.count_containing("ran") == 0u);
    o = run_to_end({"run", "--conflict-exit-code", "9", path, "--", "true"});
    BOOST_TEST(o.code == 9);
    BOOST_TEST(o.count_containing(record) == 1u);
    o = run_to_end({"-q", "run", "--wait", "0.2", path, "--", "true"});
    BOOST_TEST(o.code == 75);
    BOOST_TEST(o.lines.size() == 1u, o.all());  // one record for the whole failed wait
    BOOST_TEST(o.count_containing(record) == 1u);
}

BOOST_AUTO_TEST_CASE(run_waits_for_the_lock_timed_or_for_ever)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    for (const char* wait : {"20", "0.5e2", "inf"}) {
        BOOST_TEST_CONTEXT("--wait " << wait)
        {
            holder h(python_protocol_holder(path));
            child_process run(cli(run_then({"-v", "run", "--wait", wait, path, "--"}, command_echoing("acquired"))), true);
            run.read_until("zc-lockfile: DEBUG Waiting for lock file " + path);
            h.release();
            BOOST_TEST(run.read_until("acquired") == "acquired");
            BOOST_TEST(run.exit_code() == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(shared_runs_overlap_and_exclude_exclusive_ones)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process a(cli(run_then({"run", "--shared", path, "--"}, command_echoing_then_reading("in"))));
    child_process b(cli(run_then({"run", "--shared", path, "--"}, command_echoing_then_reading("in"))));
    BOOST_REQUIRE(a.read_line() == "in");
    BOOST_REQUIRE(b.read_line() == "in");
    BOOST_TEST(read_file(path).empty());  // shared holders write no record
    BOOST_TEST(run_to_end({"run", path, "--", "true"}).code == 75);
    a.write_line("x");
    BOOST_TEST(a.exit_code() == 0);
    BOOST_TEST(run_to_end({"run", path, "--", "true"}).code == 75);
    b.write_line("x");
    BOOST_TEST(b.exit_code() == 0);
    BOOST_TEST(run_to_end(run_then({"run", path, "--"}, command_succeeding())).code == 0);
}

BOOST_AUTO_TEST_CASE(run_killed_while_waiting_takes_nothing_with_it, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: Windows has no signals"))
{
#if !defined(_WIN32)
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    const std::string path = dir / "lock";
    for (int sig : {SIGKILL, SIGTERM, SIGINT}) {
        BOOST_TEST_CONTEXT("signal " << sig)
        {
            holder h({lock_helper(), "lock", path});
            child_process run(cli({"-v", "run", "--wait", "inf", path, "--", "echo", "ran"}), true);
            run.read_until("zc-lockfile: DEBUG Waiting for lock file");
            run.kill(sig);
            BOOST_TEST(run.exit_code() == 128 + sig);
            h.release();
            h.process().wait();
            BOOST_TEST(probe_flock(path) == probe_acquired);
            BOOST_TEST(probe_fcntl(path) == probe_acquired);
        }
    }
#endif
}

BOOST_AUTO_TEST_CASE(the_command_dies_with_a_run_killed_by_sigkill, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: SIGKILL and PR_SET_CHILD_SUBREAPER (windows_test's cli_run_killed_kills_its_command checks the job object that does this there)"))
{
#if !defined(_WIN32)
    subreaper reaper;
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process run(cli({"run", path, "--", "sh", "-c", "echo $$; exec sleep 600"}));
    const pid_t command = std::stoi(run.read_line());
    run.kill(SIGKILL);
    BOOST_TEST(run.exit_code() == 128 + SIGKILL);
    BOOST_TEST(wait_for_exit(command) == 128 + SIGKILL);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
#endif
}

BOOST_AUTO_TEST_CASE(signals_are_forwarded_to_the_command, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: Windows has no signals"))
{
#if !defined(_WIN32)
    if (signals_postponed_by_tsan()) return;
    temp_dir dir;
    const std::string path = dir / "lock";
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        BOOST_TEST_CONTEXT("signal " << sig)
        {
            child_process run(cli({"run", path, "--", "sh", "-c", "echo ready; exec sleep 600"}));
            BOOST_REQUIRE(run.read_line() == "ready");
            run.kill(sig);
            BOOST_TEST(run.exit_code() == 128 + sig);  // how COMMAND ended
            BOOST_TEST(probe_fcntl(path) == probe_acquired);
        }
    }
#endif
}

BOOST_AUTO_TEST_CASE(status_names_the_kernels_holder_for_every_peer, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: Windows cannot name a byte-range lock's holder, and the peers are POSIX programs (flock(1), Python with flock, a file_lock holder)"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, "");
    const std::vector<std::vector<std::string>> peers = {
        {lock_helper(), "lock", path},
        {"flock", "-n", path, "-c", "echo locked; read line || true"},
        {python3(), "-c", python_peer_script(), path},
        {boost_peer(), path},
    };
    for (const auto& argv : peers) {
        BOOST_TEST_CONTEXT(argv[0])
        {
            holder h(argv);
            const outcome o = run_to_end({"status", "--json", path});
            BOOST_TEST(o.code == 75);
            BOOST_REQUIRE(o.lines.size() == 1u);
            const std::string& json = o.lines[0];
            BOOST_TEST(json.find("\"locked\": true") != std::string::npos, json);
            // Under the NFS emulation a flock peer holds an OFD lock, whose owner the kernel
            // cannot name: status says so instead.
            const bool unnamed = flock_emulated_as_ofd() && (argv[0] == "flock" || argv[0] == python3());
            const std::string holder = unnamed ? "\"holder_pid\": null," : "\"holder_pid\": " + std::to_string(h.pid()) + ",";
            BOOST_TEST(json.find(holder) != std::string::npos, json);
            const outcome human = run_to_end({"status", path});
            BOOST_TEST(human.code == 75);
            const std::string says = unnamed ? "locked (OFD lock)" : "held by pid " + std::to_string(h.pid());
            BOOST_TEST(human.count_containing(says) == 1u, human.all());
        }
    }
#endif
}

BOOST_AUTO_TEST_CASE(status_json_has_every_key)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    outcome o = run_to_end({"status", "--json", path});
    BOOST_TEST(o.code == 0);
    BOOST_TEST(o.all() == "{\"path\": \"" + path +
                              "\", \"exists\": false, \"locked\": false, \"holder_pid\": null, \"recorded_pid\": null, "
                              "\"recorded_hostname\": null, \"recorded_alive\": null, \"stale\": false}\n");
    child_process holder_process({lock_helper(), "lock", path, "{pid}/{hostname}"});
    BOOST_REQUIRE(holder_process.read_line().rfind("locked", 0) == 0);
    const std::string pid = std::to_string(holder_process.pid());
    holder_process.terminate();  // as SIGKILL does on POSIX
    o = run_to_end({"status", "--json", path});
    BOOST_TEST(o.code == 0);
    const std::string host = host_name();
    BOOST_TEST(o.all() == "{\"path\": \"" + path + "\", \"exists\": true, \"locked\": false, \"holder_pid\": null, \"recorded_pid\": " +
                              pid + ", \"recorded_hostname\": \"" + host + "\", \"recorded_alive\": false, \"stale\": true}\n");
    write_file(path, " 12/elsewhere\n");
    o = run_to_end({"status", "--json", path});
    BOOST_TEST(o.all().find("\"recorded_hostname\": \"elsewhere\", \"recorded_alive\": null, \"stale\": false") != std::string::npos,
               o.all());
}

BOOST_AUTO_TEST_CASE(status_never_takes_the_lock, *boost::unit_test::precondition(not_under_wine{
                                                    "Wine does not enforce byte-range locks on reads, by which status (inspect) "
                                                    "sees another process's lock on Windows: it would report the lock free"}))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    { zl::LockFile make(path); }
    // status goes through inspect(), which inspect_test proves never takes the lock, not even for
    // an instant; here, on a held file, it reports the lock held and leaves it held.
    zl::LockFile mine(path);
    for (int i = 0; i < 20; ++i) BOOST_TEST(run_to_end({"status", path}).code == 75);
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}

BOOST_AUTO_TEST_CASE(stale_lock_reported_by_run_and_hidden_by_q)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 999999999\n");
    outcome o = run_to_end(run_then({"-q", "run", path, "--"}, command_succeeding()));
    BOOST_TEST(o.code == 0);
    BOOST_TEST(o.lines.empty(), o.all());
    write_file(path, " 999999999\n");
    o = run_to_end(run_then({"run", path, "--"}, command_succeeding()));
    BOOST_TEST(o.count_containing("WARNING Stale record in lock file " + path +
                                  ": pid=999999999 is no longer running (it died holding the lock, or released it without "
                                  "clearing its record, as Python's zc.lockfile always does); replacing the record") == 1u,
               o.all());
}

// Issue 11, item 5: a record that outlived its writer says the writer held the lock once, not how
// it let go: Python's zc.lockfile never clears its record, so every clean release leaves one.
BOOST_AUTO_TEST_CASE(status_says_no_more_of_a_stale_record_than_is_known)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    write_file(path, " 999999999\n");
    const outcome o = run_to_end({"status", path});
    BOOST_TEST(o.code == 0);
    BOOST_TEST(o.all() == path + ": free\n"
                                 "  record: \"999999999\"\n"
                                 "  recorded pid 999999999: no longer running\n"
                                 "  stale: nobody holds the lock and the record's writer is no longer running; it died holding "
                                 "the lock, or released it without clearing its record (Python's zc.lockfile never clears it)\n");
}

// The kernel's word beats the clocks: a holder named by the kernel is alive however far the file's
// modification time is from its start time (another host's clock on NFS, a clock stepped since).
BOOST_AUTO_TEST_CASE(status_reports_a_live_holder_alive_whatever_the_files_modification_time, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it needs the kernel to name the holder, which Windows cannot for a byte-range lock, and sets the time with touch(1)"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    holder h({lock_helper(), "lock", path});
    touch_mtime(path, "2001-01-01");
    const std::string pid = std::to_string(h.pid());
    const outcome json = run_to_end({"status", "--json", path});
    BOOST_TEST(json.code == 75);
    BOOST_TEST(json.all() == "{\"path\": \"" + path + "\", \"exists\": true, \"locked\": true, \"holder_pid\": " + pid +
                                 ", \"recorded_pid\": " + pid +
                                 ", \"recorded_hostname\": null, \"recorded_alive\": true, \"stale\": false}\n");
    const outcome human = run_to_end({"status", path});
    BOOST_TEST(human.count_containing("  recorded pid " + pid + ": running") == 1u, human.all());
#endif
}

namespace {

// The command's stdout alone, to its end.
std::string stdout_of(const std::vector<std::string>& args)
{
    child_process p(cli(args));
    std::string out;
    for (const auto& line : p.read_all_lines()) out += line + "\n";
    p.wait();
    return out;
}

} // namespace

// Issue 11, item 4: text from the file reaches the screen as the logs show it: control characters,
// DEL, C1 controls and invalid UTF-8 as '?'. The path too, as in the logs.
BOOST_AUTO_TEST_CASE(status_shows_text_from_the_file_as_the_logs_do, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: Windows file names cannot hold control characters"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock\x1b[2J";
    write_file(path, " 1/\033]0;pwned\007\033[2J\n");
    for (const bool json : {false, true}) {
        BOOST_TEST_CONTEXT((json ? "--json" : "human-readable"))
        {
            const std::string out = json ? stdout_of({"status", "--json", path}) : stdout_of({"status", path});
            BOOST_TEST(out.find('\x1b') == std::string::npos, out);
            BOOST_TEST(out.find('\x07') == std::string::npos, out);
            if (!json) {
                BOOST_TEST(out == dir / "lock?[2J: free\n"
                                        "  record: \"1/?]0;pwned??[2J\"\n"
                                        "  recorded pid 1 on ?]0;pwned??[2J: on another host: not checked\n");
            }
        }
    }
#endif
}

// JSON output is valid UTF-8 whatever the bytes: a byte that is not part of valid UTF-8 is written
// as the escape of a lone surrogate, \udc80 to \udcff (Python's "surrogateescape"), so that
// s.encode("utf-8", "surrogateescape") gives the bytes back. Python's strict decoder is the judge.
BOOST_AUTO_TEST_CASE(status_json_is_valid_utf8_and_gives_the_bytes_back, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: Windows file names are UTF-16 and cannot hold bytes that are not UTF-8; and its judge is python3"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock\xff\xc3\xa9";
    // Invalid bytes, a valid e-acute, a C1 control (CSI, U+009B) and a truncated sequence at the end.
    write_file(path, " 12/h\xff\xfe\xc3\xa9\xc2\x9b\xe2\x82\n");
    const std::string json = stdout_of({"status", "--json", path});
    BOOST_TEST(json.find("\"recorded_hostname\": \"h\\udcff\\udcfe\xc3\xa9\\u009b\\udce2\\udc82\"") != std::string::npos, json);
    child_process python({python3(), "-c",
                          "import json, sys\n"
                          "o = json.loads(sys.stdin.buffer.read().decode('utf-8', errors='strict'))\n"
                          "back = lambda s: s.encode('utf-8', 'surrogateescape').hex()\n"
                          "print(back(o['path']), back(o['recorded_hostname']))\n"},
                         true);
    python.write_line(json);
    python.close_stdin();
    const std::vector<std::string> lines = python.read_all_lines();
    std::string hex_path;
    for (unsigned char c : path) {
        const char digits[] = "0123456789abcdef";
        hex_path += digits[c >> 4];
        hex_path += digits[c & 15];
    }
    BOOST_TEST(python.exit_code() == 0);
    BOOST_TEST_REQUIRE(!lines.empty());
    BOOST_TEST(lines[0] == hex_path + " 68fffec3a9c29be282", lines[0] << (lines.size() > 1 ? "\n" + lines.back() : ""));
#endif
}

// Issue 11, item 6: on btrfs, stat's device number is the subvolume's, /proc/locks prints the file
// system's: status must still see flock(1) and Python holders there.
BOOST_AUTO_TEST_CASE(status_sees_flock_holders_on_btrfs, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it mounts btrfs and holds flocks"))
{
#if !defined(_WIN32)
    if (flock_emulated_as_ofd()) {
        BOOST_TEST_MESSAGE("skipped under the NFS emulation: this case is about how the kernel lists real flocks");
        return;
    }
    temp_dir dir;
    btrfs_loop fs(dir.path, {"sub"});
    if (!fs.mounted()) {
        BOOST_TEST_MESSAGE("btrfs case not run: " << fs.why_not());
        return;
    }
    const std::string path = fs.point() + "/sub/lock";
    write_file(path, "");
    for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
             {"flock", "-n", path, "-c", "echo locked; read line || true"}, {python3(), "-c", python_peer_script(), path}}) {
        BOOST_TEST_CONTEXT(argv[0])
        {
            holder h(argv);
            const outcome o = run_to_end({"status", path});
            BOOST_TEST(o.code == 75, o.all());
            BOOST_TEST(o.count_containing("locked (flock lock held by pid " + std::to_string(h.pid()) + ")") == 1u, o.all());
        }
    }
#endif
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_64_with_a_hint)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    const std::vector<std::vector<std::string>> bad = {
        {},
        {"frobnicate"},
        {"run"},
        {"run", path},
        {"run", path, "--"},
        {"run", "--wait", "abc", path, "--", "true"},
        {"run", "--wait", "-1", path, "--", "true"},
        {"run", "--wait", path},
        {"run", "--conflict-exit-code", "256", path, "--", "true"},
        {"run", "--bogus", path, "--", "true"},
        {"run", path, "extra", "--", "true"},
        {"run", "--template", "{nope}", path, "--", "true"},
        {"status"},
        {"status", "--yaml", path},
        {"status", path, path},
    };
    for (const auto& args : bad) {
        const outcome o = run_to_end(args);
        std::string joined;
        for (const auto& a : args) joined += a + " ";
        BOOST_TEST(o.code == 64, joined);
        BOOST_TEST(o.lines.size() == 1u, joined << ": " << o.all());
        BOOST_TEST(o.count_containing("zc-lockfile: ") == 1u, joined);
    }
    BOOST_TEST(!std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(unopenable_lock_files_exit_74_naming_path_and_reason, *boost::unit_test::enable_if<!on_windows>()
                     * boost::unit_test::description("not on Windows: it expects POSIX errno messages (errors_test's bad_input_gets_a_clear_error_naming_the_path_on_windows checks Windows's)"))
{
#if !defined(_WIN32)
    temp_dir dir;
    outcome o = run_to_end({"run", dir / "missing/lock", "--", "true"});
    BOOST_TEST(o.code == 74);
    BOOST_TEST(o.count_containing("'" + dir / "missing/lock" + "': No such file or directory") == 1u, o.all());
    o = run_to_end({"run", dir.path, "--", "true"});
    BOOST_TEST(o.code == 74);
    BOOST_TEST(o.count_containing("Is a directory") == 1u, o.all());
    o = run_to_end({"status", dir.path});
    BOOST_TEST(o.code == 74);
#endif
}

BOOST_AUTO_TEST_CASE(help_and_version)
{
    outcome o = run_to_end({"--help"});
    BOOST_TEST(o.code == 0);
    BOOST_TEST(o.count_containing("zc-lockfile run [--wait SECONDS|inf]") == 1u);
    o = run_to_end({"--version"});
    BOOST_TEST(o.code == 0);
    BOOST_TEST(o.all() == std::string("zc-lockfile ") + ZC_LOCKFILE_VERSION_STRING + "\n");
}
