// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// LockFile and SimpleLockFile: the layers composed in one readable sequence.
//
//   open (O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK) -> fstat: a regular file -> registry: no conflict in
//   this process (or wait for one to end) -> kernel_lock: flock + boost file_lock (or wait) ->
//   [LockFile, exclusive] read the old record, judge its writer, write ours -> ... ->
//   [LockFile] blank our record -> unlock -> registry: close, forget.

#include <zc/lockfile/lock_file.hpp>

#include "failure.hpp"
#include "lock_state.hpp"
#include "log.hpp"
#include "os_lock.hpp"
#include "record.hpp"
#include "registry.hpp"
#include "stale.hpp"

#include <boost/system/system_error.hpp>

#include <algorithm>
#include <string_view>
#include <utility>

namespace zc {
namespace lockfile {

using boost::system::error_code;
using namespace detail;
using steady = std::chrono::steady_clock;

namespace {

// What a failed acquisition logs: the seed's error record, or (for try_lock(), a poll) debug.
enum class busy_report { error, debug };

// One attempt's progress, and its undo. The steps of an acquisition (acquisition::attempt_once)
// record here what they have done; unless the attempt commits, the destructor undoes it, in
// reverse order: a partial record is blanked, the kernel locks are released, the registry's
// reservation is ended, the descriptor is closed (or parked, or given back to its object). A new
// failure path therefore cannot forget an undo, and the undo allocates nothing.
class attempt_guard {
public:
    enum class source { none, fresh, kept, adopted };

    explicit attempt_guard(lock_state& s) noexcept : s_(s) {}
    attempt_guard(const attempt_guard&) = delete;
    attempt_guard& operator=(const attempt_guard&) = delete;
    ~attempt_guard()
    {
        if (!committed_) undo();
    }

    // The descriptor kept by the object's unlock(): listed in the registry as kept.
    void take_kept(handle fd, const file_id& id, std::uint64_t epoch) noexcept
    {
        set(source::kept, fd, id, epoch);
    }
    // A parked descriptor adopted from the registry: listed as holding, perhaps already locked.
    void take_adopted(handle fd, const file_id& id, bool already_locked) noexcept
    {
        set(source::adopted, fd, id, 1);  // an odd epoch: it may have been copied by a fork
        listed = true;
        locked = already_locked;
    }
    // Allocates the storage of a new descriptor's place in the registry: before the open.
    void prepare_to_open() { node_.allocate(); }
    // A descriptor just opened; its file is not known until identified.
    void take_opened(handle fd, std::uint64_t epoch) noexcept { set(source::fresh, fd, file_id(), epoch); }
    void identified(const file_id& id) noexcept
    {
        id_ = id;
        known_ = true;
    }

    handle fd() const noexcept { return fd_; }
    const file_id& id() const noexcept { return id_; }
    source from() const noexcept { return from_; }
    std::uint64_t epoch() const noexcept { return epoch_; }
    registry::slot_node* node_for_reserve() noexcept { return from_ == source::fresh ? &node_ : nullptr; }

    bool listed = false;        // in the registry as a holder
    bool locked = false;        // both kernel locks are held through fd
    std::size_t written = 0;    // bytes of our record that may have been written

    void commit() noexcept { committed_ = true; }
    // The path no longer names fd's file: never keep it for the object's next attempt.
    void forsake() noexcept { forsaken_ = true; }

private:
    void set(source from, handle fd, const file_id& id, std::uint64_t epoch) noexcept
    {
        from_ = from;
        fd_ = fd;
        id_ = id;
        known_ = true;
        epoch_ = epoch;
    }

    void undo() noexcept
    {
        if (from_ == source::none) return;
        if (written != 0) {
            error_code ignored;
            blank_record(fd_, written, ignored);
        }
        if (locked) s_.lock.disown();
        const bool keep = from_ == source::kept && !forsaken_;
        if (listed) {
            // Releases the kernel locks when this was the last holder; otherwise parks fd.
            if (registry::leave(id_, fd_, locked, keep, true, epoch_)) give_back();
        } else if (from_ == source::kept) {
            give_back();  // never reserved: still the object's kept descriptor
        } else if (known_) {
            registry::close_unless_held(id_, fd_, node_);
        } else {
            close_handle(fd_);  // not identified: no lock of ours can be on it
        }
    }

    void give_back() noexcept
    {
        s_.fd = fd_;
        s_.id = id_;
    }

    lock_state& s_;
    registry::slot_node node_;
    source from_ = source::none;
    handle fd_ = invalid_handle;
    file_id id_;
    bool known_ = false;
    std::uint64_t epoch_ = 0;
    bool committed_ = false;
    bool forsaken_ = false;
};

class acquisition {
public:
    acquisition(lock_state& s, const std::string& path, const deadline& until, busy_report report,
                error_code& ec, failure& ctx)
        : s_(s), path_(path), deadline_(until), report_(report), ec_(ec), ctx_(ctx)
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

