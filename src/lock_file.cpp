// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// LockFile and SimpleLockFile: the layers composed in one readable sequence.
//
//   open (O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK) -> fstat: a regular file -> registry: no conflict in
//   this process (or wait for one to end) -> os_lock: flock + boost file_lock (or wait) ->
//   [LockFile, exclusive] read the old record, judge its writer, write ours -> ... ->
//   [LockFile] blank our record -> unlock -> registry: close, forget.

#include <zc/lockfile/lock_file.hpp>

#include "lock_state.hpp"
#include "log.hpp"
#include "os_lock.hpp"
#include "record.hpp"
#include "registry.hpp"
#include "stale.hpp"

#include <boost/system/system_error.hpp>

#include <functional>
#include <string_view>
#include <utility>

namespace zc {
namespace lockfile {

using boost::system::error_code;
using namespace detail;
using steady = std::chrono::steady_clock;

namespace {

// A deadline of time_point::min() means one attempt; time_point::max() means no deadline.
constexpr steady::time_point one_attempt = steady::time_point::min();
constexpr steady::time_point no_deadline = steady::time_point::max();

steady::time_point deadline_after(std::chrono::nanoseconds wait)
{
    if (wait <= std::chrono::nanoseconds::zero()) return one_attempt;
    if (wait == wait_forever) return no_deadline;
    const auto now = steady::now();
    if (wait >= no_deadline - now) return no_deadline;
    return now + std::chrono::duration_cast<steady::duration>(wait);
}

// Which step failed, for the exception's message.
struct failure_context {
    const char* step = "open lock file";
    const char* found = nullptr;  // what is at the path, when it is not a regular file
    std::string detail;           // a template's fault
};

// What a failed acquisition logs: the seed's error record, or (for try_lock(), a poll) debug.
enum class busy_report { error, debug };

// LockFile only, with the lock held exclusively: judge the old record's writer, then write ours.
bool write_record(lock_state& s, const std::string& path, error_code& ec)
{
    const content_template& tmpl = *s.tmpl;
    char buf[record_read_limit];
    const std::size_t old_size = read_at(s.fd, buf, sizeof buf, 0, ec);
    if (ec) return false;
    const std::string_view head(buf, old_size);
    if (!record_line(head).empty()) {
        // A record survived: its writer died holding the lock, or it was a peer that never clears
        // (the Python original). The time of that write is the file's mtime now.
        file_facts now;
        error_code ignored;
        const std::int64_t mtime = stat_handle(s.fd, now, ignored, stat_detail::with_mtime) ? now.mtime_ns : 0;
        const writer_assessment w = assess_writer(head, tmpl, mtime);
        if (writer_gone(w.state))
            log_stale_taken_over(path, w.pid, w.state == writer_state::pid_reused);
        else if (w.state == writer_state::other_host)
            log_other_host(path, w.pid, w.hostname);
    }
    const std::string record = tmpl.expand(current_pid(), tmpl.uses_hostname() ? host_name() : std::string());
    write_at(s.fd, record.data(), record.size(), 0, ec);
    if (ec) return false;
    s.record_size = record.size();
    // Truncate only what lies beyond our record; the file is never shrunk to zero, which would
    // free its block for the next holder to allocate again.
    if (old_size > record.size() || old_size == record_read_limit) truncate_to(s.fd, record.size(), ec);
    return !ec;
}

void release(lock_state& s, bool keep_open, error_code& ec) noexcept;

class acquisition {
public:
    acquisition(lock_state& s, const std::string& path, steady::time_point deadline, busy_report report,
                error_code& ec, failure_context& ctx)
        : s_(s), path_(path), deadline_(deadline), report_(report), ec_(ec), ctx_(ctx)
    {
    }

    bool run()
    {
        // A file removed or replaced between our open and our lock is not the lock file any more:
        // let it go and start again with what the path names now. A path that keeps changing
        // under us is reported, never a lock on a file the path does not name.
        for (int attempt = 1;; ++attempt) {
            const outcome o = attempt_once();
            if (o != outcome::replaced) return o == outcome::acquired;
            if (attempt == max_attempts) {
                ec_ = make_error_code(error::file_replaced);
                return false;
            }
            log_replaced(path_);
        }
    }

private:
    enum class outcome { acquired, failed, replaced };
    static constexpr int max_attempts = 3;

