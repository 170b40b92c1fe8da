#!/usr/bin/env bash
# The test suite under the tools: AddressSanitizer with UndefinedBehaviorSanitizer, ThreadSanitizer
# (threads tests included), valgrind's memcheck once over every Boost.Test module, and the two
# libFuzzer targets for a fixed time each. Prints how long each stage took.
#
#   test/tools.sh [FUZZ_SECONDS]     (default 60; needs b2, g++, clang, libclang-rt-14-dev, valgrind)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fuzz_seconds=${1:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$root/test/stage.sh"
b2_tests() { b2_summary test "$@"; }

stage "AddressSanitizer + UndefinedBehaviorSanitizer: the b2 test suite"
# The race shim is preloaded before the ASan runtime in one test: allowed, it defines only flock.
ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    b2_tests address-sanitizer=norecover undefined-sanitizer=norecover

stage "ThreadSanitizer: the b2 test suite"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 b2_tests thread-sanitizer=norecover

stage "valgrind memcheck: every Boost.Test module once"
b2_tests > /dev/null
bin=bin/test
lib_dir=$(dirname "$(find bin -path '*release/cxxstd-17-iso/threading-multi/visibility-hidden/*' -name 'libzc_lockfile.so.*' -not -path '*sanitizer*' -not -path 'bin/matrix/*' | head -n 1)")
helpers=()
for h in boost_peer lock_helper libreplace_shim.so libsignal_shim.so; do
    helpers+=("$(find "$bin" -not -path "*.test/*" -path '*release/cxxstd-17-iso/threading-multi/visibility-hidden/*' -name "$h" -not -path '*sanitizer*' | head -n 1)")
done
helpers+=("$(find bin -path '*release/cxxstd-17-iso/threading-multi/visibility-hidden/*' -name zc-lockfile -type f -not -path '*sanitizer*' -not -path 'bin/matrix/*' | head -n 1)")
helpers+=("$root/test/helper/signal_cases.py")
# alloc_failure_test is left out: memcheck replaces operator new with its own, so the test's
# failing allocator never runs (its first case, the_counter_sees_the_librarys_own_allocations,
# says so and fails). It runs natively and under both sanitizers above.
modules=$(find "$bin" -name '*_test-s*' -type f -perm -u+x -not -path '*sanitizer*' -not -name 'alloc_failure_test-*' | sort)
count=0
for m in $modules; do
    # fork_test's and lock_families_test's children end with the parent's threads' state allocated and no thread to free it
    # (a forked child has one thread): memcheck reports it as definitely lost in each child. There
    # leaks are shown but not counted as errors; every other error still is.
    leak_errors=definite
    case "$m" in *fork_test* | *lock_families_test*) leak_errors=none ;; esac
    LD_LIBRARY_PATH="$lib_dir" valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=$leak_errors \
        --show-leak-kinds=definite "$m" -- "${helpers[@]}" > "$work/vg.log" 2>&1 \
        || { echo "valgrind: $m"; grep -E 'error: in|fatal error|==[0-9]+== ' "$work/vg.log" | head -n 40 || true; tail -n 20 "$work/vg.log"; exit 1; }
    count=$((count + 1))
done
echo "$count modules clean under memcheck"

stage "libFuzzer: the record and template parsers, ${fuzz_seconds} s each"
for target in record template; do
    clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iinclude \
        "test/fuzz/${target}_fuzz.cpp" src/record.cpp src/posix/os_lock.cpp src/posix/lock_families.cpp src/error.cpp -o "$work/${target}_fuzz"
    mkdir -p "$work/corpus-$target"
    (cd "$work" && "./${target}_fuzz" -max_total_time="$fuzz_seconds" -timeout=5 -print_final_stats=1 \
        "corpus-$target" "$root/test/fuzz/corpus/$target" > "$work/fuzz.log" 2>&1) \
        || { tail -n 40 "$work/fuzz.log"; exit 1; }
    echo "$target: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$') inputs, no failure"
done

stage "done"
