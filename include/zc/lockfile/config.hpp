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

// major * 100000 + minor * 100 + patch
#define ZC_LOCKFILE_VERSION 100
#define ZC_LOCKFILE_VERSION_STRING "0.1.0"

#endif