    bool writes_record() const noexcept { return s_.tmpl && !s_.opts.shared; }

    // The steps, each undone by the guard if a later one fails or throws.
    outcome attempt_once()
    {
        attempt_guard a(s_);
        if (writes_record() && record_.empty()) make_record();
        if (!find_descriptor(a)) return outcome::failed;
        if (!a.listed && !reserve(a)) return outcome::failed;
        if (!a.locked && !lock_kernel(a)) return outcome::failed;
        if (!path_still_names(a)) return outcome::replaced;
        if (writes_record() && !write_record(a)) return outcome::failed;
        commit(a);
        return outcome::acquired;
    }

    // Our record, made before anything is held.
    void make_record() { record_ = s_.tmpl->expand(current_pid(), s_.tmpl->uses_hostname() ? host_name() : std::string()); }

    // The descriptor to lock: the one unlock() kept, a parked one of this process's shared
    // holders, or the file opened anew.
    bool find_descriptor(attempt_guard& a)
    {
        if (s_.fd != invalid_handle) {
            const handle kept = std::exchange(s_.fd, invalid_handle);
            // A forked child's copy was closed by the child's fork handler: only forgotten here.
            if (s_.owner == current_pid()) {
                // Whether the path still names it is checked after locking, as for a new one.
                a.take_kept(kept, s_.id, s_.fork_epoch);
                return true;
            }
        }
        if (!registry::empty() && !join_in_process(a)) return false;
        if (a.from() != attempt_guard::source::none) return true;

        a.prepare_to_open();
        const std::uint64_t epoch = fork_epoch();
        const handle fd = open_file(path_, open_mode::create_read_write, s_.opts.follow_symlinks, ec_);
        if (ec_) return false;
        a.take_opened(fd, epoch);
        file_facts facts;
        if (!stat_handle(fd, facts, ec_)) return false;
        a.identified(facts.id);
        if (!facts.regular) {
            // Nothing of ours can be locked through this descriptor: it is not a regular file.
            ec_ = make_error_code(error::not_a_regular_file);
            ctx_.found = describe(facts.kind);
            return false;
        }
        // Which lock families to take on its file system: a transient failure to tell fails the
        // attempt, naming what could not be read, rather than guess (doc/design.adoc).
        const char* reason = "";
        if (!note_lock_families(fd, facts, ec_, reason)) {
            ctx_.step = "tell how file system locks interact for lock file";
            ctx_.detail = reason;
            return false;
        }
        return true;
    }

    // A file this process holds is refused (or waited for) without opening it again; a shared
    // request joining shared holders adopts a parked descriptor when there is one. Only worth a
    // stat when the registry lists something.
    bool join_in_process(attempt_guard& a)
    {
        file_facts facts;
        error_code ignored;  // a path that cannot be examined is reported by the open
        if (!stat_path(path_, s_.opts.follow_symlinks, facts, ignored) || !facts.regular) return true;
        while (registry::conflicts(facts.id, s_.opts.shared, &head_)) {
            if (!wait_in_process(facts.id)) {
                busy();
                return false;
            }
        }
        bool locked = false;
        const handle fd = registry::adopt(facts.id, s_.opts.shared, locked);
        if (fd != invalid_handle) a.take_adopted(fd, facts.id, locked);
        return true;
    }

    bool reserve(attempt_guard& a)
    {
        while (!registry::reserve(a.id(), a.fd(), s_.opts.shared, a.node_for_reserve(), &head_)) {
            if (!wait_in_process(a.id())) {
                busy();
                return false;
            }
        }
        a.listed = true;
        return true;
    }

    bool lock_kernel(attempt_guard& a)
    {
        ctx_.step = "lock";
        lock_result r = s_.lock.try_lock(a.fd(), s_.opts.shared, ec_);
        if (r == lock_result::busy && !deadline_.is_one_attempt()) {
            read_head(a.fd(), head_);
            note_waiting();
            r = s_.lock.lock_until(a.fd(), s_.opts.shared, deadline_, ec_);
        }
        if (r == lock_result::acquired) {
            a.locked = true;
            return true;
        }
        if (r == lock_result::busy) {
            read_head(a.fd(), head_);  // our own descriptor: weakens nothing
            busy();
        }
        return false;
    }

    // Both locks are held on the file we opened. Does the path still name it?
    bool path_still_names(attempt_guard& a)
    {
        file_facts now;
        error_code ignored;
        if (stat_path(path_, s_.opts.follow_symlinks, now, ignored) && now.id == a.id()) return true;
        a.forsake();
        return false;
    }

