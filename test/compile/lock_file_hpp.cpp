// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// <zc/lockfile/lock_file.hpp> compiles on its own, and twice (include guard).
#include <zc/lockfile/lock_file.hpp>
#include <zc/lockfile/lock_file.hpp>
