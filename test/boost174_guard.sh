#!/usr/bin/env bash
# Copyright the zc_lockfile authors. Distributed under the Boost Software License, Version 1.0.
#
# `b2 boost=1.74` refuses a bin/boost-1.74 that holds Boost 1.74's headers but not its libraries
# (Jamroot): with the headers alone the build went through and linked the system's 1.81
# libraries. Checked on a copy of the build files, with a stub tree of headers only (b2 -n: nothing
# is built). test/matrix.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r Jamroot jamfile include src tools "$work"/
mkdir -p "$work/bin/boost-1.74/usr/include/boost" "$work/bin/boost-1.74/usr/lib/x86_64-linux-gnu"
touch "$work/bin/boost-1.74/usr/include/boost/version.hpp"
if out=$(cd "$work" && b2 -n boost=1.74 shared 2>&1); then
    echo "boost174_guard: b2 boost=1.74 accepted a Boost 1.74 without its libraries"
    exit 1
fi
grep -q "has the headers but not libboost_log.so" <<< "$out" || { echo "boost174_guard: unexpected b2 output:"; echo "$out" | tail -n 5; exit 1; }
# With the libraries there (empty stubs are enough for b2 -n), the guard lets the build through.
for name in boost_log boost_log_setup boost_unit_test_framework boost_thread boost_filesystem; do
    touch "$work/bin/boost-1.74/usr/lib/x86_64-linux-gnu/lib$name.so"
done
(cd "$work" && b2 -n boost=1.74 shared > /dev/null 2>&1) || { echo "boost174_guard: b2 boost=1.74 refused a complete tree"; exit 1; }
echo "boost174_guard: a Boost 1.74 without its libraries is refused"
