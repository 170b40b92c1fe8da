// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// <zc/lockfile/error.hpp> compiles on its own, and twice (include guard).
#include <zc/lockfile/error.hpp>
#include <zc/lockfile/error.hpp>
