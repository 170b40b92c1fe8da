// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_CONFIG_HPP
#define ZC_LOCKFILE_CONFIG_HPP

#include <boost/config.hpp>

// ZC_LOCKFILE_DYN_LINK travels with the shared library as a usage requirement (b2) or a
// PUBLIC definition (CMake); ZC_LOCKFILE_SOURCE is set only while the library itself builds.
#if defined(ZC_LOCKFILE_DYN_LINK)
#  if defined(ZC_LOCKFILE_SOURCE)
#    define ZC_LOCKFILE_DECL BOOST_SYMBOL_EXPORT
#  else
#    define ZC_LOCKFILE_DECL BOOST_SYMBOL_IMPORT
#  endif
#else
#  define ZC_LOCKFILE_DECL
#endif

// The project's version, written here only: CMakeLists.txt, the jamfile and conanfile.py read
// these three lines.
#define ZC_LOCKFILE_VERSION_MAJOR 0
#define ZC_LOCKFILE_VERSION_MINOR 1
#define ZC_LOCKFILE_VERSION_PATCH 0

// major * 100000 + minor * 100 + patch
#define ZC_LOCKFILE_VERSION (ZC_LOCKFILE_VERSION_MAJOR * 100000 + ZC_LOCKFILE_VERSION_MINOR * 100 + ZC_LOCKFILE_VERSION_PATCH)
#define ZC_LOCKFILE_VERSION_STRING \
    BOOST_STRINGIZE(ZC_LOCKFILE_VERSION_MAJOR) "." BOOST_STRINGIZE(ZC_LOCKFILE_VERSION_MINOR) "." BOOST_STRINGIZE(ZC_LOCKFILE_VERSION_PATCH)

#endif
