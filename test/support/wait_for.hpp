// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Waiting in a test for something another thread or process makes observable.
#ifndef ZC_LOCKFILE_TEST_WAIT_FOR_HPP
#define ZC_LOCKFILE_TEST_WAIT_FOR_HPP

#include "process.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>

namespace zc_test {

// Checks `ready` until it holds; throws after step_limit. The checks are spaced by 200 us: this
// waits for an event, it does not guess how long one takes.
template <class Predicate> void wait_for(Predicate ready)
{
    const auto deadline = std::chrono::steady_clock::now() + step_limit;
    while (!ready()) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the awaited event did not happen");
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

} // namespace zc_test

#endif
