// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// inspect(): what is known about a lock file, without taking it and without weakening a lock
// this process holds on it.

#include <zc/lockfile/inspect.hpp>

#include "failure.hpp"
#include "os_lock.hpp"
#include "record.hpp"
#include "registry.hpp"
#include "stale.hpp"

namespace zc {
namespace lockfile {

using boost::system::error_code;
using namespace detail;

namespace {

lock_family family_of(kernel_holder::kind k) noexcept
{
    switch (k) {
    case kernel_holder::kind::flock: return lock_family::flock;
    case kernel_holder::kind::posix: return lock_family::posix;
    case kernel_holder::kind::ofd: return lock_family::ofd;
    case kernel_holder::kind::byte_range: return lock_family::byte_range;
    case kernel_holder::kind::none: break;
    }
    return lock_family::none;
}

// Fills in what this process knows when it holds the file itself; false when it does not.
bool inspect_held(const file_id& id, lock_info& info, record_head& head)
{
    return registry::with_holder(id, [&](handle h) {
        read_head(h, head);
        info.locked = true;
        info.family = lock_family::this_process;
        info.holder_pid = current_pid();
    });
}

// A file this process did not hold when it was stat'ed: what the kernel says of it, through a
// read-only descriptor. A failure is set in ec; a file removed meanwhile leaves info.exists false.
void inspect_unheld(const std::string& path, const options& opts, file_facts& facts, lock_info& info,
                    record_head& head, error_code& ec)
{
    // The descriptor's place in the registry, in case it must be parked: allocated first.
    registry::slot_node node;
    node.allocate();
    // Read-only: F_GETLK and reading need nothing more, and nothing is created or locked.
    const handle fd = open_file(path, open_mode::read_only, opts.follow_symlinks, ec);
    if (ec) {
        if (ec == boost::system::errc::no_such_file_or_directory) {
            ec.clear();  // removed since the stat
            info.exists = false;
        }
        return;
    }
    if (!stat_handle(fd, facts, ec, stat_detail::with_mtime) || !facts.regular) {
        close_handle(fd);
        if (!ec) ec = make_error_code(error::not_a_regular_file);
        return;
    }
    // Never a plain close, even when a step below throws: if this process has meanwhile
    // locked the file, closing this descriptor would release its record lock.
    struct close_or_park {
        const file_id& id;
        handle fd;
        registry::slot_node& node;
        ~close_or_park() { registry::close_unless_held(id, fd, node); }
    } closer{facts.id, fd, node};
    // The path may have come to name a file this process holds since the stat above.
    if (!inspect_held(facts.id, info, head)) {
        const kernel_holder k = probe_holder(fd, facts.id);
        info.locked = k.locked;
        info.family = family_of(k.family);
        info.holder_pid = k.pid;
        read_head(fd, head);
    }
}

// What inspect() finds; a failure is set in ec, and a template's fault said in why.
lock_info examine(const std::string& path, const std::string& template_text, const options& opts, error_code& ec,
                  std::string& why)
{
    lock_info info;
    content_template tmpl;
    if (!tmpl.parse(template_text, why)) {
        ec = make_error_code(error::invalid_template);
        why = "content template '" + template_text + "': " + why;
        return info;
    }

    file_facts facts;
    if (!stat_path(path, opts.follow_symlinks, facts, ec, stat_detail::with_mtime)) return info;  // missing: ec is clear
    if (!facts.regular) {
        ec = make_error_code(error::not_a_regular_file);
        return info;
    }
    info.exists = true;

    record_head head;
    if (!inspect_held(facts.id, info, head)) {
        inspect_unheld(path, opts, facts, info, head, ec);
        if (ec || !info.exists) return info;
    }

    info.record = std::string(record_line(head.view()));
    const writer_assessment w = assess_writer(head.view(), tmpl, facts.mtime_ns, info.holder_pid);
    info.recorded_pid = w.pid;
    info.recorded_hostname = w.hostname;
    info.writer = w.state;
    info.stale = !info.locked && writer_gone(w.state);
    return info;
}

// Both forms of inspect(): a failure goes to emit_error.
lock_info inspect_reporting(const std::string& path, const std::string& template_text, const options& opts,
                            error_code* ec)
{
    if (ec != nullptr) ec->clear();
    failure f;
    f.step = "inspect lock file";
    error_code failed;
    lock_info info = examine(path, template_text, opts, failed, f.detail);
    if (failed) emit_error(failed, path, f, ec);
    return info;
}

} // namespace

lock_info inspect(const std::string& path, const std::string& template_text, const options& opts, error_code& ec)
{
    return inspect_reporting(path, template_text, opts, &ec);
}

lock_info inspect(const std::string& path, const std::string& template_text, const options& opts)
{
    return inspect_reporting(path, template_text, opts, nullptr);
}

} // namespace lockfile
} // namespace zc