    // LockFile only, with the lock held exclusively: judge the old record's writer, then write
    // ours.
    bool write_record(attempt_guard& a)
    {
        ctx_.step = "write the record to lock file";
        const handle fd = a.fd();
        record_head old;
        error_code ec;
        old.size = read_at(fd, old.bytes, sizeof old.bytes, 0, ec);
        if (ec) {
            ec_ = ec;
            return false;
        }
        if (!record_line(old.view()).empty()) judge_old_record(fd, old);
        a.written = record_.size();
        write_at(fd, record_.data(), record_.size(), 0, ec_);
        // Truncate only what lies beyond our record; the file is never shrunk to zero, which would
        // free its block for the next holder to allocate again.
        if (!ec_ && (old.size > record_.size() || old.size == record_read_limit)) truncate_to(fd, record_.size(), ec_);
        return !ec_;
    }

    // A record survived: its writer died holding the lock, or it was a peer that never clears (the
    // Python original). The time of that write is the file's mtime now.
    void judge_old_record(handle fd, const record_head& old)
    {
        file_facts now;
        error_code ignored;
        const std::int64_t mtime = stat_handle(fd, now, ignored, stat_detail::with_mtime) ? now.mtime_ns : 0;
        const writer_assessment w = assess_writer(old.view(), *s_.tmpl, mtime);
        if (writer_gone(w.state))
            log_stale_taken_over(path_, w.pid, w.state == writer_state::pid_reused);
        else if (w.state == writer_state::other_host)
            log_other_host(path_, w.pid, w.hostname);
    }

    void commit(attempt_guard& a) noexcept
    {
        s_.fd = a.fd();
        s_.id = a.id();
        s_.owner = current_pid();
        s_.fork_epoch = a.epoch();
        s_.shared = s_.opts.shared;
        s_.record_size = a.written;
        s_.held = true;
        a.commit();
        if (waited_) log_acquired_after_wait(path_, steady::now() - started_);
    }

    void note_waiting() noexcept
    {
        if (waited_) return;
        waited_ = true;
        started_ = steady::now();
        log_waiting(path_, head_.view());
    }

    // Waits for this process's conflicting holder to release; false when the caller should not
    // wait, or the deadline passed.
    bool wait_in_process(const file_id& id)
    {
        if (deadline_.is_one_attempt()) return false;
        note_waiting();
        return registry::wait_until_free(id, s_.opts.shared, deadline_);
    }

    void busy() noexcept
    {
        if (report_ == busy_report::error)
            log_lock_failed(path_, head_.view());
        else
            log_busy(path_, head_.view());
        ec_ = make_error_code(error::locked);
    }

