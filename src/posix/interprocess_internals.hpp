// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// The Boost.Interprocess internals the POSIX seam relies on (os_lock.cpp), in one place, each
// checked against the Boost in use when the library is built, so that a Boost that changed them
// stops the build with a message saying what changed, rather than building a library that locks
// the wrong thing:
//   - file_lock's private member m_file_hnd, its whole state: os_lock hands it our descriptor
//     instead of letting it open the file again by name (os_lock.hpp says why);
//   - ipcdetail::release_file_lock(file_handle_t), what file_lock::unlock() calls: the registry
//     releases a record lock through it without the file_lock that took it;
//   - ipcdetail::invalid_file(), the value of a file_lock that holds no file.
// Checked on Boost 1.74 and 1.81 (test/matrix.sh builds both). What the compiler cannot see, that
// file_lock still takes a POSIX record lock (fcntl) and not the flock variant Interprocess keeps
// under `#if 0`, lock_file_test checks at run time
// (the_record_lock_is_a_posix_record_lock_owned_by_this_process).
#ifndef ZC_LOCKFILE_SRC_POSIX_INTERPROCESS_INTERNALS_HPP
#define ZC_LOCKFILE_SRC_POSIX_INTERPROCESS_INTERNALS_HPP

#include <boost/interprocess/detail/os_file_functions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>
#include <boost/version.hpp>

#include <type_traits>
#include <utility>

// Set by the b2 build for `boost=1.74` (Jamroot): the headers found must be that Boost's, not the
// system's, whose libraries would not match.
#if defined(ZC_LOCKFILE_EXPECTED_BOOST_VERSION) && BOOST_VERSION != ZC_LOCKFILE_EXPECTED_BOOST_VERSION
#error "zc_lockfile: the Boost headers found are not the Boost this build was configured for (boost=... in b2)"
#endif

// Fallbacks that unqualified lookup finds beside Boost's functions: chosen only when Boost has no
// function of that name taking those arguments, since a non-template wins over a template.
// At global scope, so that both using-directives below put their names in the same scope.
namespace zc_lockfile_interprocess_fallback {
struct absent {};
template <class... Args> absent release_file_lock(Args&&...);
template <class... Args> absent invalid_file(Args&&...);
} // namespace zc_lockfile_interprocess_fallback

namespace zc_lockfile_interprocess_probe {
using namespace boost::interprocess::ipcdetail;
using namespace zc_lockfile_interprocess_fallback;
using release_result = decltype(release_file_lock(std::declval<boost::interprocess::file_handle_t>()));
using invalid_result = decltype(invalid_file());

// Whether file_lock has a member named m_file_hnd, whatever its access: with one, the name is
// ambiguous in a class derived from file_lock and from a class with a public m_file_hnd; without
// one, it names the public one. (Access is checked after lookup, so private does not matter.)
struct public_m_file_hnd {
    int m_file_hnd;
};
struct derived : boost::interprocess::file_lock, public_m_file_hnd {};
template <class T, class = void> struct names_a_unique_m_file_hnd : std::false_type {};
template <class T> struct names_a_unique_m_file_hnd<T, std::void_t<decltype(&T::m_file_hnd)>> : std::true_type {};
constexpr bool file_lock_has_m_file_hnd = !names_a_unique_m_file_hnd<derived>::value;
} // namespace zc_lockfile_interprocess_probe

static_assert(!std::is_same<zc_lockfile_interprocess_probe::release_result, zc_lockfile_interprocess_fallback::absent>::value,
              "zc_lockfile: this Boost.Interprocess (Boost " BOOST_LIB_VERSION ") has no ipcdetail::release_file_lock(file_handle_t), "
              "which src/posix/os_lock.cpp calls to release a record lock (see src/posix/interprocess_internals.hpp)");
static_assert(std::is_same<zc_lockfile_interprocess_probe::release_result, zc_lockfile_interprocess_fallback::absent>::value ||
                  std::is_same<zc_lockfile_interprocess_probe::release_result, bool>::value,
              "zc_lockfile: this Boost.Interprocess (Boost " BOOST_LIB_VERSION ") changed ipcdetail::release_file_lock(file_handle_t): "
              "it no longer returns bool (see src/posix/interprocess_internals.hpp)");
static_assert(!std::is_same<zc_lockfile_interprocess_probe::invalid_result, zc_lockfile_interprocess_fallback::absent>::value,
              "zc_lockfile: this Boost.Interprocess (Boost " BOOST_LIB_VERSION ") has no ipcdetail::invalid_file(), "
              "which src/posix/os_lock.cpp uses to empty a file_lock (see src/posix/interprocess_internals.hpp)");
static_assert(std::is_same<zc_lockfile_interprocess_probe::invalid_result, zc_lockfile_interprocess_fallback::absent>::value ||
                  std::is_same<zc_lockfile_interprocess_probe::invalid_result, boost::interprocess::file_handle_t>::value,
              "zc_lockfile: this Boost.Interprocess (Boost " BOOST_LIB_VERSION ") changed ipcdetail::invalid_file(): "
              "it no longer returns a file_handle_t (see src/posix/interprocess_internals.hpp)");
static_assert(zc_lockfile_interprocess_probe::file_lock_has_m_file_hnd,
              "zc_lockfile: this Boost.Interprocess (Boost " BOOST_LIB_VERSION ") renamed file_lock's private member m_file_hnd, "
              "which src/posix/os_lock.cpp hands its own descriptor (see src/posix/interprocess_internals.hpp)");
static_assert(sizeof(boost::interprocess::file_lock) == sizeof(boost::interprocess::file_handle_t),
              "zc_lockfile: this Boost.Interprocess (Boost " BOOST_LIB_VERSION ") keeps more in a file_lock than its handle, "
              "which src/posix/os_lock.cpp replaces with its own descriptor (see src/posix/interprocess_internals.hpp)");

namespace zc {
namespace lockfile {
namespace detail {
namespace {  // a private header of os_lock.cpp: the explicit instantiation is made once

// file_lock_handle(l) is l's m_file_hnd. An explicit instantiation may name a private member
// (C++17 [temp.spec]/6): that gives the access, and nothing else in the library needs it.
template <auto Member> struct file_lock_handle_access {
    static_assert(std::is_same<decltype(Member), boost::interprocess::file_handle_t boost::interprocess::file_lock::*>::value,
                  "zc_lockfile: this Boost.Interprocess changed the type of file_lock's m_file_hnd: it is no longer a "
                  "file_handle_t (see src/posix/interprocess_internals.hpp)");
    friend boost::interprocess::file_handle_t& file_lock_handle(boost::interprocess::file_lock& l) noexcept { return l.*Member; }
};
template struct file_lock_handle_access<&boost::interprocess::file_lock::m_file_hnd>;
boost::interprocess::file_handle_t& file_lock_handle(boost::interprocess::file_lock& l) noexcept;

// What file_lock::unlock() does, on a descriptor rather than a file_lock; false when it failed.
inline bool release_record_lock_of(boost::interprocess::file_handle_t h) noexcept
{
    return boost::interprocess::ipcdetail::release_file_lock(h);
}
// The handle of a file_lock that holds no file.
inline boost::interprocess::file_handle_t no_file() noexcept { return boost::interprocess::ipcdetail::invalid_file(); }

} // namespace
} // namespace detail
} // namespace lockfile
} // namespace zc

#endif
