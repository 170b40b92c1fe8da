// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// <zc/lockfile/deadline.hpp> compiles on its own, and twice (include guard).
#include <zc/lockfile/deadline.hpp>
#include <zc/lockfile/deadline.hpp>
