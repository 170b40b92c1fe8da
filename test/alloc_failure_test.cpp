// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Failures half-way (issue 11, item 3): every public operation either acquires or leaves nothing
// behind (no registry entry, no kernel lock, no descriptor, no partial record), and release and
// close never allocate and never throw.
//
// Tested as SQLite tests its allocator: this program replaces the global operator new and delete
// (every replaceable form) with a counter that, when armed, fails the Nth allocation (std::bad_alloc,
// or nullptr from the nothrow forms). For N = 1, 2, 3, ... one whole acquisition and release runs
// with the Nth allocation failed, until a run completes with no failure injected; after each run
// that had one, the process must be as before: the same descriptors, no kernel lock of its own,
// the file's bytes unchanged, the lock free for other processes (unless another holds it) and for
// a fresh acquisition here. Only the library call is armed, never Boost.Test.
//
// Each mode's loop runs in a forked sandbox (the test process is single-threaded, so the sandbox
// may do anything), so that a run that ends in std::terminate or hangs is reported with the
// allocation that caused it, and the loop goes on from the next one in a new sandbox.
//
// A second part installs a Boost.Log sink that throws on every record and runs every mode once:
// the outcomes must be those without the sink.
//
// The library is linked shared: the replacement operators in this executable interpose for it too,
// which the first case checks (the counter sees allocations made by the library's own code).
#define BOOST_TEST_MODULE alloc_failure
#include <boost/test/unit_test.hpp>

#include "support/describe_lock_info.hpp"
#include "support/fixture.hpp"
#include "support/forked_child.hpp"
#include "support/process.hpp"

#include <zc/lockfile.hpp>

#include <boost/log/core.hpp>
#include <boost/log/sinks/basic_sink_backend.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/make_shared.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace zl = zc::lockfile;
using namespace zc_test;
using namespace std::chrono_literals;

// ---- The failing allocator -------------------------------------------------------------------

