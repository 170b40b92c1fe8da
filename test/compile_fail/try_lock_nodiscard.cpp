// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// try_lock() is [[nodiscard]]: ignoring whether it locked must not compile (with -Werror).
#include <zc/lockfile.hpp>

void f(zc::lockfile::SimpleLockFile& l)
{
    l.try_lock();
}
