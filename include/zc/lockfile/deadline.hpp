// Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#ifndef ZC_LOCKFILE_DEADLINE_HPP
#define ZC_LOCKFILE_DEADLINE_HPP

#include <chrono>
#include <type_traits>

namespace zc {
namespace lockfile {

namespace detail {
// A timeout of this many seconds or more (about a century) means for ever.
constexpr double forever_seconds = 3.2e9;
} // namespace detail

// tag::wait[]
// options::wait value meaning "as long as it takes".
constexpr std::chrono::nanoseconds wait_forever = std::chrono::nanoseconds::max();

// Any timeout as an options::wait value: zero for no time left (zero, negative or NaN: one
// attempt), wait_forever for a century or more (or an infinite timeout), otherwise the timeout
// rounded up to whole nanoseconds. Compared in floating point, which cannot overflow.
template <class Rep, class Period>
constexpr std::chrono::nanoseconds to_wait(const std::chrono::duration<Rep, Period>& timeout) noexcept
{
    const double seconds = std::chrono::duration<double>(timeout).count();
    if (!(seconds > 0)) return std::chrono::nanoseconds::zero();
    if (seconds >= detail::forever_seconds) return wait_forever;
    return std::chrono::ceil<std::chrono::nanoseconds>(timeout);
}
// end::wait[]

namespace detail {

// How long an acquisition may wait for a busy lock, from the public API down to the kernel
// calls: one attempt, until a steady-clock time, or for ever. Every timeout becomes one through
// after() (and to_wait(), with the one threshold forever_seconds), every time point through at().
class deadline {
public:
    using clock = std::chrono::steady_clock;

    constexpr deadline() noexcept = default;  // one attempt
    static constexpr deadline one_attempt() noexcept { return deadline(); }
    static constexpr deadline forever() noexcept { return deadline(state::forever, clock::time_point::max()); }
    // Until t; a t already past still makes its one attempt, and waits no more.
    static constexpr deadline until(clock::time_point t) noexcept { return deadline(state::until, t); }

    // A timeout from now: see to_wait().
    template <class Rep, class Period> static deadline after(const std::chrono::duration<Rep, Period>& timeout) noexcept
    {
        const std::chrono::nanoseconds wait = to_wait(timeout);
        if (wait == std::chrono::nanoseconds::zero()) return one_attempt();
        if (wait == wait_forever) return forever();
        return until(clock::now() + std::chrono::ceil<clock::duration>(wait));
    }
    // A time point of any clock, converted once, here. One already past makes one attempt; a
    // steady-clock one is kept as it is. One far from now is told in floating point first: in
    // the common unit of when and now, when - now (and even when <= now) would overflow for
    // time_point<system_clock, hours>::max() or seconds::min(). Within the threshold of
    // to_wait() of now, they are exact.
    template <class Clock, class Duration>
    static deadline at(const std::chrono::time_point<Clock, Duration>& when) noexcept
    {
        const auto now = Clock::now();
        const double gap = std::chrono::duration<double>(when.time_since_epoch()).count() -
                           std::chrono::duration<double>(now.time_since_epoch()).count();
        if (!(gap > -forever_seconds)) return one_attempt();  // far past, or NaN
        if (gap >= forever_seconds) return forever();
        if (when <= now) return one_attempt();
        const deadline d = after(when - now);
        if constexpr (std::is_same<Clock, clock>::value) {
            if (!d.is_forever()) return until(std::chrono::ceil<clock::duration>(when));
        }
        return d;
    }

    constexpr bool is_one_attempt() const noexcept { return state_ == state::one_attempt; }
    constexpr bool is_forever() const noexcept { return state_ == state::forever; }
    // The steady-clock time it ends: time_point::min() for one attempt, max() for ever.
    constexpr clock::time_point when() const noexcept { return when_; }
    // No more waiting: always for one attempt, never for ever.
    bool passed() const noexcept { return !is_forever() && (is_one_attempt() || clock::now() >= when_); }

private:
    enum class state { one_attempt, until, forever };
    constexpr deadline(state s, clock::time_point t) noexcept : state_(s), when_(t) {}

    state state_ = state::one_attempt;
    clock::time_point when_ = clock::time_point::min();
};

} // namespace detail

} // namespace lockfile
} // namespace zc

#endif