namespace failing_allocator {

std::atomic<bool> armed{false};
std::atomic<long> count{0};    // allocations since arming
std::atomic<long> fail_at{0};  // which one fails (1-based); 0: none
std::atomic<bool> failed{false};

// The caller of operator new for the allocation that was failed, and the call stack.
void* failure_caller = nullptr;
constexpr int max_frames = 24;
void* failure_frames[max_frames];
int failure_depth = 0;

// The callers of every allocation while recording (for the interposition check).
constexpr int max_callers = 512;
void* callers[max_callers];
std::atomic<int> caller_count{0};
std::atomic<bool> recording{false};

// Arms the counter: the nth allocation from now fails (none when n is 0).
void arm(long n)
{
    count = 0;
    failed = false;
    fail_at = n;
    armed = true;
}

void disarm() { armed = false; }

// Counts one allocation; true when it is the one to fail.
bool should_fail(void* caller) noexcept
{
    if (!armed.load(std::memory_order_relaxed)) return false;
    if (recording.load(std::memory_order_relaxed)) {
        const int i = caller_count++;
        if (i < max_callers) callers[i] = caller;
    }
    const long n = ++count;
    if (n != fail_at.load(std::memory_order_relaxed)) return false;
    failed = true;
    failure_caller = caller;
    failure_depth = ::backtrace(failure_frames, max_frames);
    return true;
}

void* allocate(std::size_t size, std::size_t alignment) noexcept
{
    if (size == 0) size = 1;
    if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
    void* p = nullptr;
    return ::posix_memalign(&p, std::max(alignment, sizeof(void*)), size) == 0 ? p : nullptr;
}

void* allocate_or_throw(std::size_t size, std::size_t alignment, void* caller)
{
    if (should_fail(caller)) throw std::bad_alloc();
    void* p = allocate(size, alignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

void* allocate_or_null(std::size_t size, std::size_t alignment, void* caller) noexcept
{
    if (should_fail(caller)) return nullptr;
    return allocate(size, alignment);
}

} // namespace failing_allocator

#define ZC_REPLACED __attribute__((visibility("default")))
#define ZC_CALLER __builtin_return_address(0)
namespace fa = failing_allocator;
using align_t = std::align_val_t;

ZC_REPLACED void* operator new(std::size_t n) { return fa::allocate_or_throw(n, 0, ZC_CALLER); }
ZC_REPLACED void* operator new[](std::size_t n) { return fa::allocate_or_throw(n, 0, ZC_CALLER); }
ZC_REPLACED void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return fa::allocate_or_null(n, 0, ZC_CALLER); }
ZC_REPLACED void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return fa::allocate_or_null(n, 0, ZC_CALLER); }
ZC_REPLACED void* operator new(std::size_t n, align_t a) { return fa::allocate_or_throw(n, std::size_t(a), ZC_CALLER); }
ZC_REPLACED void* operator new[](std::size_t n, align_t a) { return fa::allocate_or_throw(n, std::size_t(a), ZC_CALLER); }
ZC_REPLACED void* operator new(std::size_t n, align_t a, const std::nothrow_t&) noexcept { return fa::allocate_or_null(n, std::size_t(a), ZC_CALLER); }
ZC_REPLACED void* operator new[](std::size_t n, align_t a, const std::nothrow_t&) noexcept { return fa::allocate_or_null(n, std::size_t(a), ZC_CALLER); }
ZC_REPLACED void operator delete(void* p) noexcept { std::free(p); }
ZC_REPLACED void operator delete[](void* p) noexcept { std::free(p); }
ZC_REPLACED void operator delete(void* p, std::size_t) noexcept { std::free(p); }
ZC_REPLACED void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
ZC_REPLACED void operator delete(void* p, align_t) noexcept { std::free(p); }
ZC_REPLACED void operator delete[](void* p, align_t) noexcept { std::free(p); }
ZC_REPLACED void operator delete(void* p, std::size_t, align_t) noexcept { std::free(p); }
ZC_REPLACED void operator delete[](void* p, std::size_t, align_t) noexcept { std::free(p); }
ZC_REPLACED void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
ZC_REPLACED void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
ZC_REPLACED void operator delete(void* p, align_t, const std::nothrow_t&) noexcept { std::free(p); }
ZC_REPLACED void operator delete[](void* p, align_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

// ---- Where an allocation came from --------------------------------------------------------------

// The loaded module (the shared library, or this executable when it is linked statically) that
// holds the library's code and data.
Dl_info library_module()
{
    Dl_info info{};
    ::dladdr(&zl::lockfile_category(), &info);
    return info;
}

bool in_library(void* address)
{
    static const Dl_info library = library_module();
    Dl_info info{};
    return ::dladdr(address, &info) != 0 && info.dli_fbase == library.dli_fbase;
}

// A function's name without its parameters, as addr2line prints it for an offset in the library.
std::string function_at(void* address)
{
    Dl_info info{};
    if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
    char offset[32];
    // A return address points after the call; one byte back is inside it.
    std::snprintf(offset, sizeof offset, "0x%lx",
                  static_cast<unsigned long>(static_cast<char*>(address) - static_cast<char*>(info.dli_fbase) - 1));
    child_process addr2line({"addr2line", "-f", "-C", "-e", info.dli_fname, offset});
    std::string name = addr2line.read_line();
    addr2line.wait();
    for (std::string anonymous = "(anonymous namespace)"; name.find(anonymous) != std::string::npos;)
        name.replace(name.find(anonymous), anonymous.size(), "{anon}");
    return name.substr(0, name.find('('));
}

std::string module_of(void* address)
{
    Dl_info info{};
    if (::dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "?";
    const std::string file = info.dli_fname;
    return file.substr(file.rfind('/') + 1);
}

// Where the failed allocation was made: what called operator new (a function of the library, or
// another module, such as libstdc++ or Boost.Log), then the library's functions further up the
// stack, innermost first ("libstdc++.so.6 <- sanitize <- log_waiting <- attempt_once").
std::string failure_site()
{
    void* const caller = fa::failure_caller;
    std::string out = in_library(caller) ? function_at(caller) : module_of(caller);
    int i = 0;
    while (i < fa::failure_depth && fa::failure_frames[i] != caller) ++i;  // the frames above are the allocator's
    for (int shown = 0, next = i + 1; next < fa::failure_depth && shown < 3; ++next) {
        if (!in_library(fa::failure_frames[next])) continue;
        out += " <- " + function_at(fa::failure_frames[next]);
        ++shown;
    }
    return out;
}

// ---- What the process holds -----------------------------------------------------------------------

// The open descriptors of this process (the one listing them included).
std::size_t open_descriptors()
{
    DIR* listing = ::opendir("/proc/self/fd");
    if (listing == nullptr) return 0;
    std::size_t n = 0;
    while (const dirent* e = ::readdir(listing))
        if (e->d_name[0] != '.') ++n;
    ::closedir(listing);
    return n;
}

// The kernel's locks on path that belong to this process, as /proc/locks lists them (waiters too).
std::string own_kernel_locks(const std::string& path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return "";
    char file[64];  // as /proc/locks names it: MAJ:MIN:INODE, the device numbers in hex
    std::snprintf(file, sizeof file, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev), static_cast<unsigned long long>(st.st_ino));
    const std::string pid = std::to_string(::getpid());
    std::ifstream locks("/proc/locks");
    std::string out;
    for (std::string line; std::getline(locks, line);) {
        std::istringstream fields(line);
        std::vector<std::string> f;
        for (std::string w; fields >> w;) f.push_back(w);
        // "1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF", or with "->" after the index.
        const std::size_t at = f.size() > 1 && f[1] == "->" ? 2 : 1;
        if (f.size() < at + 5) continue;
        if (f[at + 3] == pid && f[at + 4] == file) out += (out.empty() ? "" : ", ") + f[at] + " " + f[at + 2];
    }
    return out;
}

std::string printable(const std::string& bytes)
{
    std::string out = "\"";
    for (char c : bytes) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out + "\"";
}

// ---- The modes ------------------------------------------------------------------------------------

// A LockFile with the default template, whose record is short enough for std::string's own buffer;
// one whose record (with the host name) is longer, so that expanding and blanking it allocate;
// and a SimpleLockFile, which writes nothing.
enum class object_kind { lock_file, lock_file_with_hostname, simple_lock_file };
enum class wait_kind { one_attempt, timed };
enum class situation { free, stale_record, held_by_lock_helper, held_by_file_lock };
enum class call_style { constructor_and_close, try_lock_and_unlock };

constexpr auto timed_wait = 50ms;

struct mode {
    object_kind kind;
    bool shared;
    wait_kind wait;
    situation where;
    call_style style;

    bool held() const { return where == situation::held_by_lock_helper || where == situation::held_by_file_lock; }

    bool is_lock_file() const { return kind != object_kind::simple_lock_file; }

    // The content template of a LockFile.
    std::string content_template() const
    {
        return kind == object_kind::lock_file_with_hostname ? "pid {pid} on host {hostname}" : "{pid}";
    }

    // A record as this mode's LockFile would write it.
    std::string record_of(pid_t pid) const
    {
        char host[256] = "";
        ::gethostname(host, sizeof host - 1);
        return kind == object_kind::lock_file_with_hostname ? " pid " + std::to_string(pid) + " on host " + host + "\n"
                                                            : " " + std::to_string(pid) + "\n";
    }

    std::string name() const
    {
        static const char* const kinds[] = {"LockFile", "LockFile(\"pid {pid} on host {hostname}\")", "SimpleLockFile"};
        static const char* const places[] = {"free", "stale record", "held by lock_helper", "held by a file_lock"};
        return std::string(kinds[static_cast<int>(kind)]) + (shared ? " shared" : " exclusive") +
               (wait == wait_kind::one_attempt ? ", one attempt" : ", 50 ms wait") + ", " + places[static_cast<int>(where)] +
               (style == call_style::constructor_and_close ? ", constructor + close()" : ", try_lock + unlock()");
    }

    zl::options options() const
    {
        zl::options o;
        o.shared = shared;
        if (style == call_style::constructor_and_close && wait == wait_kind::timed) o.wait = timed_wait;
        return o;
    }
};

std::vector<mode> all_modes()
{
    std::vector<mode> modes;
    for (auto style : {call_style::constructor_and_close, call_style::try_lock_and_unlock})
        for (auto kind : {object_kind::lock_file, object_kind::lock_file_with_hostname, object_kind::simple_lock_file})
            for (bool shared : {false, true})
                for (auto wait : {wait_kind::one_attempt, wait_kind::timed})
                    for (auto where : {situation::free, situation::stale_record, situation::held_by_lock_helper, situation::held_by_file_lock})
                        if (!(kind == object_kind::lock_file_with_hostname && shared))  // a shared holder writes no record
                            modes.push_back(mode{kind, shared, wait, where, style});
    return modes;
}

// A pid that no process has: a forked child's, once it has been reaped.
pid_t dead_pid()
{
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pid;
}

// The lock file as a mode needs it before each run: empty, or with a dead process's record, or
// held by another process (started once, before any arming).
class lock_file_situation {
public:
    lock_file_situation(const mode& m, const std::string& path) : path_(path)
    {
        if (m.where == situation::stale_record) content_ = m.record_of(dead_pid());
        write_file(path_, content_);
        if (m.where == situation::held_by_lock_helper) other_ = std::make_unique<holder>(std::vector<std::string>{lock_helper(), "lock", path_});
        if (m.where == situation::held_by_file_lock) other_ = std::make_unique<holder>(std::vector<std::string>{boost_peer(), path_});
    }
    // Puts back the bytes the last run may have changed (a held file is never rewritten here).
    void reset()
    {
        if (!other_) write_file(path_, content_);
    }
    pid_t holder_pid() const { return other_ ? other_->pid() : 0; }

private:
    std::string path_;
    std::string content_;
    std::unique_ptr<holder> other_;
};

// ---- One run ----------------------------------------------------------------------------------------

enum class outcome { acquired, refused, lock_error, bad_alloc, other_exception };

struct run_result {
    outcome what = outcome::acquired;
    std::string message;  // an other_exception's what()
    // The try_lock style's object, still open: what it keeps is judged before it is closed.
    std::unique_ptr<zl::SimpleLockFile> object;
    std::string describe() const
    {
        switch (what) {
        case outcome::acquired: return "acquired and released";
        case outcome::refused: return "refused (try_lock false)";
        case outcome::lock_error: return "threw LockError";
        case outcome::bad_alloc: return "threw bad_alloc";
        case outcome::other_exception: return "threw " + message;
        }
        return "?";
    }
};

bool is_normal(const mode& m, const run_result& r)
{
    if (!m.held()) return r.what == outcome::acquired;
    return r.what == (m.style == call_style::constructor_and_close ? outcome::lock_error : outcome::refused);
}

// One acquisition and release in mode m, the allocator armed to fail its nth allocation (none
// when n is 0) around the library's calls only.
run_result run_once(const mode& m, const std::string& path, long n)
{
    run_result r;
    const zl::options opts = m.options();
    const std::string tmpl = m.content_template();
    std::string path_copy = path;
    if (m.style == call_style::try_lock_and_unlock) {
        if (m.is_lock_file())
            r.object = std::make_unique<zl::LockFile>(path, std::defer_lock, tmpl, opts);
        else
            r.object = std::make_unique<zl::SimpleLockFile>(path, std::defer_lock, opts);
    }
    zl::SimpleLockFile* const deferred = r.object.get();
    fa::arm(n);
    try {
        if (m.style == call_style::constructor_and_close) {
            if (m.is_lock_file()) {
                zl::LockFile f(std::move(path_copy), tmpl, opts);
                f.close();
            } else {
                zl::SimpleLockFile f(std::move(path_copy), opts);
                f.close();
            }
            fa::disarm();
        } else {
            const bool got = m.wait == wait_kind::one_attempt ? deferred->try_lock() : deferred->try_lock_for(timed_wait);
            if (got) deferred->unlock();
            fa::disarm();
            r.what = got ? outcome::acquired : outcome::refused;
        }
    } catch (const std::bad_alloc&) {
        fa::disarm();
        r.what = outcome::bad_alloc;
    } catch (const zl::LockError&) {
        fa::disarm();
        r.what = outcome::lock_error;
    } catch (const std::exception& e) {
        fa::disarm();
        r.what = outcome::other_exception;
        r.message = e.what();
    }
    fa::disarm();
    return r;
}

// What is wrong with the process and the file after a run, judged against what they were before:
// "ok" when nothing is. The bytes must be unchanged unless the run acquired (then a LockFile wrote
// and blanked its record). A try_lock style object must hold nothing, and keep a descriptor only
// when unlock() kept it; it is closed last. Checked in an order that does not hide a fault: the
// descriptors and the kernel's locks first, and the file is read (which opens and closes it here)
// after the kernel and inspect() have been asked.
std::string left_behind(const mode& m, run_result& r, const std::string& path, std::size_t descriptors_before,
                        const std::string& bytes_before, pid_t other)
{
    std::vector<std::string> wrong;
    if (r.object && r.object->is_locked()) wrong.push_back("the object says is_locked()");
    const std::size_t kept = r.object && r.what == outcome::acquired ? 1 : 0;  // by unlock()
    const std::size_t descriptors = open_descriptors();
    if (descriptors != descriptors_before + kept)
        wrong.push_back("descriptors " + std::to_string(descriptors_before) + (kept ? " (+1 kept by unlock())" : "") + " -> " +
                        std::to_string(descriptors));
    const std::string locks = own_kernel_locks(path);
    if (!locks.empty()) wrong.push_back("kernel locks of this process remain: " + locks);
    if (!m.held()) {
        if (probe_flock(path) != probe_acquired) wrong.push_back("another process cannot flock it");
        if (probe_fcntl(path) != probe_acquired) wrong.push_back("another process cannot take a record lock");
    }
    const zl::lock_info info = zl::inspect(path);
    const bool as_expected = m.held() ? info.locked && info.holder_pid == other && info.family != zl::lock_family::this_process
                                      : !info.locked;
    if (!as_expected)
        wrong.push_back("inspect says " + describe(info));
    const std::string bytes = read_file(path);
    if (r.what != outcome::acquired && bytes != bytes_before) wrong.push_back("file " + printable(bytes_before) + " -> " + printable(bytes));
    // A fresh acquisition, unarmed: it must succeed, or be refused only because the other holds it.
    try {
        std::unique_ptr<zl::SimpleLockFile> fresh;
        if (m.is_lock_file())
            fresh = std::make_unique<zl::LockFile>(path, m.content_template(), zl::options{false, 0ns, m.shared});
        else
            fresh = std::make_unique<zl::SimpleLockFile>(path, zl::options{false, 0ns, m.shared});
        if (m.held()) wrong.push_back("a fresh acquisition got the lock another process holds");
    } catch (const zl::LockError&) {
        if (!m.held()) wrong.push_back("a fresh acquisition then threw LockError");
    } catch (const std::exception& e) {
        wrong.push_back(std::string("a fresh acquisition then threw ") + e.what());
    }
    if (r.object) {
        r.object->close();
        const std::size_t after_close = open_descriptors();
        if (after_close != descriptors_before)
            wrong.push_back("after the object's close(), descriptors " + std::to_string(descriptors_before) + " -> " +
                            std::to_string(after_close));
    }
    std::string out;
    for (const auto& w : wrong) out += (out.empty() ? "" : "; ") + w;
    return out.empty() ? "ok" : out;
}

// ---- The sandbox's side -------------------------------------------------------------------------------

parent_channel* terminate_channel = nullptr;
long current_allocation = 0;

// Says where the failed allocation was before std::terminate ends the sandbox.
[[noreturn]] void report_terminate()
{
    fa::disarm();
    if (terminate_channel != nullptr)
        terminate_channel->say("terminate " + std::to_string(current_allocation) + " | " + (fa::failed ? failure_site() : "no failure injected"));
    std::abort();
}

// The sandbox: mode m's loop from allocation `first` on, in directory dir. Lines: "start N" before
// each run; "point N OUTCOME | SITE" after a run that had its Nth allocation failed, or "end N
// OUTCOME | normal" (or "| abnormal") after the first run that had none; then "findings N
// FINDINGS" on what the run left behind. The loop ends after the end run, or after a point whose
// findings are not "ok": what it left behind would spoil the next runs, which start again in a
// new sandbox.
int failure_loop(parent_channel& to_parent, const mode& m, const std::string& dir, long first)
{
    terminate_channel = &to_parent;
    std::set_terminate(report_terminate);
    void* warm[4];
    ::backtrace(warm, 4);  // loads the unwinder now, not inside a failing allocation
    const std::string path = dir + "/lock";
    lock_file_situation setup(m, path);
    // Once unarmed, so that the library's and Boost.Log's first-use initialisations are done.
    run_result warm_up = run_once(m, path, 0);
    if (!is_normal(m, warm_up)) to_parent.say("setup: without failures the run " + warm_up.describe());
    warm_up.object.reset();
    for (long n = first;; ++n) {
        setup.reset();
        const std::string bytes_before = read_file(path);
        const std::size_t descriptors_before = open_descriptors();
        current_allocation = n;
        to_parent.say("start " + std::to_string(n));
        run_result r = run_once(m, path, n);
        const bool injected = fa::failed;
        if (injected)
            to_parent.say("point " + std::to_string(n) + " " + r.describe() + " | " + failure_site());
        else
            to_parent.say("end " + std::to_string(n) + " " + r.describe() + " | " + (is_normal(m, r) ? "normal" : "abnormal"));
        const std::string findings = left_behind(m, r, path, descriptors_before, bytes_before, setup.holder_pid());
        to_parent.say("findings " + std::to_string(n) + " " + findings);
        if (!injected || findings != "ok") return 0;
    }
}

// A Boost.Log sink whose backend throws on every record (and counts them).
class throwing_backend : public boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
public:
    static inline std::atomic<int> records{0};
    void consume(const boost::log::record_view&)
    {
        ++records;
        throw std::runtime_error("the sink failed");
    }
};

