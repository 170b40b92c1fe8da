// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// LockFile and SimpleLockFile: the layers composed in one readable sequence.
//
//   open (O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK) -> fstat: a regular file -> registry: not held here
//   -> os_lock: flock + boost file_lock -> [LockFile] read the old record, judge its writer,
//   write ours -> ... -> [LockFile] blank our record -> unlock both -> registry: close, forget.

#include <zc/lockfile/lock_file.hpp>

#include "lock_state.hpp"
#include "log.hpp"
#include "os_lock.hpp"
#include "record.hpp"
#include "registry.hpp"
#include "stale.hpp"

#include <boost/system/system_error.hpp>

#include <string_view>
#include <utility>

namespace zc {
namespace lockfile {

using boost::system::error_code;
using namespace detail;

namespace {

// Which step failed, for the exception's message.
struct failure_context {
    const char* step = "open lock file";
    const char* found = nullptr;  // what is at the path, when it is not a regular file
    std::string detail;           // a template's fault
};

error_code refuse(const std::string& path, std::string_view holder_head)
{
    log_lock_failed(path, holder_head);
    return make_error_code(error::locked);
}

// LockFile only, with the lock held: judge the old record's writer, then write ours.
bool write_record(lock_state& s, const std::string& path, const content_template& tmpl, error_code& ec)
{
    char buf[record_read_limit];
    const std::size_t old_size = read_at(s.fd, buf, sizeof buf, 0, ec);
    if (ec) return false;
    const std::string_view head(buf, old_size);
    if (!record_line(head).empty()) {
        // A record survived: its writer died holding the lock, or it was a peer that never clears
        // (the Python original). The time of that write is the file's mtime now.
        file_facts now;
        error_code ignored;
        const std::int64_t mtime = stat_handle(s.fd, now, ignored) ? now.mtime_ns : 0;
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

std::unique_ptr<lock_state> acquire(const std::string& path, const content_template* tmpl, const options& opts,
                                    error_code& ec, failure_context& ctx)
{
    auto state = std::make_unique<lock_state>();

    // A file this process holds is refused without opening it again: that descriptor would have
    // to stay open until the holder releases. Only worth a stat when something is held.
    if (!registry::empty()) {
        file_facts facts;
        if (stat_path(path, opts.follow_symlinks, facts, ec) && facts.regular) {
            std::string head;
            if (registry::with_holder(facts.id, [&](handle h) { head = read_head(h); })) {
                ec = refuse(path, head);
                return nullptr;
            }
        }
    }

    const handle fd = open_file(path, open_mode::create_read_write, opts.follow_symlinks, ec);
    if (ec) return nullptr;
    file_facts facts;
    if (!stat_handle(fd, facts, ec) || !facts.regular) {
        // Nothing of ours can be locked through this descriptor: it is not a regular file.
        close_handle(fd);
        if (!ec) {
            ec = make_error_code(error::not_a_regular_file);
            ctx.found = facts.kind;
        }
        return nullptr;
    }

    std::string head;
    if (!registry::reserve(facts.id, fd, [&](handle h) { head = read_head(h); })) {
        registry::close_unless_held(facts.id, fd);
        ec = refuse(path, head);
        return nullptr;
    }

    ctx.step = "lock";
    switch (state->lock.try_lock(fd, ec)) {
    case lock_result::acquired: break;
    case lock_result::busy:
        head = read_head(fd);  // a read through our own descriptor weakens nothing
        registry::release(facts.id, fd);
        ec = refuse(path, head);
        return nullptr;
    case lock_result::failed: registry::release(facts.id, fd); return nullptr;
    }
    state->fd = fd;
    state->id = facts.id;
    state->owner = current_pid();

    if (tmpl != nullptr) {
        ctx.step = "write the record to lock file";
        if (!write_record(*state, path, *tmpl, ec)) {
            state->lock.unlock(fd);
            state->lock.disown();
            registry::release(facts.id, fd);
            return nullptr;
        }
    }
    return state;
}

void release(std::unique_ptr<lock_state>& s, error_code& ec) noexcept
{
    ec.clear();
    if (!s) return;
    if (s->owner == current_pid()) {
        if (s->record_size != 0) {
            // Blank the record while the lock is still held: a record that survives in the file
            // then always means its writer died holding the lock.
            const std::string blanks = blank_record(s->record_size);
            write_at(s->fd, blanks.data(), blanks.size(), 0, ec);
        }
        s->lock.unlock(s->fd);
    }
    // A forked child's copy only closes: the lock is the parent's, never unlocked or written here.
    // Closing the descriptor releases this process's record lock (none, in a child).
    s->lock.disown();
    registry::release(s->id, s->fd);
    s.reset();
}

[[noreturn]] void throw_failure(const std::string& path, const error_code& ec, const failure_context& ctx)
{
    if (ec == error::locked) throw LockError(path);
    std::string what = std::string("Couldn't ") + ctx.step + " '" + path + "'";
    if (ctx.found != nullptr) what += std::string(" (found ") + ctx.found + ")";
    if (!ctx.detail.empty()) what += " (" + ctx.detail + ")";
    throw boost::system::system_error(ec, what);
}

} // namespace

SimpleLockFile::SimpleLockFile() noexcept = default;

SimpleLockFile::SimpleLockFile(std::string path, const options& opts) : SimpleLockFile(std::move(path), nullptr, opts, nullptr) {}

SimpleLockFile::SimpleLockFile(std::string path, error_code& ec) : SimpleLockFile(std::move(path), options(), ec) {}

SimpleLockFile::SimpleLockFile(std::string path, const options& opts, error_code& ec)
    : SimpleLockFile(std::move(path), nullptr, opts, &ec)
{
}

SimpleLockFile::SimpleLockFile(std::string path, const std::string* template_text, const options& opts, error_code* ec)
    : path_(std::move(path))
{
    error_code local;
    error_code& out = ec != nullptr ? *ec : local;
    failure_context ctx;
    content_template tmpl;
    if (template_text != nullptr && !tmpl.parse(*template_text, ctx.detail)) {
        out = make_error_code(error::invalid_template);
        if (ec == nullptr) {
            throw boost::system::system_error(out, "Couldn't use content template '" + *template_text +
                                                       "' for lock file '" + path_ + "' (" + ctx.detail + ")");
        }
        return;
    }
    state_ = acquire(path_, template_text != nullptr ? &tmpl : nullptr, opts, out, ctx);
    if (!state_ && ec == nullptr) throw_failure(path_, out, ctx);
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

void SimpleLockFile::close() noexcept
{
    error_code ec;
    close(ec);
    if (ec) {
        try {
            log_clear_failed(path_, ec);
        } catch (...) {
        }
    }
}

void SimpleLockFile::close(error_code& ec) noexcept { release(state_, ec); }

bool SimpleLockFile::is_locked() const noexcept { return state_ != nullptr; }

const std::string& SimpleLockFile::path() const noexcept { return path_; }

std::string SimpleLockFile::read_contents(std::size_t max_bytes) const
{
    if (!state_) {
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
    : SimpleLockFile(std::move(path), &content_template, opts, nullptr)
{
}

LockFile::LockFile(std::string path, error_code& ec) : LockFile(std::move(path), "{pid}", options(), ec) {}

LockFile::LockFile(std::string path, const std::string& content_template, error_code& ec)
    : LockFile(std::move(path), content_template, options(), ec)
{
}

LockFile::LockFile(std::string path, const std::string& content_template, const options& opts, error_code& ec)
    : SimpleLockFile(std::move(path), &content_template, opts, &ec)
{
}

} // namespace lockfile
} // namespace zc
