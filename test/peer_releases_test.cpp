// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Every release of Python's zc.lockfile as a peer, in both directions (issue 15). The stage
// test/peer_releases.sh installs each release from PyPI in its own virtual environment
// (bin/peers/zc.lockfile-VERSION) and runs this module once per release, with that environment's
// python3 on the command line; without one it drives the python3 on PATH (support/fixture.hpp),
// with Debian's python3-zc.lockfile. The module asks the interpreter which release it imports.
//
// What the releases do differently, read from their sources; each is checked where it shows,
// with our answer:
//   1.0.0      opens the file with 'w+': an attempt refused by our holder has already truncated
//              the holder's record, and then logs "pid=UNKNOWN" (its bug). Our holder keeps the
//              lock; our own refusals name pid=UNKNOWN too, for the record is gone; close() writes
//              a blank record over the empty file; a holder of ours that dies after it leaves
//              no record, so nothing is called stale.
//   1.0.1      opens with 'a+': it writes its record after whatever the file holds (our blanked
//              record, an earlier holder's record) and never shortens it. Our reader takes the
//              first line: a blank one names nobody (pid=UNKNOWN, nothing stale afterwards), an
//              earlier dead holder's is named and reported stale. Taking the lock, we replace
//              the whole file with our record.
//   1.0.2      opens with 'r+' ('a+' for a new file): the record is written at the start, the
//              rest truncated. 1.1.0 has the same code.
//   1.2.0      content_template, with {pid} and {hostname}: we read " {pid}/{hostname}" with the
//              same template, and its refusal under a template other than '{pid}' logs
//              'content: "..."' instead of "pid=".
//   1.2.1      close() unlocks (LOCK_UN) before closing: the same to us.
//   1.3.0      a refused attempt logs nothing. 1.4 has the same code.
//   2.0        SimpleLockFile: the lock without a record, which we report as pid=UNKNOWN and never
//              call stale. 3.0.post1 and 4.0 behave as 2.0 (Python 3 only, OSError).
// Every release: flock(LOCK_EX | LOCK_NB), and close() leaves its record in the file, which the
// next LockFile of ours reports as stale once the process is gone.
#define BOOST_TEST_MODULE peer_releases
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/log_capture.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <csignal>
#include <initializer_list>
#include <sstream>

#include <unistd.h>

namespace zl = zc::lockfile;
using namespace zc_test;
using boost::log::trivial::severity_level;

namespace {

const std::string own_pid = std::to_string(::getpid());
const std::string ours = " " + own_pid + "\n";
const std::string host_template = "{pid}/{hostname}";


// The release that interpreter imports, and what it does differently.
struct release_t {
    std::string name;
    std::vector<int> version;  // three numbers: "1.4" is 1.4.0, "3.0.post1" is 3.0.0

    bool before(std::initializer_list<int> v) const { return version < std::vector<int>(v); }
    bool truncates_when_refused() const { return before({1, 0, 1}); }        // 'w+'
    bool appends() const { return !before({1, 0, 1}) && before({1, 0, 2}); }  // 'a+'
    bool logs_refusal() const { return before({1, 3, 0}); }
    bool has_template() const { return !before({1, 2, 0}); }
    bool has_simple() const { return !before({2, 0, 0}); }
};

const release_t& release()
{
    static const release_t r = [] {
        child_process p({python3(), "-c", "import importlib.metadata as m; print(m.version('zc.lockfile'))"});
        release_t out;
        out.name = p.read_line();
        if (p.exit_code() != 0 || out.name.empty()) throw std::runtime_error("no zc.lockfile under " + python3());
        std::istringstream in(out.name);
        for (std::string part; std::getline(in, part, '.') && !part.empty() && std::isdigit(static_cast<unsigned char>(part[0]));)
            out.version.push_back(std::stoi(part));
        out.version.resize(3, 0);
        BOOST_TEST_MESSAGE("peer: zc.lockfile " << out.name << " under " << python3());
        return out;
    }();
    return r;
}

// The peer: "lock" (LockFile, with the template if one is given) or "simple" (SimpleLockFile).
// It prints what the release logs on channel zc.lockfile, one "log LEVEL MESSAGE" line each,
// then "busy" (exit 3) or "locked"; once locked, a line on its input makes it close() and exit.
std::vector<std::string> peer_argv(const std::string& path, const std::string& kind, const std::string& tmpl = "")
{
    static const char* script =
        "import logging, sys, zc.lockfile\n"
        "class Lines(logging.Handler):\n"
        "    def emit(self, record):\n"
        "        print('log', record.levelname, record.getMessage(), flush=True)\n"
        "logging.getLogger('zc.lockfile').addHandler(Lines())\n"
        "path, kind = sys.argv[1], sys.argv[2]\n"
        "try:\n"
        "    if kind == 'simple':\n"
        "        l = zc.lockfile.SimpleLockFile(path)\n"
        "    elif len(sys.argv) > 3:\n"
        "        l = zc.lockfile.LockFile(path, sys.argv[3])\n"
        "    else:\n"
        "        l = zc.lockfile.LockFile(path)\n"
        "except zc.lockfile.LockError:\n"
        "    print('busy', flush=True)\n"
        "    sys.exit(3)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "l.close()\n";
    std::vector<std::string> argv{python3(), "-c", script, path, kind};
    if (!tmpl.empty()) argv.push_back(tmpl);
    return argv;
}

// A refused attempt of the release: what it printed (its log lines, then "busy").
std::vector<std::string> refused_attempt(const std::string& path, const std::string& kind, const std::string& tmpl = "")
{
    child_process peer(peer_argv(path, kind, tmpl));
    const std::vector<std::string> lines = peer.read_all_lines();
    BOOST_TEST(peer.exit_code() == 3);
    return lines;
}

// The release holding the lock: `pid` is its process; let_go() makes it close() and exit.
struct release_holder {
    child_process peer;
    std::string pid;