    outcome attempt_once()
    {
        const bool shared = s_.opts.shared;
        handle fd = invalid_handle;
        file_facts facts;
        std::uint64_t epoch = s_.fork_epoch;
        const bool reused = s_.fd != invalid_handle && s_.owner == current_pid();
        if (reused) {
            // unlock() kept the descriptor: lock it again without opening the file. Whether the
            // path still names it is checked after locking, as for a new descriptor.
            fd = s_.fd;
            facts.id = s_.id;
        } else if (s_.fd != invalid_handle) {
            registry::close_unless_held(s_.id, s_.fd);  // a forked child's copy of a kept descriptor
        }
        s_.fd = invalid_handle;

        if (!reused) {
            // A file this process holds is refused (or waited for) without opening it again: that
            // descriptor would have to stay open until the holder releases. Only worth a stat
            // when something is held.
            if (!registry::empty()) {
                if (stat_path(path_, s_.opts.follow_symlinks, facts, ec_) && facts.regular) {
                    while (registry::conflicts(facts.id, shared, keep_holder_head())) {
                        if (!wait_in_process(facts.id)) {
                            busy();
                            return outcome::failed;
                        }
                    }
                }
                ec_.clear();  // a path that cannot be examined is reported by the open below
            }

            epoch = fork_epoch();
            fd = open_file(path_, open_mode::create_read_write, s_.opts.follow_symlinks, ec_);
            if (ec_) return outcome::failed;
            if (!stat_handle(fd, facts, ec_) || !facts.regular) {
                // Nothing of ours can be locked through this descriptor: it is not a regular file.
                close_handle(fd);
                if (!ec_) {
                    ec_ = make_error_code(error::not_a_regular_file);
                    ctx_.found = facts.kind;
                }
                return outcome::failed;
            }
        }

        while (!registry::reserve(facts.id, fd, shared, keep_holder_head())) {
            if (!wait_in_process(facts.id)) {
                if (reused)
                    keep_open(fd, epoch);
                else
                    registry::close_unless_held(facts.id, fd);
                busy();
                return outcome::failed;
            }
        }

        ctx_.step = "lock";
        lock_result r = s_.lock.try_lock(fd, shared, ec_);
        if (r == lock_result::busy && deadline_ != one_attempt) {
            note_waiting(read_head(fd));
            r = s_.lock.lock_until(fd, shared, deadline_, ec_);
        }
        if (r != lock_result::acquired) {
            if (r == lock_result::busy) head_ = read_head(fd);  // our own descriptor: weakens nothing
            if (!reused)
                registry::release(facts.id, fd, true);
            else if (registry::release_keep_open(facts.id, fd))
                keep_open(fd, epoch);
            if (r == lock_result::busy) busy();
            return outcome::failed;
        }
        // Both locks are held on the file we opened. Does the path still name it?
        file_facts now;
        error_code ignored;
        if (!stat_path(path_, s_.opts.follow_symlinks, now, ignored) || !(now.id == facts.id)) {
            s_.lock.disown();
            registry::release(facts.id, fd, true);
            return outcome::replaced;
        }
        s_.fd = fd;
        s_.id = facts.id;
        s_.owner = current_pid();
        s_.fork_epoch = epoch;
        s_.shared = shared;
        s_.record_size = 0;
        s_.held = true;

        if (s_.tmpl && !shared) {
            ctx_.step = "write the record to lock file";
            if (!write_record(s_, path_, ec_)) {
                // Released the ordinary way: a record already written is blanked first.
                error_code ignored_release;
                release(s_, false, ignored_release);
                return outcome::failed;
            }
        }
        if (waited_) log_acquired_after_wait(path_, steady::now() - started_);
        return outcome::acquired;
    }

    // A kept descriptor that this attempt did not lock stays kept for the next one.
    void keep_open(handle fd, std::uint64_t epoch)
    {
        s_.fd = fd;
        s_.fork_epoch = epoch;
    }

    std::function<void(handle)> keep_holder_head()
    {
        return [this](handle h) { head_ = read_head(h); };
    }

    void note_waiting(const std::string& head)
    {
        if (waited_) return;
        waited_ = true;
        started_ = steady::now();
        log_waiting(path_, head);
    }