// The sandbox: mode m once, unarmed, with a sink that throws on every record. One line: "sink
// OUTCOME | FINDINGS".
int with_throwing_sink(parent_channel& to_parent, const mode& m, const std::string& dir)
{
    boost::log::core::get()->add_sink(
        boost::make_shared<boost::log::sinks::synchronous_sink<throwing_backend>>(boost::make_shared<throwing_backend>()));
    const std::string path = dir + "/lock";
    lock_file_situation setup(m, path);
    const std::string bytes_before = read_file(path);
    const std::size_t descriptors_before = open_descriptors();
    run_result r = run_once(m, path, 0);
    const int records = throwing_backend::records;
    std::string findings = left_behind(m, r, path, descriptors_before, bytes_before, setup.holder_pid());
    // A refused attempt always logs its error record: the sink must have been tried.
    if (m.held() && records == 0) findings = "the sink was never called; " + findings;
    to_parent.say("sink " + r.describe() + " (" + std::to_string(records) + " records thrown at) | " +
                  (is_normal(m, r) ? findings : "not the outcome without the sink; " + findings));
    return 0;
}

// ---- The parent's side --------------------------------------------------------------------------------

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct mode_tally {
    long points = 0;         // allocations of one run: each was failed once
    long faulty_points = 0;  // ... of which left something behind, crashed or hung
    long crashes = 0;
};