    explicit release_holder(const std::string& path, const std::string& kind = "lock", const std::string& tmpl = "")
        : peer(peer_argv(path, kind, tmpl))
    {
        const std::string line = peer.read_line();
        BOOST_REQUIRE_MESSAGE(line == "locked", "the release said: " << line);
        pid = std::to_string(peer.pid());
    }
    void let_go()
    {
        peer.close_stdin();
        BOOST_TEST(peer.exit_code() == 0);
    }
};

// Preconditions of the cases that need what a release added: otherwise skipped, with the reason.
boost::test_tools::assertion_result has_template(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result r(release().has_template());
    r.message() << "zc.lockfile " << release().name << " has no content_template (added in 1.2.0)";
    return r;
}

boost::test_tools::assertion_result has_simple(boost::unit_test::test_unit_id)
{
    boost::test_tools::assertion_result r(release().has_simple());
    r.message() << "zc.lockfile " << release().name << " has no SimpleLockFile (added in 2.0)";
    return r;
}

// The records at info and above: what a deployment sees.
std::vector<std::string> reported(log_capture& log, severity_level severity)
{
    std::vector<std::string> out;
    for (const auto& r : log.records())
        if (r.channel == "zc.lockfile" && r.severity >= severity_level::info) {
            BOOST_TEST(r.severity == severity, r.message);
            out.push_back(r.message);
        }
    log.clear();
    return out;
}

using lines = std::vector<std::string>;

lines refusal_record(const std::string& path, const std::string& holder)
{
    return {"Error locking file " + path + "; pid=" + holder};
}

lines stale_record(const std::string& path, const std::string& pid)
{
    return {"Stale record in lock file " + path + ": pid=" + pid +
            " is no longer running (it died holding the lock, or released it without clearing its record, as Python's "
            "zc.lockfile always does); replacing the record"};
}

// The lock file is read with read_file() only while this process holds no lock on it: closing
// a descriptor of the file would drop the record lock our holder has (hence read_contents()).
void check_held(const std::string& path)
{
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_busy);
}

// Both of ours are refused while the release holds, each with one error record naming `holder`.
void check_we_are_refused(log_capture& log, const std::string& path, const std::string& holder, const std::string& tmpl = "{pid}")
{
    BOOST_CHECK_THROW((zl::LockFile{path, tmpl}), zl::LockError);
    BOOST_TEST(reported(log, severity_level::error) == refusal_record(path, holder), boost::test_tools::per_element());
    BOOST_CHECK_THROW(zl::SimpleLockFile{path}, zl::LockError);
    BOOST_TEST(reported(log, severity_level::error) == refusal_record(path, holder), boost::test_tools::per_element());
}

// The releases take flock alone: a holder among them leaves the record lock free.
void check_held_by_release(const std::string& path)
{
    BOOST_TEST(probe_flock(path) == probe_busy);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}

} // namespace

