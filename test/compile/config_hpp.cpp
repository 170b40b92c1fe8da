// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// <zc/lockfile/config.hpp> compiles on its own, and twice (include guard).
#include <zc/lockfile/config.hpp>
#include <zc/lockfile/config.hpp>
