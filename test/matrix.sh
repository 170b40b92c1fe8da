#!/usr/bin/env bash
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#
# The build configurations beyond the main one (issue 15), each building the library, the
# zc-lockfile command and the test suite, and running the suite: the Boost.Test modules, the
# examples and the compile checks of `b2 test` (test//modules), not its stress and benchmark runs,
# which the main configuration runs.
#
#   A  Boost 1.74 (Debian 12's and Ubuntu 22.04's default) with g++ and C++17
#   B  clang with C++20, the library and the command with -Wpedantic -Wshadow -Wconversion as
#      errors (strict-warnings=on, Jamroot)
#
# `test/matrix.sh --full` also runs the crossings: g++ with C++20, clang with C++17, and Boost
# 1.74 with clang and C++20 (not in CI, for time: README).
#
# Boost 1.74's -dev packages cannot be installed beside 1.81's: its packages are fetched with
# `apt-get download` and unpacked with `dpkg -x` into bin/boost-1.74 (kept for the next run),
# which `b2 boost=1.74` builds against. As root, missing Debian packages (clang) are installed.
# The builds go to bin/matrix, apart from the main configuration's, which the other stages find
# under bin/ by their paths.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/stage.sh
export DEBIAN_FRONTEND=noninteractive
full=false
[ "${1:-}" = --full ] && full=true
started=$(date +%s)

stage "tools"
if ! command -v clang++ > /dev/null; then
    if [ "$(id -u)" -ne 0 ]; then echo "clang++ is missing: apt-get install clang"; exit 1; fi
    apt-get install -y --no-install-recommends clang > /dev/null
fi
echo "$(g++ --version | head -n 1); $(clang++ --version | head -n 1)"

stage "Boost 1.74: fetching Debian 12's packages into bin/boost-1.74"
boost174=bin/boost-1.74
if [ -f "$boost174/.complete" ]; then
    echo "already unpacked"
else
    # The headers, and each library the build links (log, log_setup, unit_test_framework) with
    # the libraries they need: -dev packages for the links, runtime ones for the shared objects.
    components=(log thread filesystem system atomic chrono date-time regex test)
    packages=(libboost1.74-dev)
    for c in "${components[@]}"; do packages+=("libboost-${c}1.74-dev" "libboost-${c}1.74.0"); done
    rm -rf "$boost174" "$boost174.debs"
    mkdir -p "$boost174.debs"
    # As root apt runs the download as _apt, who cannot write under a 0700 parent: stay root.
    (cd "$boost174.debs" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "${packages[@]}" > /dev/null)
    for deb in "$boost174.debs"/*.deb; do dpkg -x "$deb" "$boost174"; done
    rm -rf "$boost174.debs"
    touch "$boost174/.complete"
fi
grep -m 1 '^#define BOOST_LIB_VERSION' "$boost174/usr/include/boost/version.hpp"
test/boost174_guard.sh

# The 1.74 headers come first on the include path, but /usr/include (1.81) is still searched after
# them: a Boost header that 1.74 lacks would be taken from 1.81 without a word. Every Boost header
# that a source of the library, the command, the tests, the examples or the benchmarks reaches
# must be 1.74's.
stage "Boost 1.74: no Boost header comes from /usr/include"
deps=$(mktemp)
find src tools test example bench -name '*.cpp' -not -path '*/windows/*' -not -name '*windows*' -not -name 'msvcrt_peer.cpp' -print0 |
    xargs -0 -n 8 -P 2 g++ -std=c++17 -M -MG -isystem "$boost174/usr/include" -Iinclude -Itest -DBOOST_LOG_DYN_LINK > "$deps"
boost_from_system=$(tr ' \\' '\n\n' < "$deps" | grep -E '^/usr/include/boost/' | sort -u || true)
rm -f "$deps"
if [ -n "$boost_from_system" ]; then
    echo "Boost 1.74 lacks headers the sources use; the build would take them from /usr/include:"
    echo "$boost_from_system"
    exit 1
fi
echo "none"

# One configuration: its name, then its b2 properties.
configuration() {
    local name=$1
    shift
    stage "$name: b2 test//modules $*"
    b2_summary --build-dir=bin/matrix "$@" test//modules
}
configuration "A: Boost 1.74, g++, C++17" boost=1.74
configuration "B: clang, C++20, strict warnings as errors" toolset=clang cxxstd=20 strict-warnings=on
if $full; then
    configuration "g++, C++20, strict warnings as errors" cxxstd=20 strict-warnings=on
    configuration "clang, C++17" toolset=clang
    configuration "Boost 1.74, clang, C++20" boost=1.74 toolset=clang cxxstd=20
fi

stage "done: $(( $(date +%s) - started )) s"