// (a) We hold; the release is refused. What it logs, what it does to the file, and that our
// holder keeps the lock, closes right, and leaves nothing that looks stale.
BOOST_AUTO_TEST_CASE(the_release_is_refused_while_we_hold)
{
    const release_t& rel = release();
    temp_dir dir;
    const std::string path = dir / "lock";
    log_capture log;
    zl::LockFile lock(path);
    BOOST_REQUIRE(lock.read_contents() == ours);

    lines expected;
    if (rel.logs_refusal())  // 1.0.0 reads the record it has just truncated: its pid=UNKNOWN bug
        expected.push_back("log ERROR Error locking file " + path + "; pid=" + (rel.truncates_when_refused() ? "UNKNOWN" : own_pid));
    expected.push_back("busy");
    BOOST_TEST(refused_attempt(path, "lock") == expected, boost::test_tools::per_element());
    if (rel.truncates_when_refused())
        BOOST_TEST(lock.read_contents() == "", "1.0.0 truncates the holder's record");
    else
        BOOST_TEST(lock.read_contents() == ours, "the release leaves our record alone");
    if (rel.has_simple()) {
        BOOST_TEST(refused_attempt(path, "simple") == lines{"busy"}, boost::test_tools::per_element());  // never logs
    } else {
        BOOST_TEST_MESSAGE("zc.lockfile " << rel.name << " has no SimpleLockFile (from 2.0)");
    }

    // Our holder keeps the lock whatever the peer did to the file. With the record gone (1.0.0),
    // our own refusals name nobody.
    BOOST_TEST(lock.is_locked());
    check_held(path);
    BOOST_CHECK_THROW(zl::LockFile{path}, zl::LockError);
    BOOST_TEST(reported(log, severity_level::error) == refusal_record(path, rel.truncates_when_refused() ? "UNKNOWN" : own_pid),
               boost::test_tools::per_element());

    // close() blanks the record it wrote; over 1.0.0's empty file that writes a blank record of
    // the same length. Nothing is left for the next holder to call stale.
    lock.close();
    BOOST_TEST(read_file(path) == std::string(ours.size() - 1, ' ') + "\n");
    BOOST_TEST(probe_flock(path) == probe_acquired);
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
    zl::LockFile again(path);
    BOOST_TEST(reported(log, severity_level::warning).empty());
}

// (a) A holder of ours in another process, refused to the release, then killed: its record is
// judged stale by the next LockFile, unless 1.0.0 truncated it, when there is nothing to judge.
BOOST_AUTO_TEST_CASE(a_holder_of_ours_killed_after_refusing_the_release_is_reported_stale)
{
    const release_t& rel = release();
    temp_dir dir;
    const std::string path = dir / "lock";
    child_process holder({lock_helper(), "lock", path});
    BOOST_REQUIRE(holder.read_line().rfind("locked", 0) == 0);
    const std::string dead = std::to_string(holder.pid());
    const lines said = refused_attempt(path, "lock");
    BOOST_TEST(said.back() == "busy");
    holder.kill(SIGKILL);
    BOOST_TEST(holder.exit_code() == 128 + SIGKILL);
    BOOST_TEST(read_file(path) == (rel.truncates_when_refused() ? "" : " " + dead + "\n"));
    log_capture log;
    zl::LockFile lock(path);
    if (rel.truncates_when_refused())
        BOOST_TEST(reported(log, severity_level::warning).empty(), "1.0.0 erased the dead holder's record: nothing to report");
    else
        BOOST_TEST(reported(log, severity_level::warning) == stale_record(path, dead), boost::test_tools::per_element());
    BOOST_TEST(lock.read_contents() == ours);
}

// (a) From 1.2.0, with a template: both sides write " {pid}/{hostname}". 1.2.x logs its refusal
// as 'content: "..."' under a template other than '{pid}'; 1.3.0 and later log nothing.
BOOST_AUTO_TEST_CASE(the_release_with_a_template_is_refused_while_we_hold, *boost::unit_test::precondition(has_template))
{
    const release_t& rel = release();
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile lock(path, host_template);
    const std::string record = own_pid + "/" + host_name();
    BOOST_REQUIRE(lock.read_contents() == " " + record + "\n");
    lines expected;
    if (rel.logs_refusal())  // the first 40 characters of the record, "..." after them if longer
        expected.push_back("log ERROR Error locking file " + path + "; content: \"" + record.substr(0, 40) + (record.size() > 40 ? "..." : "") + "\"");
    expected.push_back("busy");
    BOOST_TEST(refused_attempt(path, "lock", host_template) == expected, boost::test_tools::per_element());
    BOOST_TEST(lock.read_contents() == " " + record + "\n");
    check_held(path);
}