// Drives mode m's loop through as many sandboxes as it takes (a new one after every faulty point),
// and checks every line.
mode_tally run_mode(const mode& m)
{
    constexpr long give_up_after = 2000;
    mode_tally tally;
    for (long first = 1; first <= give_up_after;) {
        temp_dir dir;
        forked_child sandbox([&](parent_channel& to_parent) { return failure_loop(to_parent, m, dir.path, first); });
        long current = first;
        std::string run;  // the last point or end line, without its keyword
        bool ended = false;
        std::string last_words;
        for (;;) {
            const std::string line = sandbox.next_report();
            if (starts_with(line, "start ")) {
                current = std::stol(line.substr(6));
                run.clear();
            } else if (starts_with(line, "point ")) {
                ++tally.points;
                run = line.substr(6);
            } else if (starts_with(line, "end ")) {
                ended = true;
                run = line.substr(4);
                BOOST_TEST(ends_with(run, "| normal"), m.name() << ": the run without a failure: " << run);
            } else if (starts_with(line, "findings ")) {
                const std::string findings = line.substr(line.find(' ', 9) + 1);
                if (ended) {
                    BOOST_TEST(findings == "ok", m.name() << ": the run without a failure (" << run << ") left: " << findings);
                    sandbox.wait_status();
                    return tally;
                }
                if (findings != "ok") {
                    ++tally.faulty_points;
                    BOOST_ERROR(m.name() << ": allocation " << run << "; left behind: " << findings);
                    sandbox.wait_status();
                    first = current + 1;
                    break;
                }
            } else if (starts_with(line, "terminate ")) {
                last_words = line;
            } else if (starts_with(line, "(")) {
                ++tally.faulty_points;
                ++tally.crashes;
                if (run.empty()) {
                    ++tally.points;
                    BOOST_ERROR(m.name() << ": allocation " << current << ": the process did not survive the run: " << line
                                         << (last_words.empty() ? "" : "; it said: " + last_words));
                } else {
                    BOOST_ERROR(m.name() << ": allocation " << run << "; then the process did not survive the checks of what "
                                         << "the run left behind: " << line);
                }
                if (ended) return tally;
                first = current + 1;
                break;
            } else {
                BOOST_ERROR(m.name() << ": " << line);
            }
        }
    }
    BOOST_ERROR(m.name() << ": no run without a failure after " << give_up_after << " allocations");
    return tally;
}