    lock_state& s_;
    const std::string& path_;
    deadline deadline_;
    busy_report report_;
    error_code& ec_;
    failure& ctx_;
    std::string record_;
    record_head head_;
    bool waited_ = false;
    steady::time_point started_;
};

// Releases what s holds; with keep_open, keeps the descriptor for the next lock() when it can.
// Allocates nothing and never throws.
void unlock_object(lock_state& s, bool keep_open, error_code& ec) noexcept
{
    ec.clear();
    if (s.owner != current_pid()) {
        // A forked child's copy of the parent's object: the lock and the descriptor are the
        // parent's (the child's fork handler closed its copy of the descriptor). Forgotten only:
        // never unlocked, blanked or closed here.
        s.lock.disown();
        s.held = false;
        s.fd = invalid_handle;
        s.record_size = 0;
        return;
    }
    if (!s.held) {
        if (!keep_open && s.fd != invalid_handle) {
            // The descriptor unlock() kept: it holds no lock, but while another object of this
            // process holds the file, closing it would drop that holder's record lock.
            registry::close_kept(s.id, s.fd);
            s.fd = invalid_handle;
        }
        return;
    }
    if (s.record_size != 0) {
        // Blank the record while the lock is still held: a record of ours that survives in the
        // file then means its writer died holding the lock.
        blank_record(s.fd, s.record_size, ec);
    }
    s.lock.disown();
    s.held = false;
    s.record_size = 0;
    // Closing the descriptor releases this process's record lock, and its flock too when no fork
    // can have copied it; unlock() undoes both and keeps it, unless other holders of this process
    // need the locks kept (then the registry parks it).
    if (!registry::leave(s.id, s.fd, true, keep_open, true, s.fork_epoch)) s.fd = invalid_handle;
}

// lock(), try_lock() and friends: true when acquired; false when busy, or when a failure was
// reported in *ec (without ec, emit_error throws it).
bool lock_object(lock_state* s, const std::string& path, const deadline& until, busy_report report,
                 error_code* ec)
{
    if (ec != nullptr) ec->clear();
    failure f;
    f.step = "lock";
    if (s == nullptr) {
        f.names_path = false;
        f.detail = "the lock file object has no path";
        emit_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument), path, f, ec);
        return false;
    }
    if (s->held && s->owner != current_pid()) {
        error_code forgotten;
        unlock_object(*s, false, forgotten);  // a forked child's copy of the parent's lock
    }
    if (s->held) {
        f.detail = "this object holds it already";
        emit_error(boost::system::errc::make_error_code(boost::system::errc::resource_deadlock_would_occur), path, f, ec);
        return false;
    }
    f.step = "open lock file";
    error_code failed;
    if (acquisition(*s, path, until, report, failed, f).run()) return true;
    if (failed != error::locked) emit_error(failed, path, f, ec);
    return false;
}

// read_contents(), both forms.
std::string read_object(const lock_state* s, bool locked, const std::string& path, std::size_t max_bytes,
                        error_code* ec)
{
    if (ec != nullptr) ec->clear();
    failure f;
    f.step = "read lock file";
    if (!locked) {
        f.detail = "no lock is held";
        emit_error(boost::system::errc::make_error_code(boost::system::errc::bad_file_descriptor), path, f, ec);
        return std::string();
    }
    // The buffer grows with what the file holds, so that a max_bytes no string can hold
    // (SIZE_MAX: "all of it") reads a small file rather than throw std::length_error, which
    // neither form may throw.
    std::string out;
    std::size_t got = 0;
    error_code failed;
    for (std::size_t want = std::min<std::size_t>(max_bytes, 4096);;) {
        out.resize(want);
        got += read_at(s->fd, &out[0] + got, want - got, got, failed);
        if (failed || got < want || want == max_bytes) break;
        want = want > max_bytes / 2 ? max_bytes : want * 2;
    }
    out.resize(got);
    if (!failed) return out;
    emit_error(failed, path, f, ec);
    return std::string();
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
    if (ec != nullptr) ec->clear();
    failure f;
    state_->opts = opts;
    if (template_text != nullptr) {
        content_template tmpl;
        if (!tmpl.parse(*template_text, f.detail)) {
            f.step = "use content template";
            f.template_text = template_text;
            emit_error(make_error_code(error::invalid_template), path_, f, ec);
            return;
        }
        state_->tmpl = std::move(tmpl);
    }
    if (defer) return;
    error_code failed;
    if (!acquisition(*state_, path_, deadline::after(opts.wait), busy_report::error, failed, f).run())
        emit_error(failed, path_, f, ec);
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

void SimpleLockFile::lock()
{
    (void)lock_object(state_.get(), path_, deadline::forever(), busy_report::error, nullptr);
}

void SimpleLockFile::lock(error_code& ec)
{
    (void)lock_object(state_.get(), path_, deadline::forever(), busy_report::error, &ec);
}

bool SimpleLockFile::try_lock()
{
    return lock_object(state_.get(), path_, deadline::one_attempt(), busy_report::debug, nullptr);
}

bool SimpleLockFile::try_lock(error_code& ec)
{
    return lock_object(state_.get(), path_, deadline::one_attempt(), busy_report::debug, &ec);
}

bool SimpleLockFile::try_lock_before(const deadline& until, error_code* ec)
{
    // A deadline already past still gets its one attempt.
    return lock_object(state_.get(), path_, until.passed() ? deadline::one_attempt() : until, busy_report::error, ec);
}

namespace {

void unlock_object_or_log(lock_state* s, const std::string& path, bool keep_open) noexcept
{
    if (s == nullptr) return;
    error_code ec;
    unlock_object(*s, keep_open, ec);
    if (ec) {
        try {
            log_clear_failed(path, ec);
        } catch (...) {
        }
    }
}

} // namespace

void SimpleLockFile::unlock() noexcept { unlock_object_or_log(state_.get(), path_, true); }

void SimpleLockFile::close() noexcept { unlock_object_or_log(state_.get(), path_, false); }

void SimpleLockFile::close(error_code& ec) noexcept
{
    ec.clear();
    if (state_) unlock_object(*state_, false, ec);
}

// A forked child's copy of the parent's lock is not the child's.
bool SimpleLockFile::is_locked() const noexcept { return state_ && state_->held && state_->owner == current_pid(); }

bool SimpleLockFile::is_shared() const noexcept { return is_locked() && state_->shared; }

const std::string& SimpleLockFile::path() const noexcept { return path_; }

std::string SimpleLockFile::read_contents(std::size_t max_bytes) const
{
    return read_object(state_.get(), is_locked(), path_, max_bytes, nullptr);
}

std::string SimpleLockFile::read_contents(std::size_t max_bytes, error_code& ec) const
{
    return read_object(state_.get(), is_locked(), path_, max_bytes, &ec);
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