// (b) The release holds a new file; ours are refused and name its pid; its close() leaves its
// record, which our LockFile reports as stale once the process is gone, and replaces.
BOOST_AUTO_TEST_CASE(we_are_refused_while_the_release_holds_and_take_its_left_record)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    log_capture log;
    release_holder peer(path);
    const std::string pid = peer.pid;
    BOOST_TEST(read_file(path) == " " + pid + "\n");
    check_we_are_refused(log, path, pid);
    check_held_by_release(path);
    peer.let_go();
    BOOST_TEST(read_file(path) == " " + pid + "\n", "the release's close() leaves its record");
    zl::LockFile lock(path);
    BOOST_TEST(reported(log, severity_level::warning) == stale_record(path, pid), boost::test_tools::per_element());
    BOOST_TEST(lock.read_contents() == ours);
}

// (b) The release takes a file that holds our blanked record (we held it and closed). 1.0.1
// appends its record after the blank line, where our first-line reader does not look: we name
// nobody and call nothing stale, and taking the lock we replace the whole file. Every other
// release writes at the start.
BOOST_AUTO_TEST_CASE(the_release_takes_a_file_we_closed)
{
    const release_t& rel = release();
    temp_dir dir;
    const std::string path = dir / "lock";
    zl::LockFile(path).close();
    const std::string blank = std::string(ours.size() - 1, ' ') + "\n";
    BOOST_REQUIRE(read_file(path) == blank);
    log_capture log;
    release_holder peer(path);
    const std::string pid = peer.pid;
    if (rel.appends()) {
        BOOST_TEST(read_file(path) == blank + " " + pid + "\n", "1.0.1 appends its record");
        check_we_are_refused(log, path, "UNKNOWN");
    } else {
        BOOST_TEST(read_file(path) == " " + pid + "\n");
        check_we_are_refused(log, path, pid);
    }
    peer.let_go();
    zl::LockFile lock(path);
    if (rel.appends())
        BOOST_TEST(reported(log, severity_level::warning).empty(), "1.0.1's record is after a blank line: not read");
    else
        BOOST_TEST(reported(log, severity_level::warning) == stale_record(path, pid), boost::test_tools::per_element());
    BOOST_TEST(lock.read_contents() == ours);
}

// (b) Two holders of the release one after the other, the first gone: 1.0.1 appends the second's
// record after the first's, so we name the first (dead) pid while the second holds, and report
// it stale afterwards. Every other release's record replaces the first.
BOOST_AUTO_TEST_CASE(the_release_takes_a_file_an_earlier_holder_of_it_left)
{
    const release_t& rel = release();
    temp_dir dir;
    const std::string path = dir / "lock";
    std::string first;
    {
        release_holder peer(path);
        first = peer.pid;
        peer.let_go();
    }
    log_capture log;
    release_holder peer(path);
    const std::string second = peer.pid;
    const std::string named = rel.appends() ? first : second;
    BOOST_TEST(read_file(path) == (rel.appends() ? " " + first + "\n " + second + "\n" : " " + second + "\n"));
    check_we_are_refused(log, path, named);
    peer.let_go();
    zl::LockFile lock(path);
    BOOST_TEST(reported(log, severity_level::warning) == stale_record(path, named), boost::test_tools::per_element());
    BOOST_TEST(lock.read_contents() == ours);
}

// (b) From 1.2.0, the release holds with the template {pid}/{hostname}: ours, with the same
// template, name "pid/host" and judge the left record as this host's.
BOOST_AUTO_TEST_CASE(we_are_refused_while_the_release_holds_with_a_template, *boost::unit_test::precondition(has_template))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    log_capture log;
    release_holder peer(path, "lock", host_template);
    const std::string pid = peer.pid;
    const std::string record = pid + "/" + host_name();
    BOOST_TEST(read_file(path) == " " + record + "\n");
    check_we_are_refused(log, path, record, host_template);
    peer.let_go();
    zl::LockFile lock(path, host_template);
    BOOST_TEST(reported(log, severity_level::warning) == stale_record(path, pid), boost::test_tools::per_element());
    BOOST_TEST(lock.read_contents() == " " + own_pid + "/" + host_name() + "\n");
}

// (b) From 2.0, the release's SimpleLockFile: the lock without a record. Ours name nobody, and
// after it nothing is stale.
BOOST_AUTO_TEST_CASE(we_are_refused_while_the_release_holds_a_simple_lock_file, *boost::unit_test::precondition(has_simple))
{
    temp_dir dir;
    const std::string path = dir / "lock";
    log_capture log;
    release_holder peer(path, "simple");
    BOOST_TEST(read_file(path) == "");
    check_we_are_refused(log, path, "UNKNOWN");
    peer.let_go();
    zl::LockFile lock(path);
    BOOST_TEST(reported(log, severity_level::warning).empty());
    BOOST_TEST(lock.read_contents() == ours);
}