struct discard_log_records {
    class nothing : public boost::log::sinks::basic_sink_backend<boost::log::sinks::synchronized_feeding> {
    public:
        void consume(const boost::log::record_view&) {}
    };
    // An application's sink, which takes every record (Boost.Log's default sink would print them).
    discard_log_records()
    {
        boost::log::core::get()->add_sink(
            boost::make_shared<boost::log::sinks::synchronous_sink<nothing>>(boost::make_shared<nothing>()));
    }
};

} // namespace

BOOST_TEST_GLOBAL_FIXTURE(discard_log_records);

// The replacement operators interpose for the shared library: allocations made by the library's
// own code (the constructor's state) reach the counter.
BOOST_AUTO_TEST_CASE(the_counter_sees_the_librarys_own_allocations)
{
    temp_dir dir;
    std::string path = dir / "lock";
    fa::caller_count = 0;
    fa::recording = true;
    fa::arm(0);
    {
        zl::SimpleLockFile deferred(std::move(path), std::defer_lock);  // moves the path: no allocation here
    }
    fa::disarm();
    fa::recording = false;
    const int callers = std::min(fa::caller_count.load(), fa::max_callers);
    int from_library = 0;
    for (int i = 0; i < callers; ++i)
        if (in_library(fa::callers[i])) ++from_library;
    BOOST_TEST_MESSAGE("the library is " << library_module().dli_fname << "; " << callers << " allocations, " << from_library
                                         << " made by its own code");
    BOOST_TEST(callers > 0);
    BOOST_TEST(from_library > 0);
    // And a failure injected there reaches the caller.
    std::string again = dir / "lock";
    fa::arm(1);
    BOOST_CHECK_THROW(zl::SimpleLockFile(std::move(again), std::defer_lock), std::bad_alloc);
    fa::disarm();
    BOOST_TEST(fa::failed.load());
}

