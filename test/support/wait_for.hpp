// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
// Waiting in a test for something another thread or process makes observable.
#ifndef ZC_LOCKFILE_TEST_WAIT_FOR_HPP
#define ZC_LOCKFILE_TEST_WAIT_FOR_HPP

#include "process.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <stdexcept>
#include <string>
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

// Runs f on another thread and returns what it returns, if it does within step_limit. If it does
// not (a deadlock), says so on stderr naming `what` and ends the process with status 1: the stuck
// thread can be neither joined nor abandoned safely.
template <class F> auto returns_in_time(const std::string& what, F f) -> decltype(f())
{
    auto result = std::async(std::launch::async, std::move(f));
    if (result.wait_for(step_limit) != std::future_status::ready) {
        std::fprintf(stderr, "error: %s did not return within %lld ms: a deadlock\n", what.c_str(),
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(step_limit).count()));
        std::fflush(stderr);
        std::_Exit(1);
    }
    return result.get();
}

} // namespace zc_test

#endif
