// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The in-process registry and the OS lock layer, driven directly: the deferred close that keeps
// a second descriptor from dropping the process's record lock. (Through the public API this path
// is reached only in a race; here it is reached every time.)
#define BOOST_TEST_MODULE registry
#include <boost/test/unit_test.hpp>

#include "support/fixture.hpp"
#include "support/process.hpp"

#include "../src/os_lock.hpp"
#include "../src/registry.hpp"

#if !defined(_WIN32)
#include <fcntl.h>
#include <unistd.h>
#endif

namespace zd = zc::lockfile::detail;
using namespace zc_test;

namespace {
struct opened {
    zd::handle fd;
    zd::file_facts facts;
    explicit opened(const std::string& path)
    {
        boost::system::error_code ec;
        fd = zd::open_file(path, zd::open_mode::create_read_write, false, ec);
        BOOST_REQUIRE(!ec);
        BOOST_REQUIRE(zd::stat_handle(fd, facts, ec));
    }
};
// Whether the descriptor (on Windows, the handle) is still open. Nothing is opened between a
// close and this question in the cases below, so the value cannot have been reused.
bool is_open(zd::handle fd)
{
#if defined(_WIN32)
    DWORD flags = 0;
    return ::GetHandleInformation(reinterpret_cast<HANDLE>(fd), &flags) != 0;
#else
    return ::fcntl(fd, F_GETFD) != -1;
#endif
}
} // namespace

BOOST_AUTO_TEST_CASE(a_second_descriptor_of_a_held_file_is_closed_only_after_release)
{
    temp_dir dir;
    const std::string path = dir / "lock";
    opened holder(path);
    zd::registry::slot_node holder_node, second_node;
    holder_node.allocate();
    second_node.allocate();
    BOOST_REQUIRE(zd::registry::reserve(holder.facts.id, holder.fd, false, &holder_node, nullptr));
    zd::kernel_lock lock;
    boost::system::error_code ec;
    BOOST_REQUIRE((lock.try_lock(holder.fd, false, ec) == zd::lock_result::acquired));

    opened second(path);
    BOOST_TEST((second.facts.id == holder.facts.id));
    zd::record_head head;
    head.size = 99;
    BOOST_TEST(!zd::registry::reserve(second.facts.id, second.fd, false, &second_node, &head));
    BOOST_TEST(head.size == 0u);  // the holder's record was read: the file is empty
    BOOST_TEST(!second_node.used());
    zd::registry::close_unless_held(second.facts.id, second.fd, second_node);
    BOOST_TEST(zd::registry::descriptors(holder.facts.id) == 2u);
    BOOST_TEST(is_open(second.fd));                 // deferred, not closed
    BOOST_TEST(probe_fcntl(path) == probe_busy);    // so the record lock is still held
    BOOST_TEST(probe_flock(path) == probe_busy);

    lock.disown();
    BOOST_TEST(!zd::registry::leave(holder.facts.id, holder.fd, true, false, true));
    BOOST_TEST(!is_open(second.fd));                // closed with the holder's descriptors
    BOOST_TEST(!is_open(holder.fd));
    BOOST_TEST(zd::registry::empty());
    BOOST_TEST(probe_fcntl(path) == probe_acquired);
}

BOOST_AUTO_TEST_CASE(a_descriptor_of_a_file_not_held_is_closed_at_once)
{
    temp_dir dir;
    opened f(dir / "lock");
    zd::registry::slot_node node;
    node.allocate();
    zd::registry::close_unless_held(f.facts.id, f.fd, node);
    BOOST_TEST(!is_open(f.fd));
}

BOOST_AUTO_TEST_CASE(registry_counts_what_is_held)
{
    temp_dir dir;
    opened a(dir / "a"), b(dir / "b");
    BOOST_TEST(zd::registry::size() == 0u);
    zd::registry::slot_node na, nb;
    na.allocate();
    nb.allocate();
    BOOST_REQUIRE(zd::registry::reserve(a.facts.id, a.fd, false, &na, nullptr));
    BOOST_REQUIRE(zd::registry::reserve(b.facts.id, b.fd, false, &nb, nullptr));
    BOOST_TEST(zd::registry::size() == 2u);
    zd::registry::leave(a.facts.id, a.fd, false, false, true);
    zd::registry::leave(b.facts.id, b.fd, false, false, true);
    BOOST_TEST(zd::registry::empty());
}

// A descriptor kept by unlock() holds no lock: a new request cannot meet it, so it does not make
// requests stat the path first (empty() is what the acquisition asks before that stat).
BOOST_AUTO_TEST_CASE(a_kept_descriptor_leaves_the_registry_without_holders)
{
    temp_dir dir;
    opened a(dir / "a");
    zd::registry::slot_node na;
    na.allocate();
    BOOST_REQUIRE(zd::registry::reserve(a.facts.id, a.fd, false, &na, nullptr));
    BOOST_TEST(!zd::registry::empty());
    BOOST_TEST(zd::registry::leave(a.facts.id, a.fd, false, true, true));  // kept
    BOOST_TEST(is_open(a.fd));
    BOOST_TEST(zd::registry::size() == 1u);
    BOOST_TEST(zd::registry::empty());
    BOOST_REQUIRE(zd::registry::reserve(a.facts.id, a.fd, true, nullptr, nullptr));  // locked again
    BOOST_TEST(!zd::registry::empty());
    BOOST_TEST(zd::registry::leave(a.facts.id, a.fd, false, true, true));
    zd::registry::close_kept(a.facts.id, a.fd);
    BOOST_TEST(!is_open(a.fd));
    BOOST_TEST(zd::registry::size() == 0u);
}

BOOST_AUTO_TEST_CASE(os_lock_refuses_when_either_family_is_held_elsewhere, *boost::unit_test::enable_if<!on_windows>()
                        * boost::unit_test::description("not on Windows: the two POSIX lock families (flock and fcntl), each held by a "
                                                        "forked child; Windows has one kind of lock and no fork"))
{
#if !defined(_WIN32)
    temp_dir dir;
    const std::string path = dir / "lock";
    for (const char* family : {"flock", "fcntl"}) {
        BOOST_TEST_CONTEXT(family)
        {
            int ready[2], done[2];
            BOOST_REQUIRE(::pipe(ready) == 0);
            BOOST_REQUIRE(::pipe(done) == 0);
            const std::string which = family;
            const pid_t child = ::fork();
            if (child == 0) {
                const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
                struct flock fl{};
                fl.l_type = F_WRLCK;
                fl.l_whence = SEEK_SET;
                const int rc = which == "flock" ? ::flock(fd, LOCK_EX) : ::fcntl(fd, F_SETLK, &fl);
                char c = rc == 0 ? 'y' : 'n';
                (void)!::write(ready[1], &c, 1);
                (void)!::read(done[0], &c, 1);
                ::_exit(0);
            }
            char c = 0;
            BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
            BOOST_REQUIRE(c == 'y');
            opened f(path);
            zd::kernel_lock lock;
            boost::system::error_code ec;
            BOOST_TEST((lock.try_lock(f.fd, false, ec) == zd::lock_result::busy));
            BOOST_TEST(!ec);
            // A busy result leaves nothing held: the flock half is undone when the fcntl half fails.
            (void)!::write(done[1], &c, 1);
            ::waitpid(child, nullptr, 0);
            BOOST_TEST(probe_flock(path) == probe_acquired);
            zd::close_handle(f.fd);
            for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
        }
    }
#endif
}
