// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Umbrella header of zc_lockfile: inter-process locks implemented with lock files.
#ifndef ZC_LOCKFILE_HPP
#define ZC_LOCKFILE_HPP

#include <zc/lockfile/config.hpp>
#include <zc/lockfile/error.hpp>
#include <zc/lockfile/inspect.hpp>
#include <zc/lockfile/lock_file.hpp>

#endif