// Releasing never allocates, so it cannot fail half-way: unlock(), close() and the destructor of a
// held lock of every kind make no allocation at all.
BOOST_AUTO_TEST_CASE(unlock_close_and_the_destructor_never_allocate)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    for (const mode& m : all_modes()) {
        if (m.where != situation::free || m.wait != wait_kind::one_attempt || m.style != call_style::constructor_and_close) continue;
        for (const char* release : {"unlock()", "close()", "the destructor"}) {
            std::unique_ptr<zl::SimpleLockFile> held;
            if (m.is_lock_file())
                held = std::make_unique<zl::LockFile>(path, m.content_template(), m.options());
            else
                held = std::make_unique<zl::SimpleLockFile>(path, m.options());
            fa::arm(0);
            if (release == std::string("unlock()"))
                held->unlock();
            else if (release == std::string("close()"))
                held->close();
            else
                held.reset();
            fa::disarm();
            BOOST_TEST(fa::count.load() == 0, m.name() << ": " << release << " made " << fa::count.load() << " allocations");
        }
    }
}

BOOST_AUTO_TEST_CASE(every_allocation_failure_leaves_nothing_behind_in_every_mode)
{
    long total = 0, faulty = 0, crashes = 0;
    for (const mode& m : all_modes()) {
        const mode_tally t = run_mode(m);
        BOOST_TEST_MESSAGE("mode " << m.name() << ": " << t.points << " allocation points"
                                   << (t.faulty_points ? ", " + std::to_string(t.faulty_points) + " of them faulty" : "")
                                   << (t.crashes ? ", " + std::to_string(t.crashes) + " crashed or hung" : ""));
        total += t.points;
        faulty += t.faulty_points;
        crashes += t.crashes;
    }
    BOOST_TEST_MESSAGE("all modes: " << total << " allocation points, " << faulty << " faulty, " << crashes << " crashed or hung");
}

BOOST_AUTO_TEST_CASE(a_sink_that_throws_changes_no_outcome_in_any_mode)
{
    for (const mode& m : all_modes()) {
        temp_dir dir;
        forked_child sandbox([&](parent_channel& to_parent) { return with_throwing_sink(to_parent, m, dir.path); });
        const std::string line = sandbox.next_report();
        BOOST_TEST_MESSAGE("with a throwing sink, " << m.name() << ": " << line);
        BOOST_TEST(ends_with(line, "| ok"), m.name() << ": " << line);
    }
}