    // Waits for this process's conflicting holder to release; false when the caller should not
    // wait, or the deadline passed.
    bool wait_in_process(const file_id& id)
    {
        if (deadline_ == one_attempt) return false;
        note_waiting(head_);
        return registry::wait_until_free(id, s_.opts.shared, deadline_);
    }

    void busy()
    {
        if (report_ == busy_report::error)
            log_lock_failed(path_, head_);
        else
            log_busy(path_, head_);
        ec_ = make_error_code(error::locked);
    }

    lock_state& s_;
    const std::string& path_;
    steady::time_point deadline_;
    busy_report report_;
    error_code& ec_;
    failure_context& ctx_;
    std::string head_;
    bool waited_ = false;
    steady::time_point started_;
};

void release(lock_state& s, bool keep_open, error_code& ec) noexcept
{
    ec.clear();
    if (!s.held) {
        if (!keep_open && s.fd != invalid_handle) {
            // The descriptor unlock() kept: it holds no lock, but while another object of this
            // process holds the file, closing it would drop that holder's record lock.
            registry::close_unless_held(s.id, s.fd);
            s.fd = invalid_handle;
        }
        return;
    }
    const bool ours = s.owner == current_pid();
    if (ours && s.record_size != 0) {
        // Blank the record while the lock is still held: a record that survives in the file then
        // always means its writer died holding the lock.
        const std::string blanks = blank_record(s.record_size);
        write_at(s.fd, blanks.data(), blanks.size(), 0, ec);
    }
    s.lock.disown();
    s.held = false;
    s.record_size = 0;
    // unlock(): undo both locks and keep the descriptor, when no other holder of this process
    // needs its locks kept (then the registry has taken it, as on close).
    if (ours && keep_open) {
        if (!registry::release_keep_open(s.id, s.fd)) s.fd = invalid_handle;
        return;
    }
    // A forked child's copy only closes: the lock is the parent's, never unlocked or written here.
    // Closing the descriptor releases this process's record lock (none, in a child), and its
    // flock too when no fork can have copied it.
    registry::release(s.id, s.fd, ours, ours && no_fork_since(s.fork_epoch));
    s.fd = invalid_handle;
}

[[noreturn]] void throw_failure(const std::string& path, const error_code& ec, const failure_context& ctx)
{
    if (ec == error::locked) throw LockError(path);
    std::string what = std::string("Couldn't ") + ctx.step + " '" + path + "'";
    if (ctx.found != nullptr) what += std::string(" (found ") + ctx.found + ")";
    if (!ctx.detail.empty()) what += " (" + ctx.detail + ")";
    throw boost::system::system_error(ec, what);
}

// lock(), try_lock() and friends: true when acquired, false when busy; throws otherwise.
bool lock_object(lock_state* s, const std::string& path, steady::time_point deadline, busy_report report)
{
    if (s == nullptr) {
        throw boost::system::system_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                                          "Couldn't lock: the lock file object has no path");
    }
    if (s->held) {
        throw boost::system::system_error(
            boost::system::errc::make_error_code(boost::system::errc::resource_deadlock_would_occur),
            "Couldn't lock '" + path + "' (this object holds it already)");
    }
    error_code ec;
    failure_context ctx;
    if (acquisition(*s, path, deadline, report, ec, ctx).run()) return true;
    if (ec == error::locked) return false;
    throw_failure(path, ec, ctx);
}

} // namespace

SimpleLockFile::SimpleLockFile() noexcept = default;

SimpleLockFile::SimpleLockFile(std::string path, const options& opts)
    : SimpleLockFile(std::move(path), nullptr, opts, false, nullptr)
{
}

SimpleLockFile::SimpleLockFile(std::string path, error_code& ec) : SimpleLockFile(std::move(path), options(), ec) {}

SimpleLockFile::SimpleLockFile(std::string path, const options& opts, error_code& ec)
    : SimpleLockFile(std::move(path), nullptr, opts, false, &ec)
{
}

SimpleLockFile::SimpleLockFile(std::string path, std::defer_lock_t, const options& opts)
    : SimpleLockFile(std::move(path), nullptr, opts, true, nullptr)
{
}

SimpleLockFile::SimpleLockFile(std::string path, const std::string* template_text, const options& opts, bool defer,
                               error_code* ec)
    : path_(std::move(path)), state_(std::make_unique<lock_state>())
{
    error_code local;
    error_code& out = ec != nullptr ? *ec : local;
    out.clear();
    failure_context ctx;
    state_->opts = opts;
    if (template_text != nullptr) {
        content_template tmpl;
        if (!tmpl.parse(*template_text, ctx.detail)) {
            out = make_error_code(error::invalid_template);
            if (ec == nullptr) {
                throw boost::system::system_error(out, "Couldn't use content template '" + *template_text +
                                                           "' for lock file '" + path_ + "' (" + ctx.detail + ")");
            }
            return;
        }
        state_->tmpl = std::move(tmpl);
    }
    if (defer) return;
    if (!acquisition(*state_, path_, deadline_after(opts.wait), busy_report::error, out, ctx).run() && ec == nullptr)
        throw_failure(path_, out, ctx);
}

SimpleLockFile::SimpleLockFile(SimpleLockFile&& other) noexcept = default;

SimpleLockFile& SimpleLockFile::operator=(SimpleLockFile&& other) noexcept
{
    if (this != &other) {
        close();
        path_ = std::move(other.path_);
        state_ = std::move(other.state_);
    }
    return *this;
}

SimpleLockFile::~SimpleLockFile() { close(); }

void SimpleLockFile::lock() { (void)lock_object(state_.get(), path_, no_deadline, busy_report::error); }

bool SimpleLockFile::try_lock() { return lock_object(state_.get(), path_, one_attempt, busy_report::debug); }

bool SimpleLockFile::try_lock_until_steady(steady::time_point deadline)
{
    // A deadline already past still gets its one attempt.
    const bool past = deadline != no_deadline && deadline <= steady::now();
    return lock_object(state_.get(), path_, past ? one_attempt : deadline, busy_report::error);
}

namespace {

void release_or_log(lock_state* s, const std::string& path, bool keep_open) noexcept
{
    if (s == nullptr) return;
    error_code ec;
    release(*s, keep_open, ec);
    if (ec) {
        try {
            log_clear_failed(path, ec);
        } catch (...) {
        }
    }
}

} // namespace

void SimpleLockFile::unlock() noexcept { release_or_log(state_.get(), path_, true); }

void SimpleLockFile::close() noexcept { release_or_log(state_.get(), path_, false); }

void SimpleLockFile::close(error_code& ec) noexcept
{
    ec.clear();
    if (state_) release(*state_, false, ec);
}

bool SimpleLockFile::is_locked() const noexcept { return state_ && state_->held; }

bool SimpleLockFile::is_shared() const noexcept { return is_locked() && state_->shared; }

const std::string& SimpleLockFile::path() const noexcept { return path_; }

std::string SimpleLockFile::read_contents(std::size_t max_bytes) const
{
    if (!is_locked()) {
        throw boost::system::system_error(boost::system::errc::make_error_code(boost::system::errc::bad_file_descriptor),
                                          "Couldn't read lock file '" + path_ + "' (no lock is held)");
    }
    std::string out(max_bytes, '\0');
    error_code ec;
    out.resize(read_at(state_->fd, &out[0], max_bytes, 0, ec));
    if (ec) throw boost::system::system_error(ec, "Couldn't read lock file '" + path_ + "'");
    return out;
}

LockFile::LockFile(std::string path, const std::string& content_template, const options& opts)
    : SimpleLockFile(std::move(path), &content_template, opts, false, nullptr)
{
}

LockFile::LockFile(std::string path, error_code& ec) : LockFile(std::move(path), "{pid}", options(), ec) {}

LockFile::LockFile(std::string path, const std::string& content_template, error_code& ec)
    : LockFile(std::move(path), content_template, options(), ec)
{
}

LockFile::LockFile(std::string path, const std::string& content_template, const options& opts, error_code& ec)
    : SimpleLockFile(std::move(path), &content_template, opts, false, &ec)
{
}

LockFile::LockFile(std::string path, std::defer_lock_t, const std::string& content_template, const options& opts)
    : SimpleLockFile(std::move(path), &content_template, opts, true, nullptr)
{
}

} // namespace lockfile
} // namespace zc
